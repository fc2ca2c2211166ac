import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// One test per endpoint of spec §1–§3 over real sockets on the orchestration listener.
@Suite struct OrchestrationCoreEndpointTests {
    @Test func execute_RunsTheTaskThroughAProviderAndStoresIt() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let reply = try d.execute(#""prompt":"Review code for security vulnerabilities: SQL injection in auth","task_type":"security","files":["src/a.py"],"workspace":"./project","requires_security":true"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply["agent"] == "claude")   // the security rule
        #expect(reply["content"]?.stringValue?.contains("sql") == true)
        guard case .int(let tokens)? = reply["tokens"] else { Issue.record("tokens"); return }
        #expect(tokens > 0)
        #expect(reply["session_id"]?.stringValue?.hasPrefix("sess_") == true)
        let id = try #require(reply["task_id"]?.stringValue)
        let task = try d.get("/api/tasks/\(id)")
        #expect(task["status"] == "completed")
        #expect(task["final_quality"] == reply["metadata"]?["final_quality"])
        #expect(task["tests_passing"] == true)
        #expect(task["security_issues"] == 0)
        #expect(task["current_iteration"] == reply["metadata"]?["iterations"])
    }

    @Test func execute_RejectsBadBodiesAtomically() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let missing = try d.post("/api/orchestration/execute", #"{"task_type":"wizardry","files":"x","requires_security":"yes"}"#)
        #expect(missing.status == 422)
        #expect(Set(missing.locs) == ["body.prompt", "body.task_type", "body.files", "body.requires_security"])
        #expect(try d.post("/api/orchestration/execute", "{not json").status == 422)
        #expect(try d.post("/api/orchestration/execute", #"{"prompt":"x","project_id":"nope"}"#).locs == ["body.project_id"])
        #expect(try d.post("/api/orchestration/execute", #"{"prompt":"x","surprise":1}"#).locs == ["body.surprise"])
        #expect(try d.get("/api/tasks")["total"] == 0)
    }

    @Test func orchestrationHealth_ReportsWorkersAndAgents() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let reply = try d.get("/api/orchestration/health")
        #expect(reply.status == 200)
        #expect(reply["status"] == "healthy")
        #expect(reply["orchestrator"] == "initialized")
        #expect(reply["workers"] == 2)
        #expect(reply["available_agents"] == ["claude", "gemini", "copilot"])
    }

    @Test func circuitBreakerStatus_ListsEveryAgent() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let reply = try d.get("/api/orchestration/circuit-breaker-status")
        #expect(reply.status == 200)
        for agent in ["claude", "gemini", "copilot"] {
            #expect(reply["circuit_breakers"]?[agent] == ["state": "closed", "failure_count": 0, "last_failure": nil])
        }
    }

    @Test func listProjects_ShowsSlotsAndStatisticsFromTasks() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let a = try d.createProject("A")
        _ = try d.createProject("B", type: "node")
        #expect(try d.execute(#""prompt":"Add a parser","project_id":"\#(a)""#).status == 200)
        let list = try d.get("/api/projects")
        guard case .array(let projects) = list.json else { Issue.record("not a list"); return }
        #expect(projects.map { $0["slot"] } == ["Projekt-A", "Projekt-B"])
        #expect(projects[0]["total_tasks"] == 1)
        #expect(projects[0]["successful_tasks"] == 1)
        #expect(projects[0]["avg_quality"] != nil && projects[0]["avg_quality"] != .null)
        #expect(projects[1]["total_tasks"] == 0)
        #expect(projects[1]["avg_quality"] == .null)
    }

    @Test func getProject_Answers404ForUnknownIds() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try d.createProject()
        #expect(try d.get("/api/projects/\(id)")["name"] == "Demo")
        let missing = try d.get("/api/projects/nope")
        #expect(missing.status == 404)
        #expect(missing["detail"] == "Project not found")
    }

    @Test func createProject_FillsThreeSlotsThenRefuses() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let created = try d.post("/api/projects", #"{"name":"P","type":"react","github_repo":"https://github.com/u/r","config":{"priority":{"mode":"speed"}}}"#)
        #expect(created.status == 201)
        #expect(created["config"]?["priority"]?["mode"] == "speed")
        #expect(created["config"]?["timeframe"]?["max_minutes"] == 30)   // defaults fill the rest
        let invalid = try d.post("/api/projects", #"{"name":"","type":"rust","github_repo":"ftp://x","config":{"risk_tolerance":{"level":101}}}"#)
        #expect(Set(invalid.locs) == ["body.name", "body.type", "body.github_repo", "body.config.risk_tolerance.level"])
        _ = try d.createProject("Q")
        _ = try d.createProject("R")
        let full = try d.post("/api/projects", #"{"name":"S","type":"python"}"#)
        #expect(full.status == 400)
        #expect(full["detail"] == "No available project slots (max 3)")
        guard case .array(let all) = try d.get("/api/projects").json else { return }
        #expect(all.count == 3)
    }

    @Test func updateProject_ChangesOnlyGivenFields() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try d.createProject()
        let updated = try d.put("/api/projects/\(id)", #"{"name":"Renamed","status":"paused","config":{"timeframe":{"max_minutes":15}}}"#)
        #expect(updated.status == 200)
        #expect(updated["name"] == "Renamed")
        #expect(updated["status"] == "paused")
        #expect(updated["config"]?["timeframe"]?["max_minutes"] == 15)
        #expect(updated["config"]?["timeframe"]?["preset"] == "standard")
        let bad = try d.put("/api/projects/\(id)", #"{"name":"X","status":"sleeping"}"#)
        #expect(bad.locs == ["body.status"])
        #expect(try d.get("/api/projects/\(id)")["name"] == "Renamed")   // nothing half-written
        #expect(try d.put("/api/projects/nope", #"{"name":"X"}"#).status == 404)
        // A paused project takes no tasks.
        #expect(try d.execute(#""prompt":"x","project_id":"\#(id)""#).status == 409)
    }

    @Test func deleteProject_RemovesItsTasks() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try d.createProject()
        let task = try #require(try d.execute(#""prompt":"x","project_id":"\#(id)""#)["task_id"]?.stringValue)
        #expect(try d.delete("/api/projects/\(id)").status == 200)
        #expect(try d.get("/api/projects/\(id)").status == 404)
        #expect(try d.get("/api/tasks/\(task)").status == 404)
        #expect(try d.delete("/api/projects/\(id)").status == 404)
    }

    @Test func updateProjectConfig_MergesSectionsAndValidates() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try d.createProject()
        let reply = try d.put("/api/projects/\(id)/config", #"{"priority":{"mode":"speed"},"timeframe":{"max_minutes":15,"preset":"quick"}}"#)
        #expect(reply.status == 200)
        #expect(reply["config"]?["priority"]?["mode"] == "speed")
        #expect(reply["config"]?["timeframe"] == ["max_minutes": 15, "preset": "quick"])
        #expect(reply["config"]?["deployment"]?["targets"] == ["windows"])
        let bad = try d.put("/api/projects/\(id)/config", #"{"priority":{"mode":"speed"},"ml_components":{"agent_switching":"yes"}}"#)
        #expect(bad.locs == ["body.ml_components.agent_switching"])
        #expect(try d.get("/api/projects/\(id)")["config"]?["ml_components"]?["agent_switching"] == true)
        #expect(try d.put("/api/projects/nope/config", "{}").status == 404)
    }

    @Test func listTasks_PaginatesFiltersAndValidates() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        for i in 0..<3 { #expect(try d.execute(#""prompt":"task \#(i)","project_id":"\#(project)""#).status == 200) }
        #expect(try d.execute(#""prompt":"loose task""#).status == 200)
        let page = try d.get("/api/tasks?project_id=\(project)&page=2&page_size=2")
        #expect(page["total"] == 3)
        #expect(page["total_pages"] == 2)
        #expect(page["page"] == 2)
        guard case .array(let items)? = page["items"] else { Issue.record("items"); return }
        #expect(items.count == 1)
        #expect(items[0]["title"] == "task 0")   // newest first
        #expect(try d.get("/api/tasks?status=completed")["total"] == 4)
        #expect(try d.get("/api/tasks?status=pending")["total"] == 0)
        let bad = try d.get("/api/tasks?page=0&page_size=101&status=done")
        #expect(Set(bad.locs) == ["query.page", "query.page_size", "query.status"])
    }

    @Test func getTask_ReturnsEverySpecField() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.execute()["task_id"]?.stringValue)
        let task = try d.get("/api/tasks/\(id)")
        for field in ["id", "project_id", "issue_number", "title", "description", "labels", "status", "assigned_agent", "agent_switches",
                      "current_iteration", "max_iterations", "current_quality", "final_quality", "tests_passing", "security_issues",
                      "started_at", "completed_at", "duration_seconds", "estimated_cost", "actual_cost", "created_at", "updated_at"] {
            #expect(task[field] != nil, "missing \(field)")
        }
        #expect(task["max_iterations"] == 7)   // from the balanced preset's ml_iteration_prediction
        #expect(try d.get("/api/tasks/nope").status == 404)
    }

    @Test func retryTask_RunsAFinishedTaskAgain() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.execute()["task_id"]?.stringValue)
        let retried = try d.post("/api/tasks/\(id)/retry")
        #expect(retried.status == 200)
        #expect(try Orch.eventually { try d.get("/api/tasks/\(id)")["status"] == "completed" })
        #expect(try d.get("/api/tasks/\(id)")["attempt"] == 2)
        #expect(try d.post("/api/tasks/nope/retry").status == 404)
    }

    @Test func cancelTask_StopsRunningAndPendingTasks() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let agent = try SlowAgent()
        defer { agent.stop() }
        #expect(try d.post("/api/agents/connections", agent.connectionBody(id: "claude_slow")).status == 201)
        // Two workers: two tasks block inside the slow agent, the third waits in the queue.
        var ids: [String] = []
        for i in 0..<3 {
            let reply = try d.post("/api/orchestration/execute", #"{"prompt":"slow \#(i)","agent":"claude","wait":false}"#)
            #expect(reply.status == 202)
            ids.append(try #require(reply["task_id"]?.stringValue))
        }
        #expect(try Orch.eventually { agent.waiting == 2 })
        let pending = try #require(try ids.first { try d.get("/api/tasks/\($0)")["status"] == "pending" })
        let cancelledPending = try d.post("/api/tasks/\(pending)/cancel")
        #expect(cancelledPending["task"]?["status"] == "failed")
        #expect(cancelledPending["task"]?["error"] == "cancelled")
        let running = try #require(ids.first { $0 != pending })
        let done = DispatchSemaphore(value: 0)
        let box = ReplyBox()
        DispatchQueue.global().async { box.reply = try? d.post("/api/tasks/\(running)/cancel"); done.signal() }
        #expect(try Orch.eventually { d.module.services.queue.isCancelled(running) })
        agent.release()
        done.wait()
        #expect(box.reply?["task"]?["status"] == "failed")
        #expect(box.reply?["task"]?["error"] == "cancelled")
        #expect(try d.post("/api/tasks/\(running)/cancel").status == 409)
    }
}

import Synchronization

/// Carries a reply from a background request; the semaphore it is read after orders the accesses.
final class ReplyBox: @unchecked Sendable { var reply: OrchestrationDaemon.Reply? }

/// An HTTP agent that holds every call until released, so tests can catch tasks mid-run.
final class SlowAgent: Sendable {
    final class State: Sendable {
        let released = Atomic<Bool>(false)
        let held = Atomic<Int>(0)
    }
    private let server: HTTPServer
    private let state = State()

    init() throws {
        let router = Router(context: BasicRequestContext.self)
        let state = self.state
        router.post("/agent") { _, _ in
            state.held.add(1, ordering: .relaxed)
            let deadline = Date().addingTimeInterval(30)
            while !state.released.load(ordering: .relaxed) && Date() < deadline { usleep(5_000) }
            state.held.subtract(1, ordering: .relaxed)
            return .json(["content": "done slowly"])
        }
        server = try HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0), responder: router,
                                workerPool: WorkerPool(threadCount: 4))
        try server.start()
    }

    var waiting: Int { state.held.load(ordering: .relaxed) }
    func release() { state.released.store(true, ordering: .relaxed) }
    func stop() { release(); server.shutdown(gracePeriod: .seconds(1)) }

    func connectionBody(id: String) -> String {
        #"{"agent_id":"\#(id)","agent_name":"Slow","connection_type":"remote","endpoint":"http://127.0.0.1:\#(server.port!)/agent","agent_type":"claude"}"#
    }
}
