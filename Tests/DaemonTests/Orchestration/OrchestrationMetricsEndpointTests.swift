import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// One test per endpoint of spec §4 and §8: numbers computed from stored tasks, never constants.
@Suite struct OrchestrationMetricsEndpointTests {
    @Test func dashboard_ComputesFromTasks() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let empty = try d.get("/api/metrics/dashboard")
        #expect(empty["performance"]?["success_rate"] == .null)
        #expect(empty["performance"]?["null_reasons"]?["success_rate"] != nil)
        _ = try d.createProject()
        let run = try d.execute()
        let dash = try d.get("/api/metrics/dashboard")
        #expect(dash["total_projects"] == 1)
        #expect(dash["active_tasks"] == 0)
        #expect(dash["completed_today"] == 1)
        #expect(dash["total_cost_today"] == 0)   // the local provider is free
        #expect(dash["performance"]?["success_rate"] == 1)
        #expect(dash["performance"]?["avg_iterations"] == run["metadata"]?["iterations"])
        #expect(dash["performance"]?["speed_improvement_factor"] == .null)
        #expect(dash["cost"]?["tokens"] == run["tokens"])
        // Every token priced at Claude's rate, minus what was paid (nothing).
        guard case .int(let tokens)? = run["tokens"], case .double(let savings)? = dash["cost"]?["savings_vs_all_claude"] else {
            Issue.record("numbers"); return
        }
        #expect(abs(savings - Double(tokens) / 1000 * 0.015) < 0.0001)
    }

    @Test func quality_IsTheDailyAverageOfCompletedTasks() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let run = try d.execute()
        let reply = try d.get("/api/metrics/quality")
        guard case .array(let days) = reply.json else { Issue.record("list"); return }
        #expect(days.count == 1)
        #expect(days.first?["overall_quality"] == run["metadata"]?["final_quality"])
        #expect(days.first?["tasks"] == 1)
        #expect(try d.get("/api/metrics/quality?start_date=2000-01-01&end_date=2000-01-02").json == [])
        let bad = try d.get("/api/metrics/quality?start_date=yesterday&project_id=")
        #expect(Set(bad.locs) == ["query.start_date", "query.project_id"])
        #expect(try d.get("/api/metrics/quality?start_date=2030-01-01&end_date=2029-01-01").locs == ["query.start_date"])
    }

    @Test func cost_AppliesThePeriod() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let run = try d.execute()
        let reply = try d.get("/api/metrics/cost?period=7d")
        #expect(reply["period"] == "7d")
        #expect(reply["tokens"] == run["tokens"])
        #expect(reply["cost_by_agent"]?[run["agent"]!.stringValue!] == 0)
        #expect(try d.get("/api/metrics/cost?period=1y").locs == ["query.period"])
    }

    @Test func agents_ReportsPerAssignedAgent() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.execute(#""prompt":"Design the architecture","task_type":"architecture""#)
        let reply = try d.get("/api/metrics/agents?period=30d")
        guard case .array(let agents) = reply.json else { Issue.record("list"); return }
        let claude = try #require(agents.first { $0["agent"] == "claude" })
        #expect(claude["total_tasks"] == 1)
        #expect(claude["success_rate"] == 1)
        #expect(try d.get("/api/metrics/agents?period=forever").status == 422)
    }

    @Test func performance_FiltersByProject() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        _ = try d.execute(#""prompt":"x","project_id":"\#(project)""#)
        #expect(try d.get("/api/metrics/performance?project_id=\(project)")["tasks_finished"] == 1)
        #expect(try d.get("/api/metrics/performance?project_id=other")["tasks_finished"] == 0)
    }

    @Test func apiHealth_RoundTripsTheDatabase() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let reply = try d.get("/api/health")
        #expect(reply.status == 200)
        #expect(reply["status"] == "healthy")
        #expect(reply["database"] == "connected")
        #expect(reply["redis"] == "not_used")
    }

    @Test func prometheus_CountsRequestsAndTasks() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.execute()
        _ = try d.get("/api/projects")
        let text = try d.get("/api/metrics").text
        #expect(text.contains(#"phantom_api_requests_total{method="POST",endpoint="/api/orchestration/execute"} 1"#))
        #expect(text.contains(#"phantom_api_duration_seconds_bucket{method="GET",endpoint="/api/projects",le="+Inf"} 1"#))
        #expect(text.contains(#"lazybird_tasks_completed_total{project_type="none",status="completed"} 1"#))
        #expect(text.contains(#"lazybird_circuit_breaker_open{agent="claude"} 0"#))
    }

    @Test func moduleHealth_FeedsTheDaemonsHealth() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let health = d.module.health()
        #expect(health.status == "healthy")
        #expect(health.details.first { $0.0 == "port" }?.1 == .int(d.port))
    }
}
