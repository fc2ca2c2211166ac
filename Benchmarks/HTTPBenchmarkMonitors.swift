import Foundation
import Glibc
import HTTPServer
import Synchronization

/// Broadcasts 16 KiB to the hub's "bench" channel every 10 ms on a background thread.
final class Broadcaster: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    let rounds = Atomic<Int>(0)

    static func start(hub: WebSocketHub) -> Broadcaster {
        let broadcaster = Broadcaster()
        Thread.detachNewThread {
            let message = String(repeating: "b", count: 16 * 1024)
            while !broadcaster.stopped.load(ordering: .relaxed) {
                hub.broadcast(text: message, to: "bench")
                broadcaster.rounds.wrappingAdd(1, ordering: .relaxed)
                usleep(10_000)
            }
            broadcaster.finished.store(true, ordering: .releasing)
        }
        return broadcaster
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
    }
}

/// Samples this process's RSS every 100 ms and keeps the peak.
final class PeakRSS: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let peak = Atomic<Int>(0)

    static func start() -> PeakRSS {
        let monitor = PeakRSS()
        Thread.detachNewThread {
            while !monitor.stopped.load(ordering: .relaxed) {
                let now = HTTPBenchmark.residentKilobytes()
                if now > monitor.peak.load(ordering: .relaxed) { monitor.peak.store(now, ordering: .relaxed) }
                usleep(100_000)
            }
            monitor.finished.store(true, ordering: .releasing)
        }
        return monitor
    }

    /// Stops sampling; the peak in KiB.
    func stop() -> Int {
        stopped.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
        return peak.load(ordering: .relaxed)
    }
}
