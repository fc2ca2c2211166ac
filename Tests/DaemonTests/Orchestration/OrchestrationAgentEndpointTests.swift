import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// One test per endpoint of spec §5: agent connections in SQLite, agent files on disk under a contained root.
@Suite struct OrchestrationAgentEndpointTests {
    static let gemini = #"{"agent_id":"gemini_main","agent_name":"Google Gemini","connection_type":"local","endpoint":null,"port":null,"api_key_id":"key_123","enabled":true}"#

    @Test func listConnections_StartsEmptyThenShowsCreated() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.get("/api/agents/connections").json == ["connections": []])
        _ = try d.post("/api/agents/connections", Self.gemini)
        guard case .array(let list)? = try d.get("/api/agents/connections")["connections"] else { Issue.record("list"); return }
        #expect(list.map { $0["agent_id"] } == ["gemini_main"])
        #expect(list.first?["agent_type"] == "gemini")   // from the id's prefix
    }

    @Test func getConnection_404sForUnknown() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.post("/api/agents/connections", Self.gemini)
        #expect(try d.get("/api/agents/connections/gemini_main")["api_key_id"] == "key_123")
        #expect(try d.get("/api/agents/connections/nope").status == 404)
    }

    @Test func createConnection_ValidatesAndRejectsDuplicates() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.post("/api/agents/connections", Self.gemini).status == 201)
        #expect(try d.post("/api/agents/connections", Self.gemini).status == 400)
        let bad = try d.post("/api/agents/connections", #"{"agent_id":"a b","agent_name":"","connection_type":"api","port":70000,"enabled":"yes"}"#)
        #expect(Set(bad.locs) == ["body.agent_id", "body.agent_name", "body.endpoint", "body.port", "body.enabled"])
        guard case .array(let list)? = try d.get("/api/agents/connections")["connections"] else { return }
        #expect(list.count == 1)
    }

    @Test func updateConnection_ReplacesAndDisablingMakesTheAgentUnavailable() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.post("/api/agents/connections", Self.gemini)
        let reply = try d.put("/api/agents/connections/gemini_main", #"{"agent_name":"Gemini (off)","connection_type":"local","enabled":false}"#)
        #expect(reply.status == 200)
        #expect(reply["enabled"] == false)
        #expect(try d.get("/api/orchestration/health")["available_agents"] == ["claude", "copilot"])
        // The reward model would pick gemini; with gemini disabled the task goes elsewhere.
        #expect(try d.execute(#""prompt":"x","task_type":"bulk_analysis""#)["agent"] != "gemini")
        #expect(try d.put("/api/agents/connections/nope", Self.gemini).status == 404)
        #expect(try d.put("/api/agents/connections/gemini_main", #"{"agent_id":"other","agent_name":"x","connection_type":"local"}"#).locs == ["body.agent_id"])
    }

    @Test func deleteConnection_RemovesIt() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.post("/api/agents/connections", Self.gemini)
        #expect(try d.delete("/api/agents/connections/gemini_main").status == 200)
        #expect(try d.delete("/api/agents/connections/gemini_main").status == 404)
    }

    @Test func listFiles_FiltersByType() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.post("/api/agents/files", ##"{"file_path":".claude/skills/review.md","content":"# Review"}"##).status == 201)
        #expect(try d.post("/api/agents/files", #"{"file_path":".claude/commands/ship.md","content":"ship it"}"#).status == 201)
        #expect(try d.post("/api/agents/files", #"{"file_path":"mcp/servers.json","content":"{}"}"#).status == 201)
        guard case .array(let all)? = try d.get("/api/agents/files")["files"],
              case .array(let skills)? = try d.get("/api/agents/files?file_type=skill")["files"] else { Issue.record("lists"); return }
        #expect(all.count == 3)
        #expect(skills.map { $0["file_path"] } == [".claude/skills/review.md"])
        #expect(try d.get("/api/agents/files?file_type=binary").locs == ["query.file_type"])
    }

    @Test func getFile_ReadsTheRealFileAndRefusesTraversal() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.post("/api/agents/files", ##"{"file_path":".claude/skills/review.md","content":"# Review\n"}"##)
        let file = try d.get("/api/agents/files/.claude%2Fskills%2Freview.md")
        #expect(file["content"] == "# Review\n")
        #expect(file["file_type"] == "skill")
        let onDisk = d.dir.url.appendingPathComponent("data/orchestration/agent-files/.claude/skills/review.md")
        #expect(try String(contentsOf: onDisk, encoding: .utf8) == "# Review\n")
        for evil in ["..%2F..%2Fapi_key", "%252e%252e%252fapi_key", "%2Fetc%2Fpasswd", "C:%5Cwindows"] {
            #expect(try d.get("/api/agents/files/\(evil)").status == 422, "\(evil)")
        }
        #expect(try d.get("/api/agents/files/missing.md").status == 404)
    }

    @Test func updateFile_ReplacesContent() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.post("/api/agents/files", #"{"file_path":"guide.py","content":"a = 1"}"#)
        #expect(try d.put("/api/agents/files/guide.py", #"{"content":"a = 2"}"#)["content"] == "a = 2")
        #expect(try d.put("/api/agents/files/guide.py", #"{"content":5}"#).locs == ["body.content"])
        #expect(try d.get("/api/agents/files/guide.py")["content"] == "a = 2")
        #expect(try d.put("/api/agents/files/absent.py", #"{"content":"x"}"#).status == 404)
    }

    @Test func createFile_RefusesExistingAndEscapingPaths() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.post("/api/agents/files", #"{"file_path":"a.md","content":"x"}"#).status == 201)
        #expect(try d.post("/api/agents/files", #"{"file_path":"a.md","content":"y"}"#).status == 409)
        #expect(try d.post("/api/agents/files", #"{"file_path":"../escape.md","content":"y"}"#).locs == ["body.file_path"])
        #expect(try d.post("/api/agents/files", #"{"file_path":"b.md","file_type":"skill","content":"y"}"#).locs == ["body.file_type"])
        #expect(!FileManager.default.fileExists(atPath: d.dir.url.appendingPathComponent("data/orchestration/escape.md").path))
    }

    @Test func deleteFile_RemovesItFromDisk() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.post("/api/agents/files", #"{"file_path":"dir/z.md","content":"x"}"#)
        #expect(try d.delete("/api/agents/files/dir%2Fz.md").status == 200)
        #expect(!FileManager.default.fileExists(atPath: d.dir.url.appendingPathComponent("data/orchestration/agent-files/dir/z.md").path))
        #expect(try d.delete("/api/agents/files/dir%2Fz.md").status == 404)
    }
}
