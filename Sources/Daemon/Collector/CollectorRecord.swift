import Foundation

/// One feed record as the collector sends it (the fields of `POST /feed/data`, spec/argus-api.md).
public struct CollectorRecord: Sendable, Equatable {
    public var serverName: String
    /// Step start, epoch seconds (a multiple of the collector's interval).
    public var timestamp: Int64
    public var status: String
    public var cpuUserPct = 0.0, cpuSysPct = 0.0, cpuIowaitPct = 0.0, cpuIdlePct = 100.0, javaCPUPct = 0.0
    public var memUsedPct = 0.0, swapUsedPct = 0.0, diskUsagePct = 0.0
    public var netInMBs = 0.0, netOutMBs = 0.0
    public var backCloseWait = 0, frontCloseWait = 0
    public var loadAverage = 0.0
    public var uptimeDays = 0

    public init(serverName: String, timestamp: Int64, status: String = "healthy") {
        self.serverName = serverName
        self.timestamp = timestamp
        self.status = status
    }

    /// The record for the interval between two readings (docs/collector.md has the derivations):
    /// CPU shares and Java's share from jiffy deltas, network rates from byte deltas over the elapsed
    /// monotonic time, everything else from the newer reading.
    public static func derive(from previous: ProcSample, to current: ProcSample, serverName: String, timestamp: Int64,
                              status: String = "healthy") -> CollectorRecord {
        var r = CollectorRecord(serverName: serverName, timestamp: timestamp, status: status)
        func delta(_ a: UInt64, _ b: UInt64) -> Double { b >= a ? Double(b - a) : 0 }   // counters only grow; a reset reads as 0
        let total = delta(previous.cpu.total, current.cpu.total)
        if total > 0 {
            r.cpuUserPct = round2(100 * delta(previous.cpu.user, current.cpu.user) / total)
            r.cpuSysPct = round2(100 * delta(previous.cpu.system, current.cpu.system) / total)
            r.cpuIowaitPct = round2(100 * delta(previous.cpu.iowait, current.cpu.iowait) / total)
            r.cpuIdlePct = max(0, round2(100 - r.cpuUserPct - r.cpuSysPct - r.cpuIowaitPct))
            // Java: jiffies gained by java processes alive in both readings, plus all jiffies of those started since.
            var java = 0.0
            for (pid, jiffies) in current.javaJiffies { java += delta(previous.javaJiffies[pid] ?? 0, jiffies) }
            r.javaCPUPct = ProcParsers.clampPercent(round2(100 * java / total))
        }
        let seconds = current.monotonicSeconds - previous.monotonicSeconds
        if seconds > 0 {
            r.netInMBs = round3(delta(previous.networkReceived, current.networkReceived) / seconds / 1e6)
            r.netOutMBs = round3(delta(previous.networkTransmitted, current.networkTransmitted) / seconds / 1e6)
        }
        r.memUsedPct = round2(current.memUsedPct)
        r.swapUsedPct = round2(current.swapUsedPct)
        r.diskUsagePct = round2(current.diskUsagePct)
        r.loadAverage = round2(current.loadAverage)
        r.frontCloseWait = current.frontCloseWait
        r.backCloseWait = current.backCloseWait
        r.uptimeDays = min(365, max(0, Int(current.uptimeSeconds / 86_400)))   // the spec's range is 0-365
        return r
    }

    /// The record as a JSON object, keys in the spec's order.
    public var json: [UInt8] {
        var w = JSONWriter(capacity: 420)
        w.raw("{\"timestamp\":"); w.string(ISO8601Timestamp.format(timestamp))
        w.raw(",\"server_name\":"); w.string(serverName)
        w.raw(",\"status\":"); w.string(status)
        for (key, value): (StaticString, Double) in [
            (",\"cpu_user_pct\":", cpuUserPct), (",\"cpu_sys_pct\":", cpuSysPct), (",\"cpu_iowait_pct\":", cpuIowaitPct),
            (",\"cpu_idle_pct\":", cpuIdlePct), (",\"java_cpu_pct\":", javaCPUPct), (",\"mem_used_pct\":", memUsedPct),
            (",\"swap_used_pct\":", swapUsedPct), (",\"disk_usage_pct\":", diskUsagePct), (",\"net_in_mb_s\":", netInMBs),
            (",\"net_out_mb_s\":", netOutMBs),
        ] { w.raw(key); w.number(value, decimals: 3) }
        w.raw(",\"back_close_wait\":"); w.int(backCloseWait)
        w.raw(",\"front_close_wait\":"); w.int(frontCloseWait)
        w.raw(",\"load_average\":"); w.number(loadAverage, decimals: 2)
        w.raw(",\"uptime_days\":"); w.int(uptimeDays)
        w.byte(UInt8(ascii: "}"))
        return w.bytes
    }

    static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
    static func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
}
