import Foundation
import Testing
@testable import Daemon

/// The merged `GET /health` on the real daemon, and autopack's `/health/database`, `/health/tasks`, `/ready`.
@Suite struct AutopackHealthTests {
    @Test func health_IsTheSupersetOfCoreAndAutopack_WithEveryModule() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let health = try d.get("/health", key: nil)
        #expect(health.status == 200)
        let body = health.object
        #expect(body["status"] as? String == "healthy")
        #expect(body["service"] as? String == "tft_inference_daemon")
        #expect(body["running"] as? Bool == true)
        let identity = try #require(body["database_identity"] as? String)
        #expect(identity == String(ArtifactStore.sha256Hex(Array(d.daemon.store.database.path.utf8)).prefix(12)))
        #expect(body["database"] as? String == "connected")
        #expect(body["qdrant"] as? String == "disabled")
        #expect((body["kill_switches"] as? [String: Bool])?["consolidated_metrics"] == false)
        #expect(body["version"] is String)
        #expect(body["timestamp"] is String)
        let modules = try #require(body["modules"] as? [String: [String: Any]])
        #expect(Set(modules.keys) == Set(d.daemon.modules.map(\.name)))
        #expect(modules["autopack"]?["status"] as? String == "healthy")
        #expect(modules["autopack"]?["database"] as? String == "connected")
    }

    @Test func health_Is503WhenTheCoreDatabaseFailsItsQuery() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.get("/health", key: nil).status == 200)
        d.daemon.store.database.close()
        // The answer is cached for a second and refreshed in the background.
        #expect(autopackEventually { (try? d.get("/health", key: nil).status) == 503 })
        #expect(try d.get("/health", key: nil).object["status"] as? String == "unhealthy")
    }

    @Test func moduleHealthEndpoints_ReadyDatabaseTasks() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        let database = try s.get("/health/database")
        #expect(database.status == 200)
        #expect(database.object["runs"] as? Int == 1)
        #expect(database.object["schema_version"] as? Int == AutopackSchema.migrations.count)
        let tasks = try s.get("/health/tasks")
        #expect(tasks.status == 200)
        #expect(((tasks.object["tasks"] as? [String: Any])?["approval_timeout_sweeper"] as? [String: Any])?["healthy"] as? Bool == true)
        let ready = try s.get("/ready")
        #expect(ready.status == 200)
        #expect(ready.object["tables"] as? [String] == ["approvals", "phases", "runs"])
        s.module.stop()
        #expect(try s.get("/ready").status == 503)
        #expect(try s.get("/health/database").status == 503)
    }
}
