import COpenSSL
import HTTPServer

/// §6 approvals (requests, status, pending, the Telegram callback) and §7 governance.
struct ApprovalRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext

    struct ApprovalRequestBody: Decodable {
        var phase_id: String
        var run_id: String
        var context: String?
        var decision_info: DecodedJSON?
        var deletion_info: DecodedJSON?
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store
        let settings = ctx.settings
        let ctx = self.ctx
        ctx.group(router, [], perMinute: settings.approvalRequestPerMinute).post("/approval/request", docs: Docs.docs(
            "Request human approval for a risky decision (pending until decided or timed out)", "approvals",
            body: OpenAPIBody("{phase_id, run_id, context, decision_info, deletion_info?}", schema: JSONSchema.object([
                "phase_id": Docs.identifier, "run_id": Docs.identifier,
                "context": Docs.orNull(JSONSchema.enumeration(AutopackStore.approvalContexts)),
                "decision_info": ["type": ["object", "null"]], "deletion_info": ["type": ["object", "null"]],
            ], required: ["phase_id", "run_id"]),
                              example: ["run_id": "build-1", "phase_id": "P1", "context": "build113_risky_decision",
                                        "decision_info": ["action": "delete old model"]]),
            responses: [404: "Run not found", 422: "Invalid request"])
        ) { request, _ in
            let body = try request.decode(ApprovalRequestBody.self)
            var checks = Checks()
            checks.identifier(body.run_id, ["body", "run_id"])
            checks.identifier(body.phase_id, ["body", "phase_id"])
            checks.oneOf(body.context ?? "build113_risky_decision", AutopackStore.approvalContexts, ["body", "context"])
            if let info = body.decision_info?.value, case .object = info {} else if body.decision_info != nil {
                checks.fail(["body", "decision_info"], "value is not a valid dict", type: "type_error.dict")
            }
            if let info = body.deletion_info?.value, info != .null { if case .object = info {} else {
                checks.fail(["body", "deletion_info"], "value is not a valid dict", type: "type_error.dict")
            } }
            try checks.throwIfAny()
            _ = try store.read { c in try store.requireRun(c, body.run_id) }
            return .json(try store.requestApproval(runID: body.run_id, phaseID: body.phase_id,
                                                   context: body.context ?? "build113_risky_decision",
                                                   decisionInfo: body.decision_info?.value ?? .object([]),
                                                   deletionInfo: body.deletion_info?.value))
        }

        let open = ctx.group(router, [])
        open.get("/approval/status/{approval_id}", docs: Docs.docs("One approval request's status (executor polling)", "approvals",
                                                                   responses: [404: "Approval not found"])) { _, context in
            guard let id = Int(try context.parameters.require("approval_id")) else { throw notFound("Approval not found") }
            return .json(try store.approval(id: id))
        }
        open.get("/approval/pending", docs: Docs.docs("Pending approval requests (dashboard)", "approvals")) { _, _ in
            .json(try store.pendingApprovals())
        }
        open.get("/governance/pending", docs: Docs.docs("Pending governance requests", "governance")) { _, _ in
            .json(try store.pendingGovernance())
        }
        open.post("/governance/approve/{request_id}", docs: Docs.docs("Approve or deny a governance request", "governance", query: [
            OpenAPIParameter(query: "approved", schema: JSONSchema.boolean, required: true),
            OpenAPIParameter(query: "user_id", required: true),
        ], responses: [404: "Request not found", 409: "Already decided", 422: "Invalid query"])) { request, context in
            let id = try context.parameters.require("request_id")
            var checks = Checks()
            let approved = try request.query.boolean("approved")
            if approved == nil { checks.fail(["query", "approved"], "field required", type: "value_error.missing") }
            // A bearer token names the approver (the original's IMP-SEC-005); without one, the seed's `user_id`.
            var user = request.query["user_id"] ?? ""
            if request.headers["Authorization"] != nil {
                do { user = try ctx.auth.principal(request).username } catch let failure as AuthFailure { throw failure.httpError }
            } else {
                checks.check(!user.isEmpty && user.count <= 128, ["query", "user_id"],
                             request.query["user_id"] == nil ? "field required" : "must be 1-128 characters",
                             type: request.query["user_id"] == nil ? "value_error.missing" : "value_error")
            }
            try checks.throwIfAny()
            return .json(try store.decideGovernance(id: id, approved: approved!, by: user))
        }

        ctx.group(router, [], perMinute: settings.webhookPerMinute).post("/telegram/webhook", docs: Docs.docs(
            "Telegram callback for the approval buttons (secret token checked in constant time)", "approvals",
            body: OpenAPIBody("Telegram update with callback_query.data approve:|reject:{phase_id}, pr_approve:|pr_reject:{request_id}, storage_approve_all:|storage_skip:|storage_details:{scan_id}",
                              schema: ["type": "object"]),
            responses: [403: "Missing or wrong X-Telegram-Bot-Api-Secret-Token", 422: "Invalid body"])
        ) { request, _ in
            try Self.checkSecret(request, settings: settings)
            let update = try request.decode(DecodedJSON.self).value
            // A Telegram Update is always an object; anything else is not from Telegram (the schema says object).
            guard case .object = update else {
                throw ValidationError(location: ["body"], message: "value is not a valid dict", type: "type_error.dict")
            }
            guard let callback = update["callback_query"], let data = callback["data"]?.stringValue else {
                return .json(["ok": true, "handled": false])
            }
            let user = callback["from"]?["username"]?.stringValue ?? callback["from"]?["id"].map { $0.encodedString } ?? "telegram"
            let parts = data.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return .json(["ok": false, "error": "unrecognised callback data"]) }
            do {
                let result: JSONValue
                switch parts[0] {
                case "approve", "reject":
                    let id = try store.decideNewestPending(phaseID: parts[1], approved: parts[0] == "approve", by: user)
                    result = ["approval_id": .int(id), "status": .string(parts[0] == "approve" ? "approved" : "rejected")]
                case "pr_approve", "pr_reject":
                    result = try store.decideGovernance(id: parts[1], approved: parts[0] == "pr_approve", by: user)
                case "storage_approve_all", "storage_skip":
                    guard let scan = Int(parts[1]) else { return .json(["ok": false, "error": "bad scan id"]) }
                    result = try store.decideCandidates(scanID: scan, candidateIDs: [], decision: parts[0] == "storage_skip" ? "defer" : "approve", by: user)
                case "storage_details":
                    guard let scan = Int(parts[1]) else { return .json(["ok": false, "error": "bad scan id"]) }
                    result = try store.storageScan(id: scan)["scan"] ?? .null
                default:
                    return .json(["ok": false, "error": "unrecognised callback action"])
                }
                return .json(.object([("ok", true), ("handled", true), ("action", .string(parts[0])), ("result", result)]))
            } catch let error as HTTPError {
                // Telegram retries non-2xx answers; a stale button is answered, not retried.
                return .json(.object([("ok", false), ("error", error.detail)]))
            }
        }
    }

    /// `X-Telegram-Bot-Api-Secret-Token` against `TELEGRAM_WEBHOOK_SECRET` (constant time). Without a
    /// configured secret the webhook is refused in production and open in development (the original's rule).
    static func checkSecret(_ request: Request, settings: AutopackSettings) throws {
        guard let secret = settings.telegramWebhookSecret else {
            if settings.production { throw HTTPError(.forbidden, "Telegram webhook secret not configured") }
            return
        }
        let presented = Array((request.headers["X-Telegram-Bot-Api-Secret-Token"] ?? "").utf8)
        let expected = Array(secret.utf8)
        let equal = presented.count == expected.count && presented.withUnsafeBytes { a in
            expected.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, expected.count) == 0 }
        }
        if !equal { throw HTTPError(.forbidden, "Invalid webhook secret token") }
    }
}
