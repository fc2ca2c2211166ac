import Foundation
import HTTPServer

/// §11 storage management, §12 file upload, §13 research.
struct StorageRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext

    struct ScanRequest: Decodable {
        var scan_type: String?
        var scan_target: String
        var max_depth: Int?
        var max_items: Int?
        var created_by: String?
    }

    struct Decision: Decodable {
        var candidate_ids: [Int]?
        var approved_by: String
        var decision: String?
        var approval_method: String?
        var notes: String?
    }

    struct ResearchRequest: Decodable {
        var query: String
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store
        let settings = ctx.settings
        let keyed = ctx.group(router, ctx.key)
        keyed.post("/storage/scan", docs: Docs.docs(
            "Run a storage scan of a directory inside AUTOPACK_STORAGE_SCAN_ROOTS", "storage",
            body: OpenAPIBody("{scan_type, scan_target, max_depth 3, max_items 1000, created_by}", schema: JSONSchema.object([
                "scan_type": Docs.orNull(JSONSchema.enumeration(["directory", "drive"])), "scan_target": ["type": "string", "pattern": "^/"],
                "max_depth": Docs.orNull(JSONSchema.integer(in: 1...20)), "max_items": Docs.orNull(JSONSchema.integer(in: 1...100_000)),
                "created_by": Docs.orNull(JSONSchema.string),
            ], required: ["scan_target"])),
            responses: [201: "StorageScanDetailResponse", 422: "Invalid request or target outside the roots"])
        ) { request, _ in
            let body = try request.decode(ScanRequest.self)
            var checks = Checks()
            checks.oneOf(body.scan_type ?? "directory", ["directory", "drive"], ["body", "scan_type"])
            checks.check(body.scan_target.hasPrefix("/"), ["body", "scan_target"], "must be an absolute path")
            if let depth = body.max_depth { checks.check((1...20).contains(depth), ["body", "max_depth"], "must be between 1 and 20") }
            if let items = body.max_items { checks.check((1...100_000).contains(items), ["body", "max_items"], "must be between 1 and 100000") }
            try checks.throwIfAny()
            return .json(try store.runStorageScan(scanType: body.scan_type ?? "directory", target: body.scan_target,
                                                  maxDepth: body.max_depth ?? 3, maxItems: body.max_items ?? 1000, createdBy: body.created_by),
                         status: .created)
        }
        keyed.get("/storage/scans", docs: Docs.docs("Storage scans, newest first", "storage", query: [
            OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...200), description: "default 50"),
            OpenAPIParameter(query: "offset", schema: JSONSchema.integer(in: 0...Int(Int32.max))),
        ], responses: [422: "Bad pagination"])) { request, _ in
            .json(try store.storageScans(limit: try request.query.integer("limit", in: 1...200, default: 50),
                                         offset: try request.query.integer("offset", in: 0...Int(Int32.max), default: 0)))
        }
        keyed.get("/storage/scans/{scan_id}", docs: Docs.docs("A scan with its candidates and stats by category", "storage",
                                                              responses: [404: "Scan not found"])) { _, context in
            guard let id = Int(try context.parameters.require("scan_id")) else { throw notFound("Storage scan not found") }
            return .json(try store.storageScan(id: id))
        }
        keyed.post("/storage/scans/{scan_id}/approve", docs: Docs.docs(
            "Decide a scan's candidates (approve, reject or defer; nothing is deleted)", "storage",
            body: OpenAPIBody("{candidate_ids, approved_by, decision}", schema: JSONSchema.object([
                "candidate_ids": Docs.orNull(JSONSchema.array(of: JSONSchema.integer)), "approved_by": JSONSchema.string(length: 1...128),
                "decision": Docs.orNull(JSONSchema.enumeration(["approve", "reject", "defer"])),
                "approval_method": Docs.orNull(JSONSchema.string), "notes": Docs.orNull(JSONSchema.string),
            ], required: ["approved_by"])),
            responses: [404: "Scan not found", 422: "Invalid request"])
        ) { request, context in
            guard let id = Int(try context.parameters.require("scan_id")) else { throw notFound("Storage scan not found") }
            let body = try request.decode(Decision.self)
            var checks = Checks()
            checks.oneOf(body.decision ?? "approve", ["approve", "reject", "defer"], ["body", "decision"])
            checks.check(!body.approved_by.isEmpty && body.approved_by.unicodeScalars.count <= 128, ["body", "approved_by"], "must be 1-128 characters")
            try checks.throwIfAny()
            return .json(try store.decideCandidates(scanID: id, candidateIDs: body.candidate_ids ?? [], decision: body.decision ?? "approve",
                                                    by: body.approved_by))
        }

        let open = ctx.group(router, [])
        open.get("/storage/steam/games", docs: Docs.docs("Steam games (storage analysis)", "storage")) { _, _ in
            // Steam library detection is not part of argusd: answered honestly as unavailable.
            .json(.object([("steam_available", false), ("reason", "Steam library detection is not supported by argusd"),
                           ("games", .array([])), ("total_count", 0), ("total_size_bytes", 0)]))
        }
        open.post("/storage/patterns/analyze", docs: Docs.docs(
            "Learn cleanup patterns from decisions (confidence = approvals / decisions)", "storage", query: [
            OpenAPIParameter(query: "min_samples", schema: JSONSchema.integer(in: 1...100_000), description: "default 5"),
            OpenAPIParameter(query: "min_confidence", schema: JSONSchema.number(in: 0...1), description: "default 0.75"),
            ], responses: [422: "Invalid query"])
        ) { request, _ in
            let samples = try request.query.integer("min_samples", in: 1...100_000, default: 5)
            let confidence = try request.query.get("min_confidence", as: Double.self) ?? 0.75
            guard (0...1).contains(confidence) else {
                throw ValidationError(location: ["query", "min_confidence"], message: "must be between 0 and 1", type: "value_error.number.range")
            }
            return .json(try store.analyzePatterns(minSamples: samples, minConfidence: confidence))
        }
        open.get("/storage/learned-rules", docs: Docs.docs("Learned rules, highest confidence first", "storage")) { _, _ in
            .json(try store.learnedRules())
        }
        open.post("/storage/learned-rules/{rule_id}/approve", docs: Docs.docs("Approve a learned rule", "storage", query: [
            OpenAPIParameter(query: "approved_by", schema: ["type": "string", "minLength": 1], required: true),
        ], responses: [404: "Rule not found", 409: "Already approved", 422: "approved_by missing"])) { request, context in
            guard let id = Int(try context.parameters.require("rule_id")) else { throw notFound("Learned rule not found") }
            guard let user = request.query["approved_by"], !user.isEmpty else { throw ValidationError.missing(location: ["query", "approved_by"]) }
            return .json(try store.approveRule(id: id, by: user))
        }
        open.get("/storage/recommendations", docs: Docs.docs("Cleanup recommendations from the stored scans", "storage")) { _, _ in
            .json(try store.recommendations())
        }

        keyed.post("/files/upload", docs: Docs.docs(
            "Upload a file (multipart field `file`), stored content-addressed", "files",
            body: OpenAPIBody("multipart/form-data with a `file` part", schema: JSONSchema.object(["file": ["type": "string", "format": "binary"]],
                                                                                                   required: ["file"]),
                              contentTypes: ["multipart/form-data"]),
            responses: [413: "Larger than AUTOPACK_ARTIFACT_MAX_BYTES", 422: "No `file` part"])
        ) { request, _ in
            guard request.body.count <= settings.artifactMaxBytes + 64 * 1024 else {
                throw HTTPError(.payloadTooLarge, "Upload larger than \(settings.artifactMaxBytes) bytes")
            }
            guard let boundary = MultipartForm.boundary(contentType: request.headers["Content-Type"]) else {
                throw ValidationError(location: ["header", "content-type"], message: "expected multipart/form-data with a boundary",
                                      type: "value_error.content_type")
            }
            guard let part = MultipartForm.part(named: "file", in: request.body, boundary: boundary) else {
                throw ValidationError.missing(location: ["body", "file"])
            }
            guard part.bytes.count <= settings.artifactMaxBytes else {
                throw HTTPError(.payloadTooLarge, "Upload larger than \(settings.artifactMaxBytes) bytes")
            }
            let name = (part.filename ?? "upload").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? "upload"
            return .json(try store.storeUpload(filename: String(name.prefix(255)), bytes: part.bytes))
        }

        open.post("/research/sessions", docs: Docs.docs(
            "Start a research session (experimental; built-in local provider searches stored issues, errors and notes)", "research",
            body: OpenAPIBody("{query}", schema: JSONSchema.object(["query": JSONSchema.string(length: 3...2000)], required: ["query"]),
                              example: ["query": "flaky probe"]),
            responses: [201: "Session with findings", 422: "Invalid request"])
        ) { request, _ in
            let body = try request.decode(ResearchRequest.self)
            var checks = Checks()
            checks.check((3...2000).contains(body.query.unicodeScalars.count), ["body", "query"], "must be 3-2000 characters")
            try checks.throwIfAny()
            return .json(try store.createResearchSession(query: body.query), status: .created)
        }
        open.get("/research/sessions/{session_id}", docs: Docs.docs(
            "A research session", "research", responses: [404: "Session not found"])
        ) { _, context in
            let id = try context.parameters.require("session_id")
            guard let session = try store.read({ try store.researchSession($0, id: id) }) else { throw notFound("Research session \(id) not found") }
            return .json(session)
        }
    }
}
