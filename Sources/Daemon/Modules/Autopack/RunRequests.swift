import HTTPServer

// Wire shapes of the run lifecycle's request bodies (snake_case member names are the spec's field names).

/// `POST /runs/start`: `{run, tiers, phases}`.
struct RunStartRequest: Decodable {
    struct Run: Decodable {
        var run_id: String
        var safety_profile: String?
        var run_scope: String?
        var token_cap: Int?
        var max_phases: Int?
        var max_duration_minutes: Int?
        /// Extras: pair two runs as the control and treatment of an A/B test (`/dashboard/ab-results`).
        var ab_test_id: String?
        var ab_role: String?
    }
    struct Tier: Decodable {
        var tier_id: String
        var tier_index: Int
        var name: String
        var description: String?
    }
    struct Phase: Decodable {
        var phase_id: String
        var phase_index: Int
        var tier_id: String
        var name: String
        var description: String?
        var task_category: String?
        var complexity: String?
        var builder_mode: String?
        var scope: DecodedJSON?
        var intention_refs: DecodedJSON?
    }
    var run: Run
    var tiers: [Tier]?
    var phases: [Phase]?

    static let complexities = ["low", "medium", "high"]

    /// Every rule the original enforced (enums, `token_cap ≥ 1`, known tiers) plus unique ids and the phase cap.
    func validate() throws {
        var c = Checks()
        c.identifier(run.run_id, ["body", "run", "run_id"])
        c.oneOf(run.safety_profile, ["normal", "safety_critical"], ["body", "run", "safety_profile"])
        c.oneOf(run.run_scope, ["multi_tier", "single_tier"], ["body", "run", "run_scope"])
        c.atLeast(run.token_cap, 1, ["body", "run", "token_cap"])
        if let max = run.max_phases { c.check((1...1000).contains(max), ["body", "run", "max_phases"], "must be between 1 and 1000") }
        c.atLeast(run.max_duration_minutes, 1, ["body", "run", "max_duration_minutes"])
        if let test = run.ab_test_id { c.identifier(test, ["body", "run", "ab_test_id"]) }
        c.oneOf(run.ab_role, ["control", "treatment"], ["body", "run", "ab_role"])
        c.check((run.ab_test_id == nil) == (run.ab_role == nil), ["body", "run", "ab_role"], "ab_test_id and ab_role go together")
        var tierIDs = Set<String>()
        for (i, tier) in (tiers ?? []).enumerated() {
            c.identifier(tier.tier_id, ["body", "tiers", .index(i), "tier_id"])
            c.check(tierIDs.insert(tier.tier_id).inserted, ["body", "tiers", .index(i), "tier_id"], "duplicate tier_id")
            c.nonNegative(tier.tier_index, ["body", "tiers", .index(i), "tier_index"])
            c.check(!tier.name.isEmpty, ["body", "tiers", .index(i), "name"], "must not be empty")
        }
        var phaseIDs = Set<String>()
        let phases = self.phases ?? []
        c.check(phases.count <= (run.max_phases ?? 25), ["body", "phases"], "more phases than run.max_phases (\(run.max_phases ?? 25))")
        for (i, phase) in phases.enumerated() {
            c.identifier(phase.phase_id, ["body", "phases", .index(i), "phase_id"])
            c.check(phaseIDs.insert(phase.phase_id).inserted, ["body", "phases", .index(i), "phase_id"], "duplicate phase_id")
            c.nonNegative(phase.phase_index, ["body", "phases", .index(i), "phase_index"])
            c.check(!phase.name.isEmpty, ["body", "phases", .index(i), "name"], "must not be empty")
            c.check(tierIDs.contains(phase.tier_id), ["body", "phases", .index(i), "tier_id"], "unknown tier_id '\(phase.tier_id)'")
            c.oneOf(phase.complexity, Self.complexities, ["body", "phases", .index(i), "complexity"])
            if let scope = phase.scope?.value, Self.normalizedScope(scope) == nil {
                c.fail(["body", "phases", .index(i), "scope"],
                       "scope must be an object {paths: [str], read_only_context: [str | {path, reason}]} or a list of paths")
            }
        }
        try c.throwIfAny()
    }

    /// `{paths: [..], read_only_context: [{path, reason}]}`; legacy forms (a list of paths, string context
    /// entries) are normalised as in the original. Nil when the shape is wrong.
    static func normalizedScope(_ scope: JSONValue) -> JSONValue? {
        func strings(_ value: JSONValue?) -> [JSONValue]? {
            guard let value else { return [] }
            guard case .array(let items) = value, items.allSatisfy({ $0.stringValue != nil }) else { return nil }
            return items
        }
        switch scope {
        case .null: return ["paths": [], "read_only_context": []]
        case .array: return strings(scope).map { ["paths": .array($0), "read_only_context": []] }
        case .object:
            guard let paths = strings(scope["paths"]) else { return nil }
            var context: [JSONValue] = []
            for entry in scope["read_only_context"]?.arrayValue ?? [] {
                if let path = entry.stringValue { context.append(["path": .string(path), "reason": ""]) }
                else if let path = entry["path"]?.stringValue { context.append(["path": .string(path), "reason": entry["reason"] ?? ""]) }
                else { return nil }
            }
            if let raw = scope["read_only_context"], raw.arrayValue == nil, raw != .null { return nil }
            return ["paths": .array(paths), "read_only_context": .array(context)]
        default: return nil
        }
    }
}

/// `POST /runs/{run_id}/phases/{phase_id}/update_status`.
struct PhaseStatusUpdate: Decodable {
    var state: String
    var builder_attempts: Int?
    var tokens_used: Int?
    var minor_issues_count: Int?
    var major_issues_count: Int?
    var quality_level: String?
    var quality_blocked: Bool?

    func validate() throws -> PhaseState {
        var c = Checks()
        c.oneOf(state, PhaseState.allCases.map(\.rawValue), ["body", "state"])
        c.nonNegative(builder_attempts, ["body", "builder_attempts"])
        c.nonNegative(tokens_used, ["body", "tokens_used"])
        c.nonNegative(minor_issues_count, ["body", "minor_issues_count"])
        c.nonNegative(major_issues_count, ["body", "major_issues_count"])
        c.oneOf(quality_level, ["ok", "needs_review", "blocked"], ["body", "quality_level"])
        try c.throwIfAny()
        return PhaseState(rawValue: state)!
    }
}

/// `POST …/builder_result` (extra members are refused, as in the original).
struct BuilderResult: Decodable {
    struct Probe: Decodable {
        var probe_type: String
        var exit_code: Int
        var stdout: String?
        var stderr: String?
        var duration_seconds: Double?
    }
    struct SuggestedIssue: Decodable {
        var issue_key: String
        var severity: String
        var source: String?
        var category: String
        var evidence_refs: [String]?
        var description: String?
    }
    var phase_id: String
    var run_id: String
    var run_type: String?
    var allowed_paths: [String]?
    var patch_content: String?
    var files_changed: [String]?
    var lines_added: Int?
    var lines_removed: Int?
    var builder_attempts: Int?
    var tokens_used: Int?
    var duration_minutes: Double?
    var probe_results: [Probe]?
    var suggested_issues: [SuggestedIssue]?
    var status: String
    var notes: String?

    static let members: Set<String> = ["phase_id", "run_id", "run_type", "allowed_paths", "patch_content", "files_changed",
                                       "lines_added", "lines_removed", "builder_attempts", "tokens_used", "duration_minutes",
                                       "probe_results", "suggested_issues", "status", "notes"]

    func validate(runID: String, phaseID: String) throws {
        var c = Checks()
        c.check(run_id == runID, ["body", "run_id"], "does not match the run in the path")
        c.check(phase_id == phaseID, ["body", "phase_id"], "does not match the phase in the path")
        c.oneOf(status, ["success", "failed", "needs_review"], ["body", "status"])
        c.oneOf(run_type, ["project_build", "autopack_maintenance", "autopack_upgrade", "self_repair"], ["body", "run_type"])
        c.nonNegative(lines_added, ["body", "lines_added"])
        c.nonNegative(lines_removed, ["body", "lines_removed"])
        c.nonNegative(builder_attempts, ["body", "builder_attempts"])
        c.nonNegative(tokens_used, ["body", "tokens_used"])
        for (i, path) in (files_changed ?? []).enumerated() {
            c.check(ArtifactPath.normalize(path) != nil, ["body", "files_changed", .index(i)], "must be a relative path inside the workspace")
        }
        for (i, issue) in (suggested_issues ?? []).enumerated() {
            c.check(!issue.issue_key.isEmpty && issue.issue_key.unicodeScalars.count <= 200, ["body", "suggested_issues", .index(i), "issue_key"],
                    "must be 1-200 characters")
            c.oneOf(issue.severity, ["minor", "major"], ["body", "suggested_issues", .index(i), "severity"])
        }
        try c.throwIfAny()
    }
}

/// `POST …/auditor_result`.
struct AuditorResult: Decodable {
    struct SuggestedPatch: Decodable {
        var description: String?
        var patch_content: String?
        var files_affected: [String]?
    }
    var phase_id: String
    var run_id: String
    var review_notes: String?
    var issues_found: [DecodedJSON]?
    var suggested_patches: [SuggestedPatch]?
    var auditor_attempts: Int?
    var tokens_used: Int?
    var recommendation: String
    var confidence: String?

    func validate(runID: String, phaseID: String) throws {
        var c = Checks()
        c.check(run_id == runID, ["body", "run_id"], "does not match the run in the path")
        c.check(phase_id == phaseID, ["body", "phase_id"], "does not match the phase in the path")
        c.oneOf(recommendation, ["approve", "revise", "escalate"], ["body", "recommendation"])
        c.oneOf(confidence, ["low", "medium", "high"], ["body", "confidence"])
        c.nonNegative(auditor_attempts, ["body", "auditor_attempts"])
        c.nonNegative(tokens_used, ["body", "tokens_used"])
        try c.throwIfAny()
    }
}

// What `validate` accepts, for `/openapi.json`. Two rules hold between the body and the request and no schema states
// them: the body's run_id/phase_id equal the path's, and each changed file is a relative path inside the workspace.
// The descriptions say them; tools/fuzz_hooks.py keeps the fuzzer's valid bodies to them.

extension BuilderResult {
    static let schema: JSONValue = {
        typealias Docs = AutopackRouteContext
        let count = Docs.orNull(JSONSchema.integer(in: 0...Int.max)), text = Docs.orNull(JSONSchema.string)
        let probe = JSONSchema.object([
            "probe_type": JSONSchema.string, "exit_code": JSONSchema.integer(in: Int.min...Int.max), "stdout": text, "stderr": text,
            "duration_seconds": Docs.orNull(JSONSchema.number),
        ], required: ["probe_type", "exit_code"])
        let issue = JSONSchema.object([
            "issue_key": JSONSchema.string(length: 1...200), "severity": JSONSchema.enumeration(["minor", "major"]), "source": text,
            "category": JSONSchema.string, "evidence_refs": Docs.orNull(JSONSchema.array(of: JSONSchema.string)), "description": text,
        ], required: ["issue_key", "severity", "category"])
        return closed(JSONSchema.object([
            "phase_id": JSONSchema.string, "run_id": JSONSchema.string,
            "run_type": Docs.orNull(JSONSchema.enumeration(["project_build", "autopack_maintenance", "autopack_upgrade", "self_repair"])),
            "allowed_paths": Docs.orNull(JSONSchema.array(of: JSONSchema.string)), "patch_content": text,
            "files_changed": Docs.orNull(JSONSchema.array(of: JSONSchema.string)), "lines_added": count, "lines_removed": count,
            "builder_attempts": count, "tokens_used": count, "duration_minutes": Docs.orNull(JSONSchema.number),
            "probe_results": Docs.orNull(JSONSchema.array(of: probe)), "suggested_issues": Docs.orNull(JSONSchema.array(of: issue)),
            "status": JSONSchema.enumeration(["success", "failed", "needs_review"]), "notes": text,
        ], required: ["phase_id", "run_id", "status"]))
    }()
}

extension AuditorResult {
    static let schema: JSONValue = {
        typealias Docs = AutopackRouteContext
        let count = Docs.orNull(JSONSchema.integer(in: 0...Int.max)), text = Docs.orNull(JSONSchema.string)
        let patch = JSONSchema.object(["description": text, "patch_content": text,
                                       "files_affected": Docs.orNull(JSONSchema.array(of: JSONSchema.string))])
        return JSONSchema.object([
            "phase_id": JSONSchema.string, "run_id": JSONSchema.string, "review_notes": text,
            "issues_found": Docs.orNull(JSONSchema.array(of: [:])), "suggested_patches": Docs.orNull(JSONSchema.array(of: patch)),
            "auditor_attempts": count, "tokens_used": count,
            "recommendation": JSONSchema.enumeration(["approve", "revise", "escalate"]),
            "confidence": Docs.orNull(JSONSchema.enumeration(["low", "medium", "high"])),
        ], required: ["phase_id", "run_id", "recommendation"])
    }()
}

/// `schema` with no members beyond its properties (a body ``Request/decodeStrict(_:allowed:)`` reads).
private func closed(_ schema: JSONValue) -> JSONValue {
    guard case .object(let members) = schema else { return schema }
    return .object(members + [("additionalProperties", false)])
}
