import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Everything a client creates survives `kill -9`; a task interrupted mid-run is re-queued and finishes.
@Suite struct OrchestrationRestartTests {
    static let childVariable = "ARGUS_ORCHESTRATION_CRASH_DIR"

    /// Child side of `sigkill_LosesNothingAcknowledged`: a no-op unless started by it. Creates state through
    /// the API, starts a task that blocks inside a slow agent, records the ids, then SIGKILLs itself.
    @Test func orchestrationCrashChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
        let dir = TemporaryDirectory(existing: URL(fileURLWithPath: path))
        let d = try OrchestrationDaemon(dir: dir)
        let slow = try SlowAgent()
        let project = try d.createProject("Survivor")
        let done = try #require(try d.execute(#""prompt":"finished before the crash","project_id":"\#(project)""#)["task_id"]?.stringValue)
        let config = try #require(try d.post("/api/hrm/config", #"{"project_id":"\#(project)","config":{"ml_iteration_prediction":{"max_iterations":4}}}"#)["config_id"]?.stringValue)
        let preset = try #require(try d.post("/api/hrm/config/presets", #"{"name":"kept","config":{}}"#)["id"]?.stringValue)
        _ = try d.post("/api/agents/connections", slow.connectionBody(id: "claude_slow"))
        _ = try d.post("/api/agents/files", #"{"file_path":"kept.md","content":"still here"}"#)
        let interrupted = try #require(try d.post("/api/orchestration/execute", #"{"prompt":"interrupted","project_id":"\#(project)","agent":"claude","wait":false}"#)["task_id"]?.stringValue)
        precondition(try Orch.eventually { slow.waiting == 1 })
        let ids = [project, done, config, preset, interrupted].joined(separator: "\n")
        try Data(ids.utf8).write(to: dir.url.appendingPathComponent("ids"))
        kill(getpid(), SIGKILL)
    }

    @Test func sigkill_LosesNothingAcknowledged() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["--testing-library", "swift-testing", "--filter", "orchestrationCrashChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = dir.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)
        let ids = String(decoding: try Data(contentsOf: dir.url.appendingPathComponent("ids")), as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(ids.count == 5)
        let (project, done, config, preset, interrupted) = (ids[0], ids[1], ids[2], ids[3], ids[4])

        let d = try OrchestrationDaemon(dir: dir)
        defer { d.stop() }
        #expect(try d.get("/api/projects/\(project)")["name"] == "Survivor")
        #expect(try d.get("/api/tasks/\(done)")["status"] == "completed")
        #expect(try d.get("/api/hrm/config?project_id=\(project)")["config_id"] == .string(config))
        #expect(try d.get("/api/hrm/config?project_id=\(project)")["config"]?["ml_iteration_prediction"]?["max_iterations"] == 4)
        guard case .array(let presets) = try d.get("/api/hrm/config/presets").json else { Issue.record("presets"); return }
        #expect(presets.contains { $0["id"] == .string(preset) })
        #expect(presets.count == 5)   // built-ins seeded once, not twice
        #expect(try d.get("/api/agents/connections/claude_slow").status == 200)
        #expect(try d.get("/api/agents/files/kept.md")["content"] == "still here")
        // The interrupted task runs again: the slow agent died with the child, so claude fails over.
        #expect(try Orch.eventually { try d.get("/api/tasks/\(interrupted)")["status"] == "completed" })
        #expect(try d.get("/api/tasks/\(interrupted)")["max_iterations"] == 4)
    }
}
