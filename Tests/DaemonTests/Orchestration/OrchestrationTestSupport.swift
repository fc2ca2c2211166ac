import Foundation
import HTTPServer
@testable import Daemon

/// An argusd (no model) whose orchestration listener is on an ephemeral port; requests go over real sockets.
final class OrchestrationDaemon: @unchecked Sendable {   // immutable after init
    let dir: TemporaryDirectory
    let daemon: ArgusDaemon
    let clock: ManualClock?
    var module: OrchestrationModule { daemon.modules.compactMap { $0 as? OrchestrationModule }.first! }
    var port: Int { module.port! }

    init(dir: TemporaryDirectory? = nil, clock: ManualClock? = nil, configure: (inout DaemonConfiguration) -> Void = { _ in }) throws {
        let dir = try dir ?? TemporaryDirectory()
        self.dir = dir
        self.clock = clock
        var c = TestDaemon.configuration(dir)
        configure(&c)
        daemon = try ArgusDaemon(configuration: c, logSink: .discard, clock: clock ?? SystemClock())
        try daemon.start()
    }

    func stop() { daemon.shutdown() }

    struct Reply: Sendable {
        var status: Int
        var body: [UInt8]
        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
        subscript(key: String) -> JSONValue? { json[key] }
        /// The `loc` of every validation issue, joined with dots.
        var locs: [String] {
            guard case .array(let items)? = json["detail"] else { return [] }
            return items.compactMap { item -> String? in
                guard case .array(let parts)? = item["loc"] else { return nil }
                return parts.map { part -> String in
                    switch part { case .string(let s): s; case .int(let i): String(i); default: "?" }
                }.joined(separator: ".")
            }
        }
    }

    func request(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) throws -> Reply {
        var all = ["Content-Type": "application/json"]
        for (k, v) in headers { all[k] = v }
        let (status, bytes) = try LoopbackHTTPClient.send(port: port, method: method, path: path, headers: all,
                                                          body: body.map { Array($0.utf8) } ?? [])
        return Reply(status: status, body: bytes)
    }

    func get(_ path: String) throws -> Reply { try request("GET", path) }
    func post(_ path: String, _ body: String? = nil) throws -> Reply { try request("POST", path, body) }
    func put(_ path: String, _ body: String) throws -> Reply { try request("PUT", path, body) }
    func delete(_ path: String) throws -> Reply { try request("DELETE", path) }

    /// Creates a project and returns its id.
    func createProject(_ name: String = "Demo", type: String = "python") throws -> String {
        let reply = try post("/api/projects", #"{"name":"\#(name)","type":"\#(type)"}"#)
        precondition(reply.status == 201, "project: \(reply.status) \(reply.text)")
        return reply["id"]!.stringValue!
    }

    /// Runs a task to the end through `POST /api/orchestration/execute` and returns the reply.
    func execute(_ fields: String = #""prompt":"Write a function that parses dates","task_type":"code_generation""#) throws -> Reply {
        try post("/api/orchestration/execute", "{\(fields)}")
    }
}

enum Orch {
    /// Sends a WebSocket upgrade request and returns the status code of the answer, reading only its head
    /// (a 101 keeps the connection open, so a read-to-close client would wait forever).
    static func upgradeStatus(port: Int, path: String) throws -> Int {
        let fd = try Loopback.connect(port: port, receiveTimeout: 20)
        defer { close(fd) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]), recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
        let statusLine = String(decoding: head, as: UTF8.self).split(separator: " ")
        return statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
    }

    /// Polls `condition` for up to `seconds` (work on other threads; no timing assertions).
    static func eventually(seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        try waitUntil(seconds: seconds, condition)
    }

    /// Runs `python3 -c script args…` (the test venv's interpreter when run through tools/test.sh).
    static func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try runTool("python3", ["-c", script] + arguments, requires: "the Python clients of tools/requirements-test.txt (bash tools/test.sh installs them)")
    }

    /// A port nothing listens on (bound then closed), for unreachable agent endpoints.
    static func closedPort() throws -> Int {
        let server = try HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0),
                                    responder: Router(context: BasicRequestContext.self), workerPool: WorkerPool(threadCount: 1))
        try server.start()
        let port = server.port!
        server.shutdown(gracePeriod: .seconds(1))
        return port
    }
}
