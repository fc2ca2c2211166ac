import Foundation

/// The raw counters and gauges of one reading of /proc. Rates need two readings: see ``CollectorRecord/derive``.
public struct ProcSample: Sendable, Equatable {
    /// Monotonic seconds at the reading (for rates).
    public var monotonicSeconds: Double
    public var cpu: ProcParsers.CPUTimes
    /// utime + stime jiffies per java process id.
    public var javaJiffies: [Int: UInt64]
    public var networkReceived: UInt64
    public var networkTransmitted: UInt64
    public var memUsedPct: Double
    public var swapUsedPct: Double
    public var diskUsagePct: Double
    public var loadAverage: Double
    public var uptimeSeconds: Double
    public var frontCloseWait: Int
    public var backCloseWait: Int
}

/// Reads a ``ProcSample`` from a /proc tree. `root` is `/` on a real machine; tests point it at a folder
/// of fixture files laid out like `/proc`.
public struct ProcReader: Sendable {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    public var root: URL
    /// The filesystem whose usage is `disk_usage_pct` (statvfs).
    public var diskPath: String
    /// Process names (`/proc/<pid>/stat`'s command, at most 15 characters) counted as Java.
    public var javaCommands: Set<String> = ["java"]

    public init(root: URL = URL(fileURLWithPath: "/"), diskPath: String = "/") {
        self.root = root
        self.diskPath = diskPath
    }

    func text(_ relative: String) throws -> String {
        do { return try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8) }
        catch { throw Failure(description: "cannot read \(root.appendingPathComponent(relative).path): \(error.localizedDescription)") }
    }

    public func read(monotonicSeconds: Double = ProcReader.monotonicNow()) throws -> ProcSample {
        guard let cpu = ProcParsers.cpuTimes(procStat: try text("proc/stat")) else { throw Failure(description: "no cpu line in proc/stat") }
        guard let memory = ProcParsers.memory(meminfo: try text("proc/meminfo")) else { throw Failure(description: "no MemTotal in proc/meminfo") }
        let net = ProcParsers.networkBytes(netDev: try text("proc/net/dev"))
        guard let load = ProcParsers.loadAverage(loadavg: try text("proc/loadavg")) else { throw Failure(description: "unreadable proc/loadavg") }
        guard let uptime = ProcParsers.uptimeSeconds(uptime: try text("proc/uptime")) else { throw Failure(description: "unreadable proc/uptime") }
        // tcp6 is absent on kernels without IPv6.
        let tables = ["proc/net/tcp", "proc/net/tcp6"].compactMap { try? text($0) }
        let closeWait = ProcParsers.closeWait(tcpTables: tables)
        return ProcSample(monotonicSeconds: monotonicSeconds, cpu: cpu, javaJiffies: javaJiffies(), networkReceived: net.received,
                          networkTransmitted: net.transmitted, memUsedPct: memory.memUsedPct, swapUsedPct: memory.swapUsedPct,
                          diskUsagePct: Self.diskUsagePercent(path: diskPath) ?? 0, loadAverage: load, uptimeSeconds: uptime,
                          frontCloseWait: closeWait.front, backCloseWait: closeWait.back)
    }

    /// utime + stime of every process whose command is in ``javaCommands`` (processes may vanish mid-scan).
    func javaJiffies() -> [Int: UInt64] {
        let proc = root.appendingPathComponent("proc")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: proc.path) else { return [:] }
        var result: [Int: UInt64] = [:]
        for entry in entries {
            guard let pid = Int(entry),
                  let stat = try? String(contentsOf: proc.appendingPathComponent("\(entry)/stat"), encoding: .utf8),
                  let parsed = ProcParsers.processCPU(stat: stat), javaCommands.contains(parsed.command) else { continue }
            result[pid] = parsed.jiffies
        }
        return result
    }

    /// used / (used + available) as `df` prints it (reserved blocks count as neither).
    public static func diskUsagePercent(path: String) -> Double? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        let used = Double(s.f_blocks - s.f_bfree) * Double(s.f_frsize)
        let available = Double(s.f_bavail) * Double(s.f_frsize)
        return used + available > 0 ? ProcParsers.clampPercent(100 * used / (used + available)) : 0
    }

    public static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
