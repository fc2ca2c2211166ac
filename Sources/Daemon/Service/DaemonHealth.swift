import Dispatch
import Foundation
import HTTPServer
import Synchronization

/// `GET /health`: one answer for the core and every module (collision #1 of the modules notes). The core's
/// `{status, service, running}` first, then autopack's contract (`database_identity`, `database`, `qdrant`,
/// `kill_switches`, `version`, `timestamp`), then `modules.<name>`. 503 only when `unhealthy` (the core
/// database fails a real query); a module that is not healthy makes the daemon `degraded`, still 200.
///
/// The checks run SQLite queries, so the answer is cached for one second and refreshed off the event loop:
/// a request never waits for a database, and `/health` stays as cheap as before for load balancers.
final class DaemonHealth: Sendable {
    typealias Answer = (body: [UInt8], unhealthy: Bool)

    private let compute: @Sendable () -> Answer
    private let cached = Mutex<(answer: Answer, at: UInt64)?>(nil)
    private let refreshing = Atomic<Bool>(false)
    private let maxAgeNanoseconds: UInt64

    init(maxAgeSeconds: Double = 1, compute: @escaping @Sendable () -> Answer) {
        self.compute = compute
        self.maxAgeNanoseconds = UInt64(maxAgeSeconds * 1e9)
    }

    /// The cached answer; a stale one triggers one background refresh and is served meanwhile.
    func current() -> Answer {
        let now = DispatchTime.now().uptimeNanoseconds
        guard let entry = cached.withLock({ $0 }) else { return refresh() }
        if now &- entry.at > maxAgeNanoseconds, refreshing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            DispatchQueue.global(qos: .utility).async { [self] in
                _ = refresh()
                refreshing.store(false, ordering: .releasing)
            }
        }
        return entry.answer
    }

    @discardableResult
    func refresh() -> Answer {
        let answer = compute()
        cached.withLock { $0 = (answer, DispatchTime.now().uptimeNanoseconds) }
        return answer
    }

    /// Builds the merged body from the core database probe and each module's ``ModuleHealth``.
    static func body(databasePath: String, databaseOK: Bool, modules: [(String, ModuleHealth)], now: Date) -> Answer {
        let moduleDegraded = modules.contains { $0.1.status != "healthy" }
        let status = !databaseOK ? "unhealthy" : moduleDegraded ? "degraded" : "healthy"
        var members: [(String, JSONValue)] = [
            ("status", .string(status)), ("service", "tft_inference_daemon"), ("running", true),
            ("database_identity", .string(String(sha256(Array(databasePath.utf8)).map { String(format: "%02x", $0) }.joined().prefix(12)))),
            ("database", .string(databaseOK ? "connected" : "error")), ("qdrant", "disabled"),
        ]
        for (_, health) in modules {
            for field in health.rootFields where !members.contains(where: { $0.0 == field.0 }) { members.append(field) }
        }
        if !members.contains(where: { $0.0 == "kill_switches" }) { members.append(("kill_switches", .object([]))) }
        if !members.contains(where: { $0.0 == "version" }) { members.append(("version", "1.0")) }
        members.append(("timestamp", .string(AuthTime.iso(now))))
        members.append(("modules", .object(modules.map { name, health in
            (name, .object([("status", .string(health.status))] + health.details))
        })))
        return (JSONValue.object(members).encoded(), status == "unhealthy")
    }
}

extension ArgusDaemon {
    /// A real query on the core database (through the writer's queue, so it also proves the writer is alive).
    func probeCoreDatabase() -> Bool {
        (try? store.database.write { try $0.scalar("SELECT COUNT(*) FROM sqlite_master") }) != nil
    }
}
