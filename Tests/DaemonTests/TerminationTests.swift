import Foundation
import Glibc
import Testing
@testable import Daemon

/// SIGTERM on a real `argusd serve` process: the request in flight is answered, the WAL is folded into the
/// database, the process exits 0.
@Suite struct TerminationTests {
    /// The `argusd` built next to this test bundle (tools/test.sh builds it before the tests).
    static var argusd: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("argusd")
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func sigterm_FinishesTheRequestInFlight_CheckpointsAndExitsZero() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.argusd.path), "build argusd first: swift build (tools/test.sh does)")
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let models = dir.url.appendingPathComponent("models"), data = dir.url.appendingPathComponent("data")
        try TinyModel.write(into: models)
        let port = try Self.freePort()
        let process = Process()
        process.executableURL = Self.argusd
        process.arguments = ["serve", "--port", "\(port)", "--data-dir", data.path, "--models-dir", models.path,
                             "--max-future-skew", "off", "--log-level", "warning"]
        process.environment = ["TACHYON_API_KEY": TestDaemon.key]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let health = { (try? LoopbackHTTPClient.send(port: port, method: "GET", path: "/health"))?.0 == 200 }
        #expect(eventually(seconds: 60, health))

        // A request whose body is still arriving when SIGTERM lands.
        let records = (0..<50).map { Feed.record(server: String(format: "ppdb%03d", $0), timestamp: Feed.iso(Feed.base)) }
        let body = Array(Feed.body(records))
        let socket = try RawSocket(port: port)
        let head = "POST /feed/data HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: \(TestDaemon.key)\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        try socket.send(Array(head.utf8) + body[..<(body.count / 2)])
        usleep(200_000)        // the half body is read by the server (not a timing assertion: only an ordering nudge)
        kill(process.processIdentifier, SIGTERM)
        usleep(200_000)
        try socket.send(Array(body[(body.count / 2)...]))
        let answer = try socket.readResponse()
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")

        #expect(eventually(seconds: 60) { !process.isRunning }, "argusd did not exit after SIGTERM")
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let wal = data.appendingPathComponent("argus.sqlite-wal")
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: wal.path)[.size] as? Int) ?? 0
        #expect(walBytes == 0, "the WAL still holds \(walBytes) bytes after shutdown")
        let database = try SQLiteDatabase(path: data.appendingPathComponent("argus.sqlite").path)
        defer { database.close() }
        #expect(try database.read { try $0.scalar("SELECT COUNT(*) FROM metrics")?.int64 } == 50)
    }

}

/// A blocking TCP client for byte-exact requests (half-sent bodies).
final class RawSocket {
    let fd: Int32
    init(port: Int) throws {
        fd = try Loopback.connect(port: port)
    }
    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
    }

    /// Reads until the peer closes or a complete response with Content-Length has arrived.
    func readResponse() throws -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[..<n]
            let text = String(decoding: data, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n"),
               let lengthLine = text[..<end.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
               let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
               data.count >= text[..<end.upperBound].utf8.count + length {
                break
            }
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// kill -9 in the middle of a training job: the restart is clean, the job is recorded as interrupted, and no
/// partial model is ever listed or loaded.
@Suite struct KilledTrainingTests {
    @Test func killDuringTraining_RestartListsNoPartialModel_AndRecordsTheRunInterrupted() throws {
        try #require(FileManager.default.isExecutableFile(atPath: TerminationTests.argusd.path), "build argusd first: swift build")
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let models = dir.url.appendingPathComponent("models"), data = dir.url.appendingPathComponent("data")
        let shipped = try TinyModel.write(into: models)
        // What a kill during ModelFolder.write leaves: a hidden temporary folder of a process that is gone.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let leftover = models.appendingPathComponent(".tft_model_20250101_000000.tmp-\(gone.processIdentifier)-7")
        try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
        try Data("{\"half\":".utf8).write(to: leftover.appendingPathComponent("config.json"))

        let port = try TerminationTests.freePort()
        func launch() throws -> Process {
            let p = Process()
            p.executableURL = TerminationTests.argusd
            p.arguments = ["serve", "--port", "\(port)", "--data-dir", data.path, "--models-dir", models.path, "--max-future-skew", "off",
                           "--rolling-window", "64", "--warmup-steps", "12", "--rate-feed", "100000", "--rate-admin", "100000",
                           "--rate-predictions", "100000", "--log-level", "error"]
            p.environment = ["TACHYON_API_KEY": TestDaemon.key]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        func call(_ method: String, _ path: String, _ body: Data? = nil) -> (Int, [String: Any]) {
            guard let (status, bytes) = try? LoopbackHTTPClient.send(port: port, method: method, path: path,
                                                                     headers: ["X-API-Key": TestDaemon.key, "Content-Type": "application/json"],
                                                                     body: body.map { Array($0) } ?? []) else { return (0, [:]) }
            return (status, (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:])
        }
        let first = try launch()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        #expect(eventually(seconds: 60) { call("GET", "/health").0 == 200 })
        let servers = (1...30).map { String(format: "ppdb%03d", $0) }   // enough windows for many steps per epoch
        for step in 0..<64 {
            let records = servers.map { Feed.record(server: $0, timestamp: Feed.iso(Feed.base + Int64(step) * 300),
                                                    overrides: ["mem_used_pct": 40 + Double((step * 7 + $0.count) % 23)]) }
            let (status, body) = call("POST", "/feed/data", Feed.body(records))
            try #require(status == 200, "\(body)")
        }
        let (started, startBody) = call("POST", "/admin/trigger-training?epochs=1000&incremental=false")
        try #require(started == 200, "\(startBody)")
        try #require(eventually(seconds: 120) {
            let status = call("GET", "/admin/training-status").1
            return status["status"] as? String == "running" && ((status["progress"] as? [String: Any])?["step"] as? Int ?? 0) >= 1
        }, "the job was never seen running")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        let second = try launch()
        defer { if second.isRunning { kill(second.processIdentifier, SIGTERM); second.waitUntilExit() } }
        #expect(eventually(seconds: 60) { call("GET", "/health").0 == 200 })
        let listed = try FileManager.default.contentsOfDirectory(atPath: models.path)
        #expect(listed == [shipped.lastPathComponent], "models folder after the restart: \(listed)")
        let (_, listing) = call("GET", "/admin/models")
        let names = (listing["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(names == [shipped.lastPathComponent], "\(listing)")
        let (_, stats) = call("GET", "/admin/training-stats")
        let runs = (stats["recent"] as? [[String: Any]]) ?? []
        #expect(runs.contains { $0["status"] as? String == "interrupted" }, "\(stats)")
        #expect(call("GET", "/status").1["mode"] as? String == "tft")
    }
}
