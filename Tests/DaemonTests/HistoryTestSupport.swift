import Foundation
import Glibc
import HTTPServer
@testable import Daemon

/// A blocking HTTP/1.1 GET over a real socket (`Connection: close`), for end-to-end tests.
enum HistoryHTTP {
    struct Reply {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    static func get(port: Int, _ target: String) throws -> Reply {
        let fd = try Loopback.connect(port: port, receiveTimeout: 30)
        defer { close(fd) }
        let request = Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        let separator = Array("\r\n\r\n".utf8)
        guard let split = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<$0 + 4]) == separator }) else {
            throw POSIXError(.EPROTO)
        }
        let head = String(decoding: data[0..<split], as: UTF8.self)
        let status = Int(head.split(separator: " ")[1]) ?? 0
        return Reply(status: status, body: Data(data[(split + 4)...]))
    }
}

/// A router with the history routes on a real HTTP server (ephemeral port).
final class HistoryTestServer {
    let server: HTTPServer
    let port: Int

    init(configure: (Router<BasicRequestContext>) -> Void) throws {
        let router = Router(context: BasicRequestContext.self)
        configure(router)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.logger = Logger(label: "test", minimumLevel: .error)
        server = try HTTPServer(configuration: configuration, responder: router, eventLoopGroup: nil, workerPool: nil)
        try server.start()
        port = server.port!
    }

    func get(_ target: String) throws -> HistoryHTTP.Reply { try HistoryHTTP.get(port: port, target) }

    func stop() { server.shutdown(gracePeriod: .seconds(2)) }
}

/// A history store on a fresh temporary database.
struct HistoryFixture {
    let directory: TemporaryDirectory
    let database: SQLiteDatabase
    let store: HistoryStore

    init(configuration: HistoryConfiguration = HistoryConfiguration(), wallClock: Double = 1_736_937_000) throws {
        directory = try TemporaryDirectory()
        database = try SQLiteDatabase(path: directory.url.appendingPathComponent("argus.sqlite").path)
        store = try HistoryStore(database: database, configuration: configuration, wallClock: { wallClock })
    }

    /// Re-opens the same file (a daemon restart).
    func reopened(configuration: HistoryConfiguration = HistoryConfiguration()) throws -> (SQLiteDatabase, HistoryStore) {
        database.close()
        let db = try SQLiteDatabase(path: directory.url.appendingPathComponent("argus.sqlite").path)
        return (db, try HistoryStore(database: db, configuration: configuration, wallClock: { 1_736_937_000 }))
    }
}

extension HistoryTick {
    /// A tick with the given server → score map (levels from the spec's bands).
    static func scores(_ ts: Int64, _ scores: [String: Double], observedCritical: Set<String> = []) -> HistoryTick {
        HistoryTick(timestamp: ts, servers: scores.keys.sorted().map {
            HistoryTick.Server(name: $0, riskScore: scores[$0]!, observedCritical: observedCritical.contains($0))
        })
    }
}
