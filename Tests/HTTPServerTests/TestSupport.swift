import Foundation
import Glibc
import Synchronization
import Testing
@testable import HTTPServer

/// Loops and workers shared by every test server, so parallel tests do not start hundreds of threads.
enum Shared {
    static let group = try! EventLoopGroup(loopCount: 2)
    static let pool = WorkerPool(threadCount: 8)
}

/// Captures log lines for assertions.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test", minimumLevel: .debug, sink: Logger.Sink { [self] bytes in
            self.lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) }
        })
    }

    var all: [String] { lines.withLock { $0 } }
}

/// A server on 127.0.0.1 with an ephemeral port, on the shared loops.
final class TestServer: Sendable {
    let server: HTTPServer
    let port: Int
    let logs = LogCapture()

    init(router: some HTTPResponder, configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.logger = logs.logger
        configure(&configuration)
        server = try HTTPServer(configuration: configuration, responder: router, eventLoopGroup: Shared.group,
                                workerPool: Shared.pool)
        try server.start()
        port = server.port!
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() { server.shutdown(gracePeriod: .seconds(5)) }
}

/// A blocking TCP client that speaks raw bytes, for tests that need exact control of the wire. Reads give up
/// after `receiveTimeoutSeconds` (a liveness limit: no test waits for it to expire).
final class RawClient {
    let fd: Int32

    init(port: Int, receiveTimeoutSeconds: Int = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SocketError(call: "connect") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    private var buffer: [UInt8] = []

    /// Reads at least `count` more bytes into the buffer; false on EOF, error or timeout.
    private func fill(atLeast count: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffer.count < count {
            let received = recv(fd, &chunk, chunk.count, 0)
            if received <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<received])
        }
        return true
    }

    func readBytes(_ count: Int) -> [UInt8]? {
        guard fill(atLeast: count) else { return nil }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    struct ParsedResponse {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Reads one response; `headRequest` means no body follows whatever Content-Length says.
    func readResponse(headRequest: Bool = false) -> ParsedResponse? {
        var headEnd: Int?
        while headEnd == nil {
            if let range = findCRLFCRLF() { headEnd = range; break }
            guard fill(atLeast: buffer.count + 1) else { return nil }
        }
        let headText = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headRequest || status == 101 || status == 100 ? 0 : Int(headers["Content-Length"] ?? "0") ?? 0
        guard let body = readBytes(length) else { return nil }
        return ParsedResponse(status: status, headers: headers, body: body)
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// True when the server closed the connection (EOF or reset) with nothing more to read.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        if !buffer.isEmpty { return false }
        let received = recv(fd, &byte, 1, 0)
        return received == 0 || (received < 0 && errno == ECONNRESET)
    }
}

/// Runs an external program (curl, python3) and returns its exit status and standard output.
func runProcess(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// Whether `python3` can import `modules`. When it cannot, records one issue that names what is missing and how
/// to get it, so a missing test client never shows up as an empty output further down.
func pythonHas(_ modules: String..., sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    if let (status, _, _) = try? runProcess("python3", ["-c", modules.map { "import \($0)" }.joined(separator: "; ")]), status == 0 {
        return true
    }
    Issue.record("python3 cannot import \(modules.joined(separator: ", ")): run the suite with `bash tools/test.sh`, which installs tools/requirements-test.txt into .venv-test",
                 sourceLocation: sourceLocation)
    return false
}

/// Polls `condition` up to `seconds`; for waiting on another thread without timing assertions. The bound is
/// only a liveness limit (a passing test returns as soon as the condition holds), so it is generous: the
/// machine is shared and a loaded one can stall a thread for seconds.
func eventually(seconds: Double = 60, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
