import Foundation
import Testing
@testable import Daemon

/// §11 storage, §12 upload, §13 research.
@Suite struct AutopackStorageTests {
    static func makeTree(_ root: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("proj/__pycache__"), withIntermediateDirectories: true)
        try Data(count: 300).write(to: root.appendingPathComponent("proj/__pycache__/m.pyc"))
        try Data(count: 200).write(to: root.appendingPathComponent("proj/build.log"))
        try Data(count: 100).write(to: root.appendingPathComponent("proj/notes.tmp"))
        try Data(count: 50).write(to: root.appendingPathComponent("proj/main.swift"))
    }

    @Test func scan_ClassifiesCandidates_PersistsThem_AndDecisionsTeachRules() throws {
        let root = try TemporaryDirectory()
        defer { root.cleanup() }
        try Self.makeTree(root.url)
        let s = try AutopackServer(settings: AutopackServer.settings { $0.storageScanRoots = [root.path] })
        defer { s.stopAndClean() }
        let outside = try s.post("/storage/scan", ["scan_target": "/etc"], headers: s.key)
        #expect(outside.status == 422)
        #expect(outside.locations == ["body.scan_target"])
        #expect(try s.post("/storage/scan", ["scan_target": root.path]).status == 403)
        let scan = try s.post("/storage/scan", ["scan_target": root.path], headers: s.key)
        #expect(scan.status == 201, "\(scan.text)")
        let detail = scan.object
        let candidates = (detail["candidates"] as? [[String: Any]]) ?? []
        #expect(Set(candidates.compactMap { $0["category"] as? String }) == ["caches", "logs", "temp_files"])
        #expect((detail["scan"] as? [String: Any])?["total_items"] as? Int == 4)
        let id = try #require((detail["scan"] as? [String: Any])?["id"] as? Int)
        #expect(try s.get("/storage/scans").status == 403)
        #expect(try s.get("/storage/scans", headers: s.key).array.count == 1)
        #expect(try s.get("/storage/scans/\(id)", headers: s.key).object["stats_by_category"] != nil)
        #expect(try s.get("/storage/scans/999", headers: s.key).status == 404)
        let ids = candidates.compactMap { $0["id"] as? Int }
        let decided = try s.post("/storage/scans/\(id)/approve", ["candidate_ids": ids, "approved_by": "ops", "decision": "approve"], headers: s.key)
        #expect(decided.object["updated_count"] as? Int == 3)
        #expect(try s.post("/storage/scans/\(id)/approve", ["candidate_ids": [424242], "approved_by": "ops"], headers: s.key).locations == ["body.candidate_ids.0"])
        let patterns = try s.post("/storage/patterns/analyze?min_samples=1&min_confidence=0.5")
        #expect(patterns.array.count >= 3)
        let rules = try s.get("/storage/learned-rules").array
        let ruleID = try #require(rules.first?["id"] as? Int)
        #expect(rules.first?["status"] as? String == "pending")
        #expect(try s.post("/storage/learned-rules/\(ruleID)/approve").status == 422)
        #expect(try s.post("/storage/learned-rules/\(ruleID)/approve?approved_by=ops").object["status"] as? String == "approved")
        #expect(try s.post("/storage/learned-rules/\(ruleID)/approve?approved_by=ops").status == 409)
        #expect(try s.post("/storage/learned-rules/999/approve?approved_by=ops").status == 404)
    }

    @Test func recommendations_AndSteam_AnswerFromStoredScans() throws {
        let root = try TemporaryDirectory()
        defer { root.cleanup() }
        try Self.makeTree(root.url)
        let s = try AutopackServer(settings: AutopackServer.settings { $0.storageScanRoots = [root.path] })
        defer { s.stopAndClean() }
        #expect(try s.get("/storage/recommendations").object["total_count"] as? Int == 0)
        _ = try s.post("/storage/scan", ["scan_target": root.path], headers: s.key)
        let recs = try s.get("/storage/recommendations").object
        #expect(recs["total_potential_savings_bytes"] as? Int == 600)
        #expect(((recs["recommendations"] as? [[String: Any]]) ?? []).contains { $0["category"] as? String == "caches" })
        let steam = try s.get("/storage/steam/games").object
        #expect(steam["steam_available"] as? Bool == false)
    }

    @Test func upload_StoresTheFilePart_ContentAddressed_WithLimits() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.artifactMaxBytes = 2048 })
        defer { s.stopAndClean() }
        let boundary = "XyZ123"
        func form(_ content: [UInt8], name: String = "file") -> [UInt8] {
            Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"../../evil/report.txt\"\r\nContent-Type: text/plain\r\n\r\n".utf8)
                + content + Array("\r\n--\(boundary)--\r\n".utf8)
        }
        let headers = s.key.merging(["Content-Type": "multipart/form-data; boundary=\(boundary)"]) { $1 }
        let content = Array("quarterly numbers\n".utf8)
        let reply = try s.request("POST", "/files/upload", body: form(content), headers: headers)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.object["filename"] as? String == "report.txt")
        #expect(reply.object["size"] as? Int == content.count)
        #expect((reply.object["stored_as"] as? String)?.hasSuffix(".txt") == true)
        let sha = try #require(reply.object["sha256"] as? String)
        #expect(try s.store.artifacts.read(sha) == content)
        #expect(try s.request("POST", "/files/upload", body: form(content), headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"]).status == 403)
        #expect(try s.request("POST", "/files/upload", body: form([UInt8](repeating: 0, count: 2049)), headers: headers).status == 413)
        #expect(try s.request("POST", "/files/upload", body: form(content, name: "other"), headers: headers).locations == ["body.file"])
        #expect(try s.request("POST", "/files/upload", body: content, headers: s.key).status == 422)
    }

    @Test func research_SearchesStoredIssuesErrorsAndNotes() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        _ = try s.post("/runs/r/phases/P1/record_issue?issue_key=flaky_probe&severity=minor")
        _ = try s.post("/dashboard/human-notes", ["note": "the probe is flaky on Mondays"])
        let session = try s.post("/research/sessions", ["query": "flaky probe"])
        #expect(session.status == 201)
        let id = try #require(session.object["session_id"] as? String)
        let sources = Set(((session.object["findings"] as? [[String: Any]]) ?? []).compactMap { $0["source"] as? String })
        #expect(sources == ["issue", "human_note"])
        #expect(try s.get("/research/sessions/\(id)").object["finding_count"] as? Int == session.object["finding_count"] as? Int)
        #expect(try s.get("/research/sessions/nope").status == 404)
    }
}
