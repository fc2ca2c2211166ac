import CLinux
import Foundation
import Glibc
import HTTPServer

/// Runs `wrk` and reads its summary.
enum Wrk {
    struct Result {
        var requestsPerSecond: Double
        var p50Milliseconds: Double = .nan
        var p99Milliseconds: Double
    }

    /// - Parameter cpu: pins wrk to this core (`taskset -c`).
    static func run(url: String, seconds: Int, cpu: Int? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (cpu.map { ["taskset", "-c", String($0)] } ?? []) + ["wrk", "-t2", "-c64", "-d\(seconds)s", "--latency", url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var result = Result(requestsPerSecond: 0, p99Milliseconds: .nan)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.first == "Requests/sec:", fields.count > 1 { result.requestsPerSecond = Double(fields[1]) ?? 0 }
            if fields.first == "50%", fields.count > 1 { result.p50Milliseconds = milliseconds(String(fields[1])) }
            if fields.first == "99%", fields.count > 1 { result.p99Milliseconds = milliseconds(String(fields[1])) }
            if line.contains("Socket errors") || line.contains("Non-2xx") { print("  wrk: \(line)") }
        }
        return result
    }

    /// wrk prints `812.00us`, `1.23ms` or `1.01s`.
    static func milliseconds(_ text: String) -> Double {
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? .nan) / 1000 }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? .nan }
        if text.hasSuffix("s") { return (Double(text.dropLast(1)) ?? .nan) * 1000 }
        return .nan
    }
}

/// Compiles and runs `Benchmarks/peer/bare_epoll.c`.
final class BareEpollPeer {
    let process: Process
    let port: Int

    static func start() throws -> BareEpollPeer {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peer/bare_epoll.c").path
        let binary = NSTemporaryDirectory() + "argus_bare_epoll_\(getpid())"
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-O2", "-pthread", "-o", binary, source]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else { throw BenchmarkError("cc failed on \(source)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["0"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        guard let line = output.fileHandleForReading.readLine(), line.hasPrefix("port "),
              let port = Int(line.dropFirst(5)) else { throw BenchmarkError("bare_epoll did not report its port") }
        return BareEpollPeer(process: process, port: port)
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Blocking TCP helpers for the benchmark clients.
enum BenchmarkSocket {
    static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            Glibc.close(fd)
            return -1
        }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the bytes end with `\r\n\r\n` plus `bodyBytes` more (enough for our fixed responses).
    static func readHead(_ fd: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
            if received.count >= 4 && received.suffix(4) == [13, 10, 13, 10] { break }
            if let text = String(validating: received, as: UTF8.self), text.contains("\r\n\r\n"), text.hasSuffix("}") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}

/// The child process that holds idle connections (the file-descriptor limit is per process).
enum IdleClients {
    static func run(port: Int, count: Int) throws {
        var descriptors: [Int32] = []
        for _ in 0..<count {
            let fd = BenchmarkSocket.connect(port: port)
            guard fd >= 0 else { break }
            BenchmarkSocket.send(fd, "GET /health HTTP/1.1\r\nHost: bench\r\n\r\n")
            descriptors.append(fd)
        }
        var answered = 0
        for fd in descriptors where BenchmarkSocket.readHead(fd).hasPrefix("HTTP/1.1 200") { answered += 1 }
        FileHandle.standardOutput.write(Data("\(descriptors.count) connections opened, \(answered) answered\n".utf8))
        _ = FileHandle.standardInput.readDataToEndOfFile()
        for fd in descriptors { Glibc.close(fd) }
    }
}

/// 1,000 WebSocket clients subscribed to one channel; times a 1 KiB broadcast until the last
/// client has the whole frame.
enum WebSocketFanOut {
    static func run(hub: WebSocketHub, port: Int, clients: Int, rounds: Int) throws {
        var descriptors: [Int32] = []
        for _ in 0..<clients {
            let fd = BenchmarkSocket.connect(port: port)
            guard fd >= 0 else { throw BenchmarkError("connect failed after \(descriptors.count) clients") }
            BenchmarkSocket.send(fd, "GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            guard BenchmarkSocket.readHead(fd).hasPrefix("HTTP/1.1 101") else { throw BenchmarkError("upgrade refused") }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            descriptors.append(fd)
        }
        while hub.subscriberCount(of: "bench") < clients { usleep(1000) }
        let epoll = epoll_create1(0)
        for (index, fd) in descriptors.enumerated() {
            _ = argus_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue, UInt64(index))
        }
        let message = String(repeating: "m", count: 1024)
        let frameBytes = 1024 + 4
        var timings: [Double] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let events = argus_epoll_events_alloc(1024)
        defer { argus_epoll_events_free(events) }
        for _ in 0..<rounds {
            var remaining = [Int](repeating: frameBytes, count: clients)
            var done = 0
            let start = DispatchTime.now().uptimeNanoseconds
            hub.broadcast(text: message, to: "bench")
            while done < clients {
                let count = epoll_wait(epoll, events, 1024, 5000)
                if count <= 0 { throw BenchmarkError("broadcast stalled with \(clients - done) clients waiting") }
                for slot in 0..<Int(count) {
                    let index = Int(argus_epoll_event_data(events, Int32(slot)))
                    while remaining[index] > 0 {
                        let got = recv(descriptors[index], &buffer, min(buffer.count, remaining[index]), 0)
                        if got <= 0 { break }
                        remaining[index] -= got
                        if remaining[index] == 0 { done += 1 }
                    }
                }
            }
            timings.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        }
        timings.sort()
        print("")
        print("WebSocket broadcast of 1 KiB to \(clients) clients, \(rounds) rounds (until the last client has it)")
        print(String(format: "  median %.2f ms, best %.2f ms, worst %.2f ms", timings[timings.count / 2], timings[0],
                     timings[timings.count - 1]))
        Glibc.close(epoll)
        for fd in descriptors { Glibc.close(fd) }
    }
}
