import Foundation
import Testing
@testable import Daemon

/// Layer 4: vault, recordings and their ingestion, remote sessions, deployment, stress tests.
@Suite struct TelemetryDevOSTests {
    @Test func secretsStore_SealsWithAESGCM_NeverEchoesTheValue() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let value = "sk-very-secret-value-0123456789"
        var reply = try d.json("POST", "/api/secrets/store", ["name": "OPENAI_API_KEY", "value": value, "category": "api_key", "consent_given": true])
        #expect(reply.status == 200)
        #expect(reply.object["encrypted"] as? Bool == true)
        #expect(reply.object["status"] as? String == "success")
        #expect((reply.object["secret_id"] as? String)?.hasPrefix("sec-") == true)
        #expect(!reply.text.contains(value))

        reply = try d.json("POST", "/api/secrets/store", ["name": "OPENAI_API_KEY", "value": "other", "category": "token", "consent_given": true])
        #expect(reply.status == 409)
        #expect(reply.object["code"] as? String == "DUPLICATE_SECRET")
        reply = try d.json("POST", "/api/secrets/store", ["name": "DB_PASSWORD", "value": "pw", "category": "password", "consent_given": false])
        #expect(reply.status == 400)
        #expect(reply.object["code"] as? String == "CONSENT_REQUIRED")
        reply = try d.json("POST", "/api/secrets/store", ["name": "bad name!", "value": "", "category": "ssh_key", "consent_given": "yes"])
        #expect(reply.status == 422)
        for field in ["value", "category", "consent_given"] { #expect(reply.text.contains(#""loc":["body","\#(field)"]"#), "\(field)") }
        reply = try d.json("POST", "/api/secrets/store", ["name": "bad name!", "value": "v", "category": "token", "consent_given": true])
        #expect(reply.status == 422)
        #expect(reply.text.contains(#""loc":["body","name"]"#))

        // The plaintext is nowhere in the database files, and the key file is owner-only.
        let modules = d.daemon.configuration.dataDirectory.appendingPathComponent("modules")
        for file in try FileManager.default.contentsOfDirectory(atPath: modules.path) {
            let bytes = try Data(contentsOf: modules.appendingPathComponent(file))
            #expect(bytes.range(of: Data(value.utf8)) == nil, "\(file)")
        }
        let keyFile = d.daemon.configuration.dataDirectory.appendingPathComponent("telemetry/vault.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let count = try d.telemetry.database.read { c in try c.scalar("SELECT COUNT(*) FROM secrets")?.int64 }
        #expect(count == 1)
    }

    @Test func secretsStatus_OpensEveryItem_AndSeesATamperedOne() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        for (name, category) in [("A_TOKEN", "token"), ("B_CERT", "certificate")] {
            #expect(try d.json("POST", "/api/secrets/store", ["name": name, "value": "v-\(name)", "category": category, "consent_given": true]).status == 200)
        }
        var body = try d.get("/api/telemetry/secrets/status").object
        #expect(body["vault_health"] as? String == "healthy")
        #expect(body["total_secrets"] as? Int == 2)
        #expect(body["encrypted_count"] as? Int == 2)
        #expect((body["by_category"] as? [String: Any])?["certificate"] as? Int == 1)
        #expect(body["algorithm"] as? String == "AES-256-GCM")
        // Change one ciphertext byte: its GCM tag no longer verifies. (Always a different byte: writing X'00'
        // changed nothing when the random ciphertext began with 0x00, one run in 256.)
        try d.telemetry.database.write { c in
            try c.run("""
                UPDATE secrets SET ciphertext = (CASE WHEN substr(ciphertext, 1, 1) = X'00' THEN X'01' ELSE X'00' END) || substr(ciphertext, 2)
                WHERE name = 'A_TOKEN'
                """)
        }
        body = try d.get("/api/telemetry/secrets/status").object
        #expect(body["vault_health"] as? String == "degraded")
        #expect(body["encrypted_count"] as? Int == 1)
    }

    @Test func recordings_RegisterFromTheInbox_IngestAndPoll() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.drop("standup.wav", silentWAV(seconds: 1.5))
        try d.drop("standup.wav.txt", Data("we agreed to ship the telemetry console on friday".utf8))
        #expect(waitUntil { (try? d.get("/api/telemetry/recordings/pending").object["total"] as? Int) == 1 })
        let sidecar = d.daemon.configuration.dataDirectory.appendingPathComponent("telemetry/recordings/standup.wav.txt").path
        #expect(waitUntil { FileManager.default.fileExists(atPath: sidecar) })
        let recording = try #require((try d.get("/api/telemetry/recordings/pending").object["recordings"] as? [[String: Any]])?.first)
        #expect(recording["type"] as? String == "voice")
        #expect(recording["filename"] as? String == "standup.wav")
        let id = try #require(recording["recording_id"] as? String)
        #expect(try d.get("/api/telemetry/recordings/pending?limit=0").status == 422)

        let started = try d.post("/api/recording/ingest/\(id)")
        #expect(started.status == 200)
        #expect(started.object["status"] as? String == "started")
        #expect(started.object["recording_id"] as? String == id)
        let job = try #require(started.object["ingestion_job_id"] as? String)
        #expect(try d.post("/api/recording/ingest/\(id)").status == 409)
        #expect(try d.post("/api/recording/ingest/rec-000000000000").status == 404)

        #expect(waitUntil { (try? d.get("/api/recording/ingest/\(job)/status").object["status"] as? String) == "completed" })
        let status = try d.get("/api/recording/ingest/\(job)/status").object
        #expect(status["progress_percent"] as? Int == 100)
        let result = try #require(status["result"] as? [String: Any])
        #expect((result["summary"] as? String)?.contains("ship the telemetry console") == true)
        #expect(number(result["media_duration_seconds"]) == 1.5)
        #expect((result["sha256"] as? String)?.count == 64)
        #expect(try d.get("/api/telemetry/recordings/pending").object["total"] as? Int == 0)
        #expect(try d.get("/api/recording/ingest/job-000000000000/status").status == 404)
        // The estimate for the next recording comes from this measured run.
        #expect(try d.get("/api/telemetry/ingestion/throughput").object["completed_jobs"] as? Int == 1)
    }

    @Test func remoteSessions_RecordAuthenticatedCallers() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        for _ in 0..<3 { _ = try d.get("/api/telemetry/htm/workload") }
        var body = try d.get("/api/telemetry/remote_access/sessions").object
        let session = try #require((body["sessions"] as? [[String: Any]])?.first)
        #expect(session["status"] as? String == "active")
        #expect((session["user"] as? String)?.hasPrefix("key:") == true)
        #expect(session["client_address"] as? String == "127.0.0.1")
        #expect((session["request_count"] as? Int ?? 0) >= 3)
        // A refused caller opens no session.
        _ = try d.get("/api/telemetry/htm/workload", key: "wrong")
        body = try d.get("/api/telemetry/remote_access/sessions?active_only=false&limit=10").object
        #expect(body["total"] as? Int == 1)
        #expect(try d.get("/api/telemetry/remote_access/sessions?active_only=maybe").status == 422)
    }

    @Test func deploymentStatus_DescribesTheRunningDaemon() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let body = try d.get("/api/telemetry/deployment/status").object
        #expect(body["environment"] as? String == "development")
        #expect(body["health_check"] as? String == "passing")
        let model = try #require(body["model"] as? [String: Any])
        #expect(model["mode"] as? String == "tft")
        #expect((model["name"] as? String)?.hasPrefix("tft_model_") == true)
        let process = try #require(body["process"] as? [String: Any])
        #expect((number(process["rss_mb"]) ?? 0) > 1)
        let build = try #require(body["build_info"] as? [String: Any])
        #expect(build["commit_sha"] is NSNull)
        #expect((build["binary_sha256"] as? String)?.count == 64)
        #expect(ISO8601Timestamp.parse(body["deployed_at"] as? String ?? "") != nil)
    }

    @Test func stressRun_MeasuresRealLoad_OneAtATime() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        for bad: [String: Any] in [["test_type": "disk", "duration_minutes": 1, "intensity": "low"],
                                   ["test_type": "htm_queue", "duration_minutes": 0, "intensity": "low"],
                                   ["test_type": "htm_queue", "duration_minutes": 61, "intensity": "low"],
                                   ["test_type": "htm_queue", "duration_minutes": "1", "intensity": "low"],
                                   ["test_type": "htm_queue", "duration_minutes": 1, "intensity": "max"]] {
            let reply = try d.json("POST", "/api/stress/run", bad)
            #expect(reply.status == 422, "\(bad)")
            #expect(reply.text.contains(#""loc":["body","#))
        }
        let start = try d.json("POST", "/api/stress/run", ["test_type": "full_system", "duration_minutes": 0.02, "intensity": "medium"])
        #expect(start.status == 200)
        #expect(start.object["status"] as? String == "running")
        let id = try #require(start.object["stress_test_id"] as? String)
        #expect(try d.json("POST", "/api/stress/run", ["test_type": "htm_queue", "duration_minutes": 1, "intensity": "low"]).status == 409)
        let running = try d.get("/api/stress/\(id)/status").object
        #expect(running["current_metrics"] is [String: Any])

        #expect(waitUntil { (try? d.get("/api/stress/\(id)/status").object["status"] as? String) == "completed" })
        let done = try d.get("/api/stress/\(id)/status").object
        #expect(done["progress_percent"] as? Int == 100)
        let results = try #require(done["results"] as? [String: Any])
        let submitted = try #require(results["tasks_submitted"] as? Int)
        #expect(submitted > 0)
        #expect(results["tasks_completed"] as? Int == submitted)
        #expect(results["error_rate_percent"] as? Int == 0)
        #expect((results["max_queue_depth"] as? Int ?? 0) >= 1)
        #expect((number(results["avg_response_time_ms"]) ?? 0) > 0)
        #expect(results["bottlenecks"] is [String])
        #expect(number(results["database_write_p95_ms"]) != nil)
        // Those were real tasks in the queue, run by the kernels.
        #expect(try d.tasks("&status=completed").filter { ($0["description"] as? String)?.contains(id) == true }.count == min(submitted, 500))
        #expect(try d.get("/api/stress/stress-000000000000/status").status == 404)
    }
}
