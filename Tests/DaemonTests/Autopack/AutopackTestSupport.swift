import Foundation
import Glibc
import HTTPServer
@testable import Daemon

/// A ``ModuleHost`` for tests: temp data directory, manual clock, a daemon key `daemon-key`, a real auth core.
struct TestModuleHost: ModuleHost {
    let dataDirectory: URL
    let clock: any DaemonClock
    let events = DaemonEvents()
    let apiKeyAuth = APIKeyMiddleware<BasicRequestContext>(keys: [AutopackServer.daemonKey])
    let auth: AuthService

    func logger(_ label: String) -> Logger { Logger(label: label, sink: .discard) }
    func openDatabase(module: String, migrations: [Migration]) throws -> SQLiteDatabase {
        let folder = dataDirectory.appendingPathComponent("modules", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try SQLiteDatabase(path: folder.appendingPathComponent("\(module).sqlite").path, migrations: migrations)
    }
    func vitals() -> DaemonVitals { preconditionFailure("autopack does not read vitals") }
}

/// The autopack module alone behind a real HTTP server on an ephemeral port.
final class AutopackServer {
    static let daemonKey = "daemon-key-0123456789"
    static let moduleKey = "autopack-key-0123456789"
    static let adminPassword = "admin-password-1"

    let dir: TemporaryDirectory
    let clock: ManualClock
    let module: AutopackModule
    let server: HTTPServer
    let auth: AuthService
    var port: Int { server.port! }
    var store: AutopackStore { module.store }

    /// Defaults: public reads (so most tests need no key), the module key set, generous rate limits.
    static func settings(_ configure: (inout AutopackSettings) -> Void = { _ in }) -> AutopackSettings {
        var s = AutopackSettings()
        s.apiKey = moduleKey
        s.publicRead = true
        s.runStartPerMinute = 10_000
        s.approvalRequestPerMinute = 10_000
        s.webhookPerMinute = 10_000
        s.loginPerMinute = 10_000
        configure(&s)
        return s
    }

    init(dir: TemporaryDirectory? = nil, clock: ManualClock = ManualClock(), settings: AutopackSettings = AutopackServer.settings()) throws {
        let dir = try dir ?? TemporaryDirectory()
        self.dir = dir
        self.clock = clock
        var authSettings = AuthService.Settings()
        authSettings.passwordIterations = 1_000
        authSettings.bootstrapAdminPassword = Self.adminPassword
        auth = try AuthService(directory: dir.url.appendingPathComponent("data/auth"), clock: clock, settings: authSettings)
        let host = TestModuleHost(dataDirectory: dir.url.appendingPathComponent("data"), clock: clock, auth: auth)
        module = try AutopackModule(host: host, settings: settings)
        let router = Router(context: BasicRequestContext.self, logger: Logger(label: "router", sink: .discard))
        module.addRoutes(to: router)
        router.addOpenAPIRoutes(info: OpenAPIInfo(title: "autopack tests", version: "1"))
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.logger = Logger(label: "http", sink: .discard)
        server = try HTTPServer(configuration: configuration, responder: router, workerPool: WorkerPool(threadCount: 4))
        try server.start()
        try module.start()
    }

    func stop() {
        server.shutdown(gracePeriod: .seconds(5))
        module.stop()
        auth.close()
    }

    func stopAndClean() {
        stop()
        dir.cleanup()
    }

    // MARK: HTTP

    func request(_ method: String, _ path: String, json: Any? = nil, body: [UInt8]? = nil, headers: [String: String] = [:]) throws -> HTTPReply {
        var headers = headers
        var bytes = body ?? []
        if let json {
            bytes = Array(try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
            if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        }
        return try HTTPReply.send(port: port, method: method, path: path, headers: headers, body: bytes)
    }

    func get(_ path: String, headers: [String: String] = [:]) throws -> HTTPReply { try request("GET", path, headers: headers) }
    func post(_ path: String, _ json: Any? = nil, headers: [String: String] = [:]) throws -> HTTPReply {
        try request("POST", path, json: json, headers: headers)
    }
    var key: [String: String] { ["X-API-Key": Self.moduleKey] }

    /// Starts a run (with the key) and requires 201.
    @discardableResult
    func startRun(_ id: String = "run-1", phases: Int = 2, tokenCap: Int? = nil, extra: [String: Any] = [:]) throws -> [String: Any] {
        let reply = try post("/runs/start", Fixtures.runStart(id, phases: phases, tokenCap: tokenCap, extra: extra), headers: key)
        precondition(reply.status == 201, "start failed: \(reply.status) \(reply.text)")
        return reply.object
    }

    /// Moves a phase with update_status and requires 200.
    func move(_ run: String, _ phase: String, to state: String, _ extra: [String: Any] = [:]) throws {
        var body = extra
        body["state"] = state
        let reply = try post("/runs/\(run)/phases/\(phase)/update_status", body)
        precondition(reply.status == 200, "move failed: \(reply.status) \(reply.text)")
    }
}

enum Fixtures {
    /// A run with one tier `T1` and `phases` phases `P1…Pn`.
    static func runStart(_ id: String, phases: Int = 2, tokenCap: Int? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var run: [String: Any] = ["run_id": id]
        if let tokenCap { run["token_cap"] = tokenCap }
        for (k, v) in extra { run[k] = v }
        return [
            "run": run,
            "tiers": [["tier_id": "T1", "tier_index": 0, "name": "core"]],
            "phases": (1...max(1, phases)).prefix(phases).map { i in
                ["phase_id": "P\(i)", "phase_index": i - 1, "tier_id": "T1", "name": "phase \(i)", "task_category": "tests",
                 "complexity": "low", "scope": ["paths": ["src/"], "read_only_context": ["docs/readme.md"]]] as [String: Any]
            },
        ]
    }

    static func builder(_ run: String, _ phase: String, status: String = "success", tokens: Int = 100, extra: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = ["run_id": run, "phase_id": phase, "status": status, "tokens_used": tokens,
                                   "patch_content": "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "files_changed": ["src/x.py"]]
        for (k, v) in extra { body[k] = v }
        return body
    }

    static func auditor(_ run: String, _ phase: String, _ recommendation: String = "approve", tokens: Int = 50) -> [String: Any] {
        ["run_id": run, "phase_id": phase, "recommendation": recommendation, "confidence": "high", "tokens_used": tokens,
         "review_notes": "looks right"]
    }
}

/// A blocking HTTP/1.1 exchange over a real socket that keeps the response headers (tests read them).
struct HTTPReply {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
    var array: [[String: Any]] { (json as? [[String: Any]]) ?? [] }
    var detail: String { object["detail"] as? String ?? "" }
    /// `loc` of each validation issue, joined with dots (`body.run.run_id`).
    var locations: [String] {
        ((object["detail"] as? [[String: Any]]) ?? []).map { (($0["loc"] as? [Any]) ?? []).map { "\($0)" }.joined(separator: ".") }
    }

    static func send(port: Int, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> HTTPReply {
        let fd = try Loopback.connect(port: port)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...(max(0, response.count - 4))).first(where: { Array(response[$0..<min(response.count, $0 + 4)]) == separator }) else {
            return HTTPReply(status: 0, headers: [:], body: [])
        }
        let lines = String(decoding: response[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPReply(status: status, headers: fields, body: Array(response[(end + 4)...]))
    }
}

/// Polls `condition` for up to `seconds` (waiting on a background refresh, never asserting a duration).
func autopackEventually(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    eventually(seconds: seconds, condition)
}
