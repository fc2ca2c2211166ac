import Foundation
import HTTPServer

extension AutopackStore {
    static let screenshotExtensions = ["png", "jpg", "jpeg", "gif", "webp"]

    /// `GET /runs/{id}/artifacts/index`: every artifact of the run (an unknown run has none, as the spec says).
    func artifactIndex(runID: String) throws -> JSONValue {
        try read { c in
            let rows = try c.query("SELECT path, size_bytes, modified_at, sha256 FROM artifacts WHERE run_id = ? ORDER BY path",
                                   [.text(runID)]) { s -> JSONValue in
                .object([("path", .string(s.string(0) ?? "")), ("size_bytes", .int(s.int(1))),
                         ("modified_at", AutopackTime.json(s.double(2))), ("sha256", .string(s.string(3) ?? ""))])
            }
            let total = rows.reduce(0) { if case .int(let n)? = $1["size_bytes"] { $0 + n } else { $0 } }
            return .object([("run_id", .string(runID)), ("artifacts", .array(rows)), ("total_size_bytes", .int(total))])
        }
    }

    struct ArtifactContent {
        var bytes: [UInt8]
        var originalSize: Int
        var truncated: Bool
        var sha256: String
    }

    /// One artifact's bytes, SHA-256 verified, truncated at the read cap. 404 when the run or path is unknown.
    func artifactContent(runID: String, path: String) throws -> ArtifactContent {
        let row = try read { c in
            try c.query("SELECT sha256, size_bytes FROM artifacts WHERE run_id = ? AND path = ?", [.text(runID), .text(path)]) {
                ($0.string(0) ?? "", $0.int(1))
            }.first
        }
        guard let (sha, size) = row else { throw notFound("Artifact not found: \(path)") }
        var bytes = try artifacts.read(sha)
        let cap = settings.artifactReadCap
        let truncated = cap > 0 && bytes.count > cap
        if truncated {
            bytes = Array(bytes.prefix(cap)) + Array("\n\n[... truncated: \(size - cap) of \(size) bytes not shown ...]\n".utf8)
        }
        return ArtifactContent(bytes: bytes, originalSize: size, truncated: truncated, sha256: sha)
    }

    /// Stores an uploaded artifact for an existing run (`PUT /runs/{id}/artifacts/file?path=`).
    func storeArtifact(runID: String, path: String, bytes: [UInt8]) throws -> JSONValue {
        try transaction { c in
            _ = try requireRun(c, runID)
            try putArtifact(c, runID: runID, path: path, bytes: bytes)
            return .object([("run_id", .string(runID)), ("path", .string(path)), ("size_bytes", .int(bytes.count)),
                            ("sha256", .string(ArtifactStore.sha256Hex(bytes)))])
        }
    }

    /// `GET /runs/{id}/browser/artifacts`: screenshots and HTML files, in the seed's shape
    /// (`screenshots`, `html_files`, `total_size_bytes`) plus the code's (`artifacts`, `total_count`).
    func browserArtifacts(runID: String) throws -> JSONValue {
        try read { c in
            let rows = try c.query("SELECT path, size_bytes, modified_at FROM artifacts WHERE run_id = ? ORDER BY path", [.text(runID)]) {
                (path: $0.string(0) ?? "", size: $0.int(1), modified: $0.double(2))
            }
            var screenshots: [JSONValue] = [], html: [JSONValue] = [], all: [JSONValue] = []
            var total = 0
            for row in rows {
                let name = (row.path.split(separator: "/").last.map(String.init) ?? row.path).lowercased()
                let ext = fileExtension(name)
                let kind: String
                if Self.screenshotExtensions.contains(ext) || (["screenshot", "capture"].contains { name.contains($0) } && ext != "html") {
                    kind = "screenshot"
                } else if ext == "html" || ext == "htm" || ["browser", "page"].contains(where: { name.contains($0) }) {
                    kind = "html"
                } else { continue }
                let item: JSONValue = .object([("path", .string(row.path)), ("timestamp", AutopackTime.json(row.modified)),
                                               ("size_bytes", .int(row.size))])
                if kind == "screenshot" { screenshots.append(item) } else { html.append(item) }
                all.append(.object([("path", .string(row.path)), ("type", .string(kind)), ("size_bytes", .int(row.size)),
                                    ("modified_at", AutopackTime.json(row.modified))]))
                total += row.size
            }
            return .object([("run_id", .string(runID)), ("screenshots", .array(screenshots)), ("html_files", .array(html)),
                            ("total_size_bytes", .int(total)), ("artifacts", .array(all)), ("total_count", .int(all.count))])
        }
    }
}
