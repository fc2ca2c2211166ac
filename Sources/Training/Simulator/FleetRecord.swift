import TFTCore

/// One feed record: the 16 fields of `POST /feed/data` (spec/argus-api.md) plus `status` and `profile`.
/// Coded with the feed's snake_case names.
public struct FleetRecord: Sendable, Equatable, Codable {
    /// `YYYY-MM-DDTHH:MM:SS`, UTC, no zone.
    public var timestamp: String
    public var serverName: String
    public var status: ServerStatus
    public var profile: ServerProfile
    public var cpuUserPct: Double
    public var cpuSysPct: Double
    public var cpuIowaitPct: Double
    public var cpuIdlePct: Double
    public var javaCpuPct: Double
    public var memUsedPct: Double
    public var swapUsedPct: Double
    public var diskUsagePct: Double
    public var netInMBs: Double
    public var netOutMBs: Double
    public var backCloseWait: Int
    public var frontCloseWait: Int
    public var loadAverage: Double
    public var uptimeDays: Int

    public init(timestamp: String, serverName: String, status: ServerStatus, profile: ServerProfile,
                cpuUserPct: Double, cpuSysPct: Double, cpuIowaitPct: Double, cpuIdlePct: Double, javaCpuPct: Double,
                memUsedPct: Double, swapUsedPct: Double, diskUsagePct: Double, netInMBs: Double, netOutMBs: Double,
                backCloseWait: Int, frontCloseWait: Int, loadAverage: Double, uptimeDays: Int) {
        self.timestamp = timestamp
        self.serverName = serverName
        self.status = status
        self.profile = profile
        self.cpuUserPct = cpuUserPct
        self.cpuSysPct = cpuSysPct
        self.cpuIowaitPct = cpuIowaitPct
        self.cpuIdlePct = cpuIdlePct
        self.javaCpuPct = javaCpuPct
        self.memUsedPct = memUsedPct
        self.swapUsedPct = swapUsedPct
        self.diskUsagePct = diskUsagePct
        self.netInMBs = netInMBs
        self.netOutMBs = netOutMBs
        self.backCloseWait = backCloseWait
        self.frontCloseWait = frontCloseWait
        self.loadAverage = loadAverage
        self.uptimeDays = uptimeDays
    }

    enum CodingKeys: String, CodingKey {
        case timestamp
        case serverName = "server_name"
        case status, profile
        case cpuUserPct = "cpu_user_pct"
        case cpuSysPct = "cpu_sys_pct"
        case cpuIowaitPct = "cpu_iowait_pct"
        case cpuIdlePct = "cpu_idle_pct"
        case javaCpuPct = "java_cpu_pct"
        case memUsedPct = "mem_used_pct"
        case swapUsedPct = "swap_used_pct"
        case diskUsagePct = "disk_usage_pct"
        case netInMBs = "net_in_mb_s"
        case netOutMBs = "net_out_mb_s"
        case backCloseWait = "back_close_wait"
        case frontCloseWait = "front_close_wait"
        case loadAverage = "load_average"
        case uptimeDays = "uptime_days"
    }

    /// The 16 feed fields of the spec, in its order (the CSV writer adds `status` and `profile`).
    public static let feedFields: [String] = [
        "timestamp", "server_name", "cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct",
        "java_cpu_pct", "mem_used_pct", "swap_used_pct", "disk_usage_pct", "net_in_mb_s", "net_out_mb_s",
        "back_close_wait", "front_close_wait", "load_average", "uptime_days",
    ]

    /// CPU busy, 100 − idle.
    public var cpuBusyPct: Double { 100 - cpuIdlePct }

    /// The value a ``ThresholdMetric`` grades (load per core uses the profile's nominal cores).
    public func value(of metric: ThresholdMetric) -> Double {
        switch metric {
        case .cpu: cpuBusyPct
        case .memory: memUsedPct
        case .iowait: cpuIowaitPct
        case .swap: swapUsedPct
        case .disk: diskUsagePct
        case .loadPerCore: loadAverage / Double(profile.nominalCores)
        }
    }
}

/// All records of one step, one per server (offline servers may be omitted, see
/// ``FleetSimulatorConfig/emitOfflineRecords``).
public struct FleetTick: Sendable {
    /// Step index from the start of the simulation (0-based).
    public let index: Int
    /// Unix seconds (UTC) of the step.
    public let epochSeconds: Int64
    /// `YYYY-MM-DDTHH:MM:SS`.
    public let timestamp: String
    public let records: [FleetRecord]
}
