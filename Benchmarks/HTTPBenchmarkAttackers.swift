import Foundation
import Glibc
import Synchronization

/// Hostile clients run on a background thread while wrk measures GET /health (issue 15).
final class Attacker: Sendable {
    enum Kind: Sendable {
        /// Holds `count` connections with half-sent heads; reopens any the server times out.
        case slowloris(count: Int)
        /// Opens and drops connections in a loop: some half-sent, some closed with RST.
        case churn
    }

    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    /// Connections the attacker opened in total.
    let opened = Atomic<Int>(0)

    static func start(_ kind: Kind, port: Int) -> Attacker {
        let attacker = Attacker()
        Thread.detachNewThread {
            switch kind {
            case .slowloris(let count): attacker.slowloris(port: port, count: count)
            case .churn: attacker.churn(port: port)
            }
            attacker.finished.store(true, ordering: .releasing)
        }
        return attacker
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
    }

    private func openHalfSent(port: Int) -> Int32 {
        let fd = BenchmarkSocket.connect(port: port)
        if fd >= 0 {
            BenchmarkSocket.send(fd, "GET /health HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
            opened.wrappingAdd(1, ordering: .relaxed)
        }
        return fd
    }

    private func slowloris(port: Int, count: Int) {
        var descriptors = (0..<count).map { _ in openHalfSent(port: port) }
        while !stopped.load(ordering: .relaxed) {
            for index in descriptors.indices {
                var entry = pollfd(fd: descriptors[index], events: Int16(POLLIN), revents: 0)
                // Readable means the server answered 408 or closed: replace the connection.
                if descriptors[index] < 0 || poll(&entry, 1, 0) > 0 {
                    if descriptors[index] >= 0 { close(descriptors[index]) }
                    descriptors[index] = openHalfSent(port: port)
                }
            }
            usleep(50_000)
        }
        for fd in descriptors where fd >= 0 { close(fd) }
    }

    private func churn(port: Int) {
        var index = 0
        while !stopped.load(ordering: .relaxed) {
            let fd = index % 2 == 0 ? openHalfSent(port: port) : BenchmarkSocket.connect(port: port)
            if fd >= 0 {
                if index % 2 == 1 { opened.wrappingAdd(1, ordering: .relaxed) }
                if index % 4 < 2 {
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                }
                close(fd)
            }
            index += 1
        }
    }
}
