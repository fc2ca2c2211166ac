import Foundation
import HTTPServer
import Synchronization
import Testing
@testable import Daemon

/// Circuit breakers around real provider calls: an agent whose connection points at a closed port fails,
/// opens after 5 failures, turns half-open after 60 s (manual clock), re-opens on a failed trial, closes on
/// success, and keeps its state across a restart.
@Suite struct OrchestrationBreakerTests {
    final class Alerts: Sendable {
        let messages = Mutex<[String]>([])
        var all: [String] { messages.withLock { $0 } }
    }

    @Test func breaker_OpensHalfOpensClosesAndSurvivesRestart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let clock = ManualClock()
        var d = try OrchestrationDaemon(dir: dir, clock: clock)
        let alerts = Alerts()
        let subscription = d.daemon.events.subscribe { event in
            if case .module("orchestration", "system_alert", let payload) = event, let message = payload["message"]?.stringValue {
                alerts.messages.withLock { $0.append(message) }
            }
        }
        defer { subscription.cancel() }
        let broken = #"{"agent_id":"claude_down","agent_name":"Claude (unreachable)","connection_type":"remote","endpoint":"http://127.0.0.1:\#(try Orch.closedPort())/v1","agent_type":"claude"}"#
        #expect(try d.post("/api/agents/connections", broken).status == 201)

        for i in 1...5 {
            // Each run fails once on claude, switches, and still completes on another agent.
            let run = try d.execute(#""prompt":"task \#(i)","agent":"claude""#)
            #expect(run.status == 200, "\(run.text)")
            #expect(run["metadata"]?["selected_agent"] == "claude")
            #expect(run["agent"] != "claude")
        }
        let open = try d.get("/api/orchestration/circuit-breaker-status")["circuit_breakers"]?["claude"]
        #expect(open?["state"] == "open")
        #expect(open?["failure_count"] == 5)
        #expect(open?["last_failure"] == OrchestrationStore.iso(clock.now().timeIntervalSince1970))
        #expect(alerts.all.contains("Circuit breaker OPEN for agent 'claude' after 5 failures"))
        // While open, claude is not even tried.
        let skipped = try d.execute(#""prompt":"task 6","agent":"claude""#)
        #expect(skipped["metadata"]?["selected_agent"] != "claude")
        #expect(try d.get("/api/orchestration/circuit-breaker-status")["circuit_breakers"]?["claude"]?["failure_count"] == 5)

        // Restart: the open breaker is still open.
        d.stop()
        d = try OrchestrationDaemon(dir: dir, clock: clock)
        #expect(try d.get("/api/orchestration/circuit-breaker-status")["circuit_breakers"]?["claude"]?["state"] == "open")

        // After 60 s the next call is a trial; it fails, so the breaker re-opens at once.
        clock.advance(by: 61)
        _ = try d.execute(#""prompt":"trial","agent":"claude""#)
        let reopened = try d.get("/api/orchestration/circuit-breaker-status")["circuit_breakers"]?["claude"]
        #expect(reopened?["state"] == "open")
        #expect(reopened?["failure_count"] == 6)

        // Point claude at the local executor; after another 60 s a trial succeeds and closes it.
        #expect(try d.put("/api/agents/connections/claude_down", #"{"agent_name":"Claude (local)","connection_type":"local"}"#).status == 200)
        clock.advance(by: 61)
        let healed = try d.execute(#""prompt":"healed","agent":"claude""#)
        #expect(healed["metadata"]?["selected_agent"] == "claude")
        let closed = try d.get("/api/orchestration/circuit-breaker-status")["circuit_breakers"]?["claude"]
        #expect(closed?["state"] == "closed")
        #expect(closed?["failure_count"] == 0)
        d.stop()
    }

    @Test func allAgentsUnavailable_Answers503AndRecordsTheFailedTask() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        for agent in ["claude", "gemini", "copilot"] {
            let body = #"{"agent_id":"\#(agent)_off","agent_name":"off","connection_type":"local","enabled":false}"#
            #expect(try d.post("/api/agents/connections", body).status == 201)
        }
        let reply = try d.execute()
        #expect(reply.status == 503)
        let id = try #require(reply["task_id"]?.stringValue)
        #expect(try d.get("/api/tasks/\(id)")["status"] == "failed")
        #expect(try d.get("/api/orchestration/health")["status"] == "degraded")
    }
}
