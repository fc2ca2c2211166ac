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
        /// A loop of requests whose header section passes 64 KiB (431).
        case oversizedHeads
        /// A loop of bodies past 2 MiB: half declared by Content-Length (413 at the head), half chunked
        /// (the server reads 2 MiB before it can say 413).
        case oversizedBodies
        /// `count` WebSocket clients on the hub's channel. Never-readers (`reads: false`) upgrade, never
        /// read, and ping every 100 ms; a ping that fails means the server dropped the client, which then
        /// reconnects. Readers drain everything (the same fan-out, for comparison). `smallReceiveBuffer`
        /// sets SO_RCVBUF to 4 KiB, so the kernel holds little on the client side.
        case webSocket(count: Int, reads: Bool, smallReceiveBuffer: Bool)
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
            case .oversizedHeads: attacker.oversizedHeads(port: port)
            case .oversizedBodies: attacker.oversizedBodies(port: port)
            case .webSocket(let count, let reads, let small):
                attacker.webSocketClients(port: port, count: count, reads: reads, smallReceiveBuffer: small)
            }
            attacker.finished.store(true, ordering: .releasing)
        }
        return attacker
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
    }

    private var running: Bool { !stopped.load(ordering: .relaxed) }

    private func open(port: Int) -> Int32 {
        let fd = BenchmarkSocket.connect(port: port)
        if fd >= 0 { opened.wrappingAdd(1, ordering: .relaxed) }
        return fd
    }

    private func openHalfSent(port: Int) -> Int32 {
        let fd = open(port: port)
        if fd >= 0 { BenchmarkSocket.send(fd, "GET /health HTTP/1.1\r\nHost: bench\r\nX-Slow: ") }
        return fd
    }

    private func slowloris(port: Int, count: Int) {
        var descriptors = (0..<count).map { _ in openHalfSent(port: port) }
        while running {
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
        while running {
            let fd = index % 2 == 0 ? openHalfSent(port: port) : open(port: port)
            if fd >= 0 {
                if index % 4 < 2 { Self.resetOnClose(fd) }
                close(fd)
            }
            index += 1
        }
    }

    private static func resetOnClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Sends `request`, waits for the status line (or the close), and closes.
    private func sendAndAwaitAnswer(port: Int, _ parts: [[UInt8]]) {
        let fd = open(port: port)
        guard fd >= 0 else { return }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        for part in parts {
            let sent = part.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < part.count { break }   // the server answered and shut its side: stop sending
        }
        var status = [UInt8](repeating: 0, count: 64)
        _ = recv(fd, &status, status.count, 0)
        close(fd)
    }

    private func oversizedHeads(port: Int) {
        let head = Array(("GET /health HTTP/1.1\r\nHost: bench\r\n"
                          + (0..<10).map { "X-Big-\($0): \(String(repeating: "h", count: 7_000))\r\n" }.joined() + "\r\n").utf8)
        while running { sendAndAwaitAnswer(port: port, [head]) }
    }

    private func oversizedBodies(port: Int) {
        let declared = Array("POST /health HTTP/1.1\r\nHost: bench\r\nContent-Length: 3145728\r\n\r\n".utf8)
        let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x62, count: 0x10000) + Array("\r\n".utf8)
        let chunkedHead = Array("POST /health HTTP/1.1\r\nHost: bench\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var index = 0
        while running {
            if index % 2 == 0 {
                sendAndAwaitAnswer(port: port, [declared, [UInt8](repeating: 0x62, count: 65_536)])
            } else {
                sendAndAwaitAnswer(port: port, [chunkedHead] + Array(repeating: chunk, count: 40))   // 2.5 MiB
            }
            index += 1
        }
    }

    private func openWebSocket(port: Int, smallReceiveBuffer: Bool) -> Int32 {
        let fd = open(port: port)
        guard fd >= 0 else { return fd }
        if smallReceiveBuffer {
            var small: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, 4)
        }
        BenchmarkSocket.send(fd, "GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return fd
    }

    private func webSocketClients(port: Int, count: Int, reads: Bool, smallReceiveBuffer: Bool) {
        var descriptors = (0..<count).map { _ in openWebSocket(port: port, smallReceiveBuffer: smallReceiveBuffer) }
        let ping: [UInt8] = [0x89, 0x80, 1, 2, 3, 4]   // masked, empty
        var buffer = [UInt8](repeating: 0, count: 65536)
        var lastPing: UInt64 = 0
        while running {
            let now = DispatchTime.now().uptimeNanoseconds
            let pingNow = !reads && now - lastPing > 100_000_000
            if pingNow { lastPing = now }
            for index in descriptors.indices {
                var alive = descriptors[index] >= 0
                if alive && reads {
                    while true {
                        let got = recv(descriptors[index], &buffer, buffer.count, Int32(MSG_DONTWAIT))
                        if got > 0 { continue }
                        alive = got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                        break
                    }
                } else if alive && pingNow {
                    let sent = ping.withUnsafeBytes { Glibc.send(descriptors[index], $0.baseAddress, 6, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                    alive = sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK
                }
                if !alive {
                    if descriptors[index] >= 0 { close(descriptors[index]) }
                    descriptors[index] = openWebSocket(port: port, smallReceiveBuffer: smallReceiveBuffer)
                }
            }
            usleep(reads ? 1_000 : 20_000)
        }
        for fd in descriptors where fd >= 0 { close(fd) }
    }
}

/// An attacker in a child process (`Benchmarks http attack <kind> <port>`), so it can be pinned to a
/// core apart from the server (`taskset`) and aimed at a peer server. It stops when its stdin closes.
final class AttackerProcess {
    let process: Process
    private let input = Pipe(), output = Pipe()

    init(kind: String, port: Int, cpu: Int? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: cpu == nil ? CommandLine.arguments[0] : "/usr/bin/taskset")
        process.arguments = (cpu.map { ["-c", String($0), CommandLine.arguments[0]] } ?? []) + ["http", "attack", kind, String(port)]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Stops the attacker and returns how many connections it opened.
    func stop() -> Int {
        try? input.fileHandleForWriting.close()
        let line = output.fileHandleForReading.readLine()
        process.waitUntilExit()
        return Int(line ?? "") ?? 0
    }

    /// The child's side.
    static func runChild(kind: String, port: Int) {
        let attacker = Attacker.start(kind == "churn" ? .churn : .slowloris(count: 200), port: port)
        _ = FileHandle.standardInput.readDataToEndOfFile()
        attacker.stop()
        print(attacker.opened.load(ordering: .relaxed))
    }
}
