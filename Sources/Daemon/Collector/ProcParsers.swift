import Foundation

/// Pure parsers of the /proc files the collector reads. Each takes the file's text and returns numbers,
/// so tests feed them fixture text; none touches the machine. Field layouts: proc(5).
public enum ProcParsers {
    /// Aggregate CPU jiffies of `/proc/stat`'s `cpu` line, grouped as the feed wants them.
    public struct CPUTimes: Sendable, Equatable {
        /// user + nice
        public var user: UInt64
        /// system + irq + softirq + steal (time the guest could not run counts as busy, like record_proc.py)
        public var system: UInt64
        public var iowait: UInt64
        public var idle: UInt64
        public var total: UInt64 { user + system + iowait + idle }
    }

    public static func cpuTimes(procStat text: String) -> CPUTimes? {
        for line in text.split(separator: "\n") where line.hasPrefix("cpu ") {
            var v = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            guard v.count >= 4 else { return nil }
            while v.count < 8 { v.append(0) }
            // user nice system idle iowait irq softirq steal [guest guest_nice — already inside user/nice]
            return CPUTimes(user: v[0] + v[1], system: v[2] + v[5] + v[6] + v[7], iowait: v[4], idle: v[3])
        }
        return nil
    }

    /// `mem_used_pct` = 100·(MemTotal − MemAvailable)/MemTotal and `swap_used_pct` = 100·(SwapTotal −
    /// SwapFree)/SwapTotal (0 without swap), from `/proc/meminfo`. Kernels before 3.14 have no
    /// MemAvailable: MemFree + Buffers + Cached stands in.
    public static func memory(meminfo text: String) -> (memUsedPct: Double, swapUsedPct: Double)? {
        var kb: [Substring: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if let value = line[line.index(after: colon)...].split(separator: " ").first.flatMap({ Double($0) }) {
                kb[line[..<colon]] = value
            }
        }
        guard let total = kb["MemTotal"], total > 0 else { return nil }
        let available = kb["MemAvailable"] ?? ((kb["MemFree"] ?? 0) + (kb["Buffers"] ?? 0) + (kb["Cached"] ?? 0))
        let swapTotal = kb["SwapTotal"] ?? 0
        let swap = swapTotal > 0 ? 100 * (swapTotal - (kb["SwapFree"] ?? swapTotal)) / swapTotal : 0
        return (clampPercent(100 * (total - available) / total), clampPercent(swap))
    }

    /// Received and transmitted bytes over every interface but `lo`, from `/proc/net/dev`.
    public static func networkBytes(netDev text: String) -> (received: UInt64, transmitted: UInt64) {
        var rx: UInt64 = 0, tx: UInt64 = 0
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }   // the two header lines have none
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            if name == "lo" { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ")
            guard fields.count >= 9, let r = UInt64(fields[0]), let t = UInt64(fields[8]) else { continue }
            rx &+= r
            tx &+= t
        }
        return (rx, tx)
    }

    /// The 1-minute load average (`/proc/loadavg`'s first field).
    public static func loadAverage(loadavg text: String) -> Double? {
        text.split(separator: " ").first.flatMap { Double($0) }
    }

    /// Seconds since boot (`/proc/uptime`'s first field).
    public static func uptimeSeconds(uptime text: String) -> Double? {
        text.split(separator: " ").first.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// TCP sockets in CLOSE_WAIT from `/proc/net/tcp` and `/proc/net/tcp6`, split by who we are on them:
    /// `front` = the local port is one we LISTEN on (a client of ours closed and we have not), `back` = any
    /// other local port (a backend we connected to closed and we have not).
    public static func closeWait(tcpTables texts: [String]) -> (front: Int, back: Int) {
        var listening: Set<Substring> = []
        var closeWaitPorts: [Substring] = []
        for text in texts {
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 3, let colon = fields[1].lastIndex(of: ":") else { continue }
                let port = fields[1][fields[1].index(after: colon)...]
                switch fields[3] {
                case "0A": listening.insert(port)          // TCP_LISTEN
                case "08": closeWaitPorts.append(port)     // TCP_CLOSE_WAIT
                default: break
                }
            }
        }
        let front = closeWaitPorts.filter { listening.contains($0) }.count
        return (front, closeWaitPorts.count - front)
    }

    /// Command name and utime + stime (jiffies) of one `/proc/<pid>/stat`. The name is in parentheses and
    /// may itself contain spaces and parentheses, so the fields are counted after the LAST `)`.
    public static func processCPU(stat text: String) -> (command: String, jiffies: UInt64)? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the name: state(3) … utime(14) stime(15), 1-based in proc(5) → indices 11 and 12 here.
        guard fields.count > 12, let utime = UInt64(fields[11]), let stime = UInt64(fields[12]) else { return nil }
        return (command, utime + stime)
    }

    static func clampPercent(_ value: Double) -> Double { min(100, max(0, value)) }
}
