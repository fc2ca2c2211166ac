import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// The SLA enforcer on a daemon driven by a ``ManualClock``: past 100 % of its SLA a task becomes high, past
/// 200 % critical, and the breach shows in the queue, the task and the workload.
@Suite struct TelemetrySLATests {
    @Test func overdueTasks_AreEscalatedOnce_AndCountedAsBreaches() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let clock = ManualClock()
        let configuration = TestDaemon.configuration(dir)
        let daemon = try ArgusDaemon(configuration: configuration, logSink: .discard, clock: clock)
        try daemon.start()
        defer { daemon.shutdown() }
        let module = try #require(daemon.modules.compactMap { $0 as? TelemetryModule }.first)
        func get(_ path: String) throws -> [String: Any] {
            let (status, body) = try LoopbackHTTPClient.send(port: daemon.port!, method: "GET", path: path, headers: ["X-API-Key": TestDaemon.key])
            precondition(status == 200, "\(path): \(status)")
            return (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
        }
        module.kernels.stopAll()
        let inbox = configuration.dataDirectory.appendingPathComponent("telemetry/inbox")
        try Data(count: 64).write(to: inbox.appendingPathComponent(".late.bin"))
        try FileManager.default.moveItem(at: inbox.appendingPathComponent(".late.bin"), to: inbox.appendingPathComponent("late.bin"))
        module.scanInbox()
        let task = try #require((try get("/api/telemetry/htm/tasks").object(at: "tasks")).first)
        #expect(task["priority"] as? String == "normal")

        clock.advance(by: 14 * 60)          // 93 % of the 15-minute SLA: nothing happens
        module.enforceSLA()
        #expect((try get("/api/telemetry/htm/tasks").object(at: "tasks")).first?["priority"] as? String == "normal")

        clock.advance(by: 2 * 60)           // 107 %: high
        module.enforceSLA()
        module.enforceSLA()                 // once only
        var row = try #require((try get("/api/telemetry/htm/tasks").object(at: "tasks")).first)
        #expect(row["priority"] as? String == "high")
        #expect(row["sla_met"] as? Bool == false)
        #expect(try get("/api/telemetry/htm/queue")["sla_breaches"] as? Int == 1)
        #expect(try get("/api/telemetry/htm/workload")["auto_escalations_today"] as? Int == 1)

        clock.advance(by: 15 * 60)          // 207 %: critical, and first in dispatch order
        module.enforceSLA()
        row = try #require((try get("/api/telemetry/htm/tasks").object(at: "tasks")).first)
        #expect(row["priority"] as? String == "critical")
        #expect((try get("/api/telemetry/htm/queue").object(at: "tasks")).first?["priority"] as? String == "critical")
    }
}

private extension Dictionary where Key == String, Value == Any {
    func object(at key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
}
