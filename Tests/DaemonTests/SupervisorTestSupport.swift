import Foundation
import HTTPServer
@testable import Daemon

/// A daemon (no model) on an ephemeral port with a ManualClock, plus a client that speaks to the supervisor API
/// with bearer tokens.
final class SupervisorDaemon {
    let dir: TemporaryDirectory
    let clock: ManualClock
    let daemon: ArgusDaemon
    var port: Int { daemon.port! }
    private(set) var adminToken = ""

    init(dir: TemporaryDirectory? = nil, clock: ManualClock = ManualClock(Date(timeIntervalSince1970: 1_767_225_600))) throws {
        let dir = try dir ?? TemporaryDirectory()
        self.dir = dir
        self.clock = clock
        daemon = try ArgusDaemon(configuration: TestDaemon.configuration(dir), logSink: .discard, clock: clock)
        try daemon.start()
        adminToken = try login("admin", TestDaemon.adminPassword)
    }

    func stop() { daemon.shutdown() }

    /// Moves the daemon's clock and logs the admin in again (access tokens live 30 minutes of that clock).
    func advance(by seconds: TimeInterval) throws {
        clock.advance(by: seconds)
        adminToken = try login("admin", TestDaemon.adminPassword)
    }

    var supervisor: SupervisorModule { daemon.modules.compactMap { $0 as? SupervisorModule }.first! }
    var core: SupervisorCore { supervisor.core }

    struct Reply {
        var status: Int
        var body: [UInt8]
        var json: JSONValue { DecodedJSON.parse(body) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
        subscript(key: String) -> JSONValue? { json[key] }
    }

    /// `token`: nil sends no Authorization header; default is the admin's.
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil, token: String?? = .none, raw: String? = nil,
              contentType: String = "application/json") throws -> Reply {
        var headers = ["Content-Type": contentType]
        let bearer: String? = switch token { case .none: adminToken; case .some(let t): t }
        if let bearer { headers["Authorization"] = "Bearer \(bearer)" }
        let bytes = raw.map { Array($0.utf8) } ?? body.map { $0.encoded() } ?? []
        let (status, reply) = try LoopbackHTTPClient.send(port: port, method: method, path: path, headers: headers, body: bytes)
        return Reply(status: status, body: reply)
    }

    func login(_ username: String, _ password: String) throws -> String {
        let reply = try call("POST", "/auth/login", ["username": .string(username), "password": .string(password)], token: .some(nil))
        guard reply.status == 200, let token = reply["access_token"]?.stringValue else { throw LoginFailed(reply: reply.text) }
        return token
    }

    struct LoginFailed: Error { let reply: String }

    /// Creates a user with `roles` (through the admin API) and returns a token for it.
    func user(_ name: String, roles: [String]) throws -> String {
        let created = try call("POST", "/auth/register", ["username": .string(name), "password": "password-123", "email": .string("\(name)@example.com")],
                               token: .some(nil))
        precondition(created.status == 201, created.text)
        let id = created["id"]!.intValue!
        let updated = try call("PUT", "/auth/users/\(id)", ["roles": .array(roles.map(JSONValue.string))])
        precondition(updated.status == 200, updated.text)
        return try login(name, "password-123")
    }
}

