import Foundation
import Testing
@testable import Daemon

/// §10 artifacts: traversal refused, size limits, SHA-256 verified on read, read cap, redaction, browser view.
@Suite struct AutopackArtifactTests {
    @Test(arguments: [
        "../etc/passwd", "..%2Fetc%2Fpasswd", "%252e%252e%252fetc", "/etc/passwd", "C:/Windows/win.ini", "C:win.ini",
        "a/../../b", "a/./b", "a//b", "a\\..\\b", "..", ".", "", "a/..b/c", "%2e%2e/x", "logs/\u{0}x",
    ])
    func traversalAndMalformedPaths_AreRefused(_ raw: String) {
        #expect(ArtifactPath.normalize(raw) == nil, "\(raw)")
    }

    @Test func normalPaths_AreKept() {
        #expect(ArtifactPath.normalize("phases/P1/builder_attempt_1.patch") == "phases/P1/builder_attempt_1.patch")
        #expect(ArtifactPath.normalize("run%20summary.md") == "run summary.md")
        #expect(ArtifactPath.normalize("a.b/c..d") == nil)   // `..` anywhere is refused, as in the original
    }

    @Test func overSockets_TraversalIs400_MissingPathIs422_UnknownIs404() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        for attack in ["../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e%252fx", "%2Fetc%2Fpasswd", "C:%5Cwin.ini"] {
            let reply = try s.get("/runs/r/artifacts/file?path=\(attack)")
            #expect(reply.status == 400, "\(attack)")
            let write = try s.request("PUT", "/runs/r/artifacts/file?path=\(attack)", body: Array("x".utf8), headers: s.key)
            #expect(write.status == 400, "\(attack)")
        }
        #expect(try s.get("/runs/r/artifacts/file").locations == ["query.path"])
        #expect(try s.get("/runs/r/artifacts/file?path=nothing.txt").status == 404)
        #expect(try s.get("/runs/none/artifacts/file?path=run_summary.md").status == 404)
        // An unknown run has an empty index (the spec: "empty list if run directory doesn't exist").
        let empty = try s.get("/runs/none/artifacts/index").object
        #expect((empty["artifacts"] as? [Any])?.isEmpty == true)
    }

    @Test func writeThenRead_IsContentAddressed_AndVerifiedOnRead() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        let content = Array("hello artifact\n".utf8)
        let put = try s.request("PUT", "/runs/r/artifacts/file?path=logs/build.log", body: content, headers: s.key)
        #expect(put.status == 201)
        let sha = try #require(put.object["sha256"] as? String)
        #expect(sha == ArtifactStore.sha256Hex(content))
        let blob = s.store.artifacts.url(for: sha)
        #expect(FileManager.default.fileExists(atPath: blob.path))
        #expect(blob.path.hasPrefix(s.dir.url.appendingPathComponent("data/autopack/blobs").path))
        let read = try s.get("/runs/r/artifacts/file?path=logs/build.log")
        #expect(read.body == content)
        #expect(read.headers["x-artifact-sha256"] == sha)
        #expect(read.headers["x-artifact-truncated"] == "false")
        // Writes need the key (403), and the run must exist (404).
        #expect(try s.request("PUT", "/runs/r/artifacts/file?path=x.txt", body: content).status == 403)
        #expect(try s.request("PUT", "/runs/zz/artifacts/file?path=x.txt", body: content, headers: s.key).status == 404)
        // Flip one byte on disk: the read refuses it instead of serving changed bytes.
        var bytes = try Data(contentsOf: blob)
        bytes[0] ^= 0xFF
        try bytes.write(to: blob)
        let corrupted = try s.get("/runs/r/artifacts/file?path=logs/build.log")
        #expect(corrupted.status == 500)
        #expect(corrupted.detail.contains("integrity"))
    }

    @Test func sizeLimits_UploadCapIs413_ReadCapTruncatesWithHeaders() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.artifactMaxBytes = 1000; $0.artifactReadCap = 100 })
        defer { s.stopAndClean() }
        try s.startRun("r")
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 1001)
        #expect(try s.request("PUT", "/runs/r/artifacts/file?path=big.txt", body: big, headers: s.key).status == 413)
        let ok = [UInt8](repeating: UInt8(ascii: "y"), count: 1000)
        #expect(try s.request("PUT", "/runs/r/artifacts/file?path=ok.txt", body: ok, headers: s.key).status == 201)
        let read = try s.get("/runs/r/artifacts/file?path=ok.txt")
        #expect(read.headers["x-artifact-truncated"] == "true")
        #expect(read.headers["x-artifact-original-size"] == "1000")
        #expect(read.text.hasPrefix(String(repeating: "y", count: 100) + "\n\n[... truncated"))
    }

    @Test func redaction_MasksSecretsOnRequest() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        let text = "step 1 ok\napi_key=sk-live-123\nAuthorization: Bearer abc.def\nplain line\n"
        _ = try s.request("PUT", "/runs/r/artifacts/file?path=env.txt", body: Array(text.utf8), headers: s.key)
        let redacted = try s.get("/runs/r/artifacts/file?path=env.txt&redact=true")
        #expect(!redacted.text.contains("sk-live-123"))
        #expect(!redacted.text.contains("abc.def"))
        #expect(redacted.text.contains("plain line"))
        #expect(redacted.headers["x-artifact-redaction-count"] == "2")
        #expect(try s.get("/runs/r/artifacts/file?path=env.txt").text == text)
    }

    @Test func browserArtifacts_ListScreenshotsAndHTML() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        for (path, size) in [("shots/home.png", 10), ("pages/index.html", 20), ("notes.txt", 5)] {
            _ = try s.request("PUT", "/runs/r/artifacts/file?path=\(path)", body: [UInt8](repeating: 1, count: size), headers: s.key)
        }
        let browser = try s.get("/runs/r/browser/artifacts").object
        #expect((browser["screenshots"] as? [[String: Any]])?.map { $0["path"] as? String } == ["shots/home.png"])
        #expect((browser["html_files"] as? [[String: Any]])?.map { $0["path"] as? String } == ["pages/index.html"])
        #expect(browser["total_size_bytes"] as? Int == 30)
        #expect(browser["total_count"] as? Int == 2)
    }
}

@Suite struct AutopackFileNameTests {
    @Test func fileExtension_HandlesDotOnlyAndHiddenNames() {
        #expect(fileExtension("report.TXT") == "txt")
        #expect(fileExtension("archive.tar.gz") == "gz")
        #expect(fileExtension("...") == "")
        #expect(fileExtension(".") == "")
        #expect(fileExtension(".env") == "")
        #expect(fileExtension("Makefile") == "")
        #expect(fileExtension("name.") == "")
    }
}
