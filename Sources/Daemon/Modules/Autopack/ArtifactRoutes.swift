import HTTPServer

/// §10 artifacts: index, file content (traversal-checked, SHA-256 verified, capped, optionally redacted),
/// browser artifacts, and the write side the executor uses (`PUT …/artifacts/file`).
struct ArtifactRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext

    static let binaryExtensions = ["png", "jpg", "jpeg", "gif", "webp", "zip", "gz", "pdf"]

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store
        let settings = ctx.settings
        let inbox = ctx.group(router, ctx.read)
        inbox.get("/runs/{run_id}/artifacts/index", docs: Docs.docs(
            "Every artifact of a run (empty for an unknown run)", "operator surface")
        ) { _, context in
            .json(try store.artifactIndex(runID: try context.parameters.require("run_id")))
        }
        inbox.get("/runs/{run_id}/artifacts/file", docs: Docs.docs(
            "One artifact's content (SHA-256 verified, truncated at AUTOPACK_ARTIFACT_READ_SIZE_CAP)", "operator surface", query: [
                OpenAPIParameter(query: "path", required: true, description: "relative path within the run"),
                OpenAPIParameter(query: "redact", schema: JSONSchema.boolean, description: "mask secrets (api keys, passwords, tokens)"),
            ], responses: [400: "Path traversal or malformed path", 404: "Artifact not found", 422: "path missing"])
        ) { request, context in
            let runID = try context.parameters.require("run_id")
            let path = try Self.path(request)
            var content: AutopackStore.ArtifactContent
            do { content = try store.artifactContent(runID: runID, path: path) } catch let error as ArtifactStore.Corrupted {
                throw HTTPError(.internalServerError, "Artifact \(path) failed its integrity check (SHA-256 \(error.sha256))")
            }
            var redactions = 0
            if try request.query.boolean("redact") == true {
                (content.bytes, redactions) = Redaction.apply(content.bytes)
            }
            let contentType = Self.binaryExtensions.contains(fileExtension(path)) ? "application/octet-stream" : "text/plain; charset=utf-8"
            var response = Response(status: .ok, contentType: contentType, body: content.bytes)
            response.headers.add(name: "X-Artifact-Original-Size", value: String(content.originalSize))
            response.headers.add(name: "X-Artifact-Truncated", value: content.truncated ? "true" : "false")
            response.headers.add(name: "X-Artifact-Redacted", value: redactions > 0 ? "true" : "false")
            response.headers.add(name: "X-Artifact-Redaction-Count", value: String(redactions))
            response.headers.add(name: "X-Artifact-SHA256", value: content.sha256)
            return response
        }
        inbox.get("/runs/{run_id}/browser/artifacts", docs: Docs.docs(
            "Screenshots and HTML files of a run", "operator surface")
        ) { _, context in
            .json(try store.browserArtifacts(runID: try context.parameters.require("run_id")))
        }
        ctx.group(router, ctx.key).put("/runs/{run_id}/artifacts/file", docs: Docs.docs(
            "Store an artifact for a run (raw body, content-addressed)", "operator surface",
            query: [OpenAPIParameter(query: "path", required: true)],
            responses: [400: "Path traversal or malformed path", 404: "Run not found", 413: "Larger than AUTOPACK_ARTIFACT_MAX_BYTES"]
        ).answering(201, "Stored")) { request, context in
            let runID = try context.parameters.require("run_id")
            let path = try Self.path(request)
            guard request.body.count <= settings.artifactMaxBytes else {
                throw HTTPError(.payloadTooLarge, "Artifact larger than \(settings.artifactMaxBytes) bytes")
            }
            return .json(try store.storeArtifact(runID: runID, path: path, bytes: request.body), status: .created)
        }
    }

    /// The `path` query parameter: 422 when missing, 400 when it could escape the run (the original's answer).
    static func path(_ request: Request) throws -> String {
        guard let raw = request.query["path"] else { throw ValidationError.missing(location: ["query", "path"]) }
        guard let path = ArtifactPath.normalize(raw) else {
            throw HTTPError(.badRequest, "Invalid artifact path: traversal, absolute and drive-letter paths are refused")
        }
        return path
    }
}

/// Masks secret values in text artifacts: on lines naming a secret (api_key, password, secret, token,
/// authorization, bearer, cookie), everything after the first `=` or `:` becomes `[REDACTED]`.
enum Redaction {
    static let markers = ["api_key", "apikey", "api-key", "password", "passwd", "secret", "token", "authorization", "bearer", "cookie"]

    static func apply(_ bytes: [UInt8]) -> ([UInt8], Int) {
        var count = 0
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let lower = line.lowercased()
            guard markers.contains(where: lower.contains),
                  let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return String(line) }
            count += 1
            return String(line[...separator]) + " [REDACTED]"
        }
        return (Array(lines.joined(separator: "\n").utf8), count)
    }
}
