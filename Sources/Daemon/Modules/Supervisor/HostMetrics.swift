import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// This machine's CPU, memory, disk and network use, read from `/proc` and `statvfs` (the resources and
/// monitoring endpoints report the host argusd runs on). CPU is the busy share since the previous call.
final class HostMetrics: Sendable {
    struct Sample: Sendable {
        var cpu: Double
        var memory: Double
        var disk: Double
        var networkBytes: Double
        var cores: Int
        var memoryTotalMB: Double
    }

    private let previousCPU = Mutex<(busy: Double, total: Double)?>(nil)

    func sample(diskPath: String) -> Sample {
        Sample(cpu: cpuPercent(), memory: memoryPercent().0, disk: diskPercent(diskPath), networkBytes: networkBytes(),
               cores: ProcessInfo.processInfo.activeProcessorCount, memoryTotalMB: memoryPercent().1)
    }

    private func cpuPercent() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return 0 }
        let idle = values[3] + values[4], total = values.reduce(0, +)
        let busy = total - idle
        return previousCPU.withLock { previous in
            defer { previous = (busy, total) }
            let (b0, t0) = previous ?? (0, 0)
            let dt = total - t0
            return dt > 0 ? min(100, max(0, (busy - b0) / dt * 100)) : 0
        }
    }

    private func memoryPercent() -> (Double, Double) {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } }
        }
        guard let total = field("MemTotal"), let available = field("MemAvailable"), total > 0 else { return (0, 0) }
        return ((total - available) / total * 100, total / 1024)
    }

    private func diskPercent(_ path: String) -> Double {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0, stats.f_blocks > 0 else { return 0 }
        return (1 - Double(stats.f_bavail) / Double(stats.f_blocks)) * 100
    }

    private func networkBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8) else { return 0 }
        var sum = 0.0
        for line in text.split(separator: "\n").dropFirst(2) {
            let parts = line.split(separator: ":")
            guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).hasPrefix("lo") else { continue }
            let numbers = parts[1].split(separator: " ").compactMap { Double($0) }
            if numbers.count >= 9 { sum += numbers[0] + numbers[8] }
        }
        return sum
    }
}
