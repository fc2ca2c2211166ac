import Foundation
import Testing
@testable import Daemon

/// Layer 1: kernels, crypto health, ingestion throughput, kernel control and logs, over real sockets.
@Suite struct TelemetryOperationsTests {
    @Test func kernelsStatus_ReportsTheModuleWorkerThreads() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let reply = try d.get("/api/telemetry/kernels/status")
        #expect(reply.status == 200)
        let body = reply.object
        #expect(body["total_kernels"] as? Int == TelemetryModule.kernelCount)
        #expect(body["active"] as? Int == TelemetryModule.kernelCount)
        #expect(body["idle"] as? Int == 0)
        #expect(body["errors"] as? Int == 0)
        #expect((number(body["avg_boot_time_ms"]) ?? 0) > 0)
        let kernels = try #require(body["kernels"] as? [[String: Any]])
        #expect(Set(kernels.compactMap { $0["kernel_id"] as? String }) == Set(d.telemetry.kernels.kernels.map(\.id)))
        for k in kernels {
            #expect((k["kernel_id"] as? String)?.hasPrefix("kern-") == true)
            #expect(k["status"] as? String == "active")
            #expect(ISO8601Timestamp.parse(k["last_heartbeat"] as? String ?? "") != nil)
            #expect((number(k["boot_time_ms"]) ?? 0) > 0)
            for field in ["uptime_seconds", "stress_score", "task_count", "error_count"] { #expect(k[field] is Int, "\(field)") }
        }
    }

    @Test func cryptoHealth_CountsModelManifestChecks_AndSeesTampering() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(waitUntil { d.telemetry.crypto.current.validated >= 4 })
        var body = try d.get("/api/telemetry/crypto/health").object
        let validated = body["signatures_validated"] as? Int ?? 0
        #expect(validated >= 4)   // config, weights, normalizers, training info
        #expect(body["signature_failures"] as? Int == 0)
        #expect(body["overall_health"] as? String == "healthy")
        #expect(body["key_rotation_due"] as? Bool == false)
        #expect((body["components"] as? [String: Any])?["signature_service"] as? String == "healthy")

        // Corrupt a served model file: the next verification records failures and health degrades.
        let folder = try #require(d.telemetry.crypto.servedModelFolder)
        try Data("{}".utf8).write(to: folder.appendingPathComponent("normalizers.json"))
        d.telemetry.crypto.reverifyServedModel()
        body = try d.get("/api/telemetry/crypto/health").object
        #expect(body["signature_failures"] as? Int == 1)
        #expect((body["signatures_validated"] as? Int ?? 0) > validated)
        #expect(body["overall_health"] as? String == "degraded")
        #expect((body["last_failure"] as? String)?.contains("normalizers.json") == true)
    }

    @Test func ingestionThroughput_AggregatesInboxImports() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.drop("metrics-dump.bin", Data(repeating: 7, count: 3 * 1_048_576))
        #expect(waitUntil { (try? d.get("/api/telemetry/ingestion/throughput").object["completed_jobs"] as? Int) == 1 })
        let body = try d.get("/api/telemetry/ingestion/throughput?hours=2").object
        #expect(body["total_jobs"] as? Int == 1)
        #expect(number(body["total_mb"]) == 3)
        #expect(number(body["throughput_mb_per_hour"]) == 1.5)
        #expect((number(body["max_duration_seconds"]) ?? -1) >= 0)
        #expect((body["feed"] as? [String: Any])?["total_records"] as? Int == 0)
        for bad in ["0", "169", "x"] {
            let reply = try d.get("/api/telemetry/ingestion/throughput?hours=\(bad)")
            #expect(reply.status == 422)
            #expect(reply.text.contains(#""loc":["query","hours"]"#))
        }
    }

    @Test func kernelControl_StartsStopsRestartsAndStressesRealThreads() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.kernelIDs().first)
        var reply = try d.control(id, "stop")
        #expect(reply.status == 200)
        #expect(reply.object["status"] as? String == "success")
        #expect(reply.object["kernel_status"] as? String == "idle")
        #expect(try d.get("/api/telemetry/kernels/status").object["idle"] as? Int == 1)
        #expect(d.telemetry.kernels.kernel(id)?.status.running == false)

        reply = try d.control(id, "stress")
        #expect(reply.status == 409)
        #expect(reply.object["code"] as? String == "KERNEL_STOPPED")

        reply = try d.control(id, "start")
        #expect(reply.status == 200)
        #expect(reply.object["kernel_status"] as? String == "active")
        #expect((number(reply.object["boot_time_ms"]) ?? 0) > 0)

        reply = try d.control(id, "restart")
        #expect(reply.status == 200)
        #expect(reply.object["action"] as? String == "restart")

        reply = try d.control(id, "stress")
        #expect(reply.status == 200)
        let stress = try #require(reply.object["stress"] as? [String: Any])
        #expect(stress["tasks"] as? Int == KernelRegistry.stressTasks)
        #expect(number(stress["megabytes_hashed"]) == 4)
        #expect((number(stress["throughput_mb_per_second"]) ?? 0) > 0)
        // Every stress task ran on that kernel.
        let stressed = try d.tasks().filter { ($0["description"] as? String)?.hasPrefix("kernel stress") == true }
        #expect(stressed.count == KernelRegistry.stressTasks)
        #expect(stressed.allSatisfy { $0["kernel_id"] as? String == id && $0["status"] as? String == "completed" })

        reply = try d.control(id, "explode")
        #expect(reply.status == 400)
        #expect(reply.object["code"] as? String == "INVALID_ACTION")
        #expect(try d.control("kern-00000000", "start").status == 404)
        let missing = try d.post("/api/telemetry/kernels/\(id)/control")
        #expect(missing.status == 422)
        #expect(missing.text.contains(#""loc":["query","action"]"#))
    }

    @Test func kernelLogs_ServeTheNewestLines() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.kernelIDs().first)
        _ = try d.control(id, "restart")
        let body = try d.get("/api/telemetry/kernels/\(id)/logs?lines=2").object
        let lines = try #require(body["lines"] as? [String])
        #expect(lines.count == 2)
        #expect(lines.last?.contains("control action restart") == true)
        #expect(lines.first?.contains("kernel started") == true)
        #expect(try d.get("/api/telemetry/kernels/\(id)/logs?lines=1001").status == 422)
        #expect(try d.get("/api/telemetry/kernels/kern-ffffffff/logs").status == 404)
    }
}
