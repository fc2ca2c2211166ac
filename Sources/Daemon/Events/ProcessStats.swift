import Foundation

/// This process's resident memory and CPU time, read from `/proc/self` (Linux). nil fields where the
/// file is unreadable (another OS).
public struct ProcessStats: Sendable, Equatable {
    /// Resident set size in bytes (`VmRSS`).
    public var residentBytes: Int?
    /// Peak resident set size in bytes (`VmHWM`).
    public var peakResidentBytes: Int?
    /// User + system CPU seconds since the process started (`/proc/self/stat` utime + stime).
    public var cpuSeconds: Double?
    public var threads: Int?
    public var openFileDescriptors: Int?

    public static func read() -> ProcessStats {
        var stats = ProcessStats()
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count >= 2, let value = Int(parts[1]) else { continue }
                switch parts[0] {
                case "VmRSS:": stats.residentBytes = value * 1024
                case "VmHWM:": stats.peakResidentBytes = value * 1024
                case "Threads:": stats.threads = value
                default: break
                }
            }
        }
        // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (1-based).
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) {
                stats.cpuSeconds = (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        stats.openFileDescriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count
        return stats
    }
}
