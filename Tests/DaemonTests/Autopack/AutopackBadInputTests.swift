import Foundation
import Testing
@testable import Daemon

/// Bad input per write route: each case is refused with 422 naming the field (`loc`), and nothing is stored.
@Suite struct AutopackBadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var method = "POST"
        var path: String
        var body: String
        var loc: String
        var contentType = "application/json"
        var testDescription: String { name }
    }

    static let phase = "/runs/r/phases/P1"
    static let cases: [Case] = [
        Case(name: "start: not JSON", path: "/runs/start", body: "{", loc: "body"),
        Case(name: "start: empty body", path: "/runs/start", body: "", loc: "body"),
        Case(name: "start: run missing", path: "/runs/start", body: #"{"tiers":[]}"#, loc: "body.run"),
        Case(name: "start: bad run id", path: "/runs/start", body: #"{"run":{"run_id":"../x"}}"#, loc: "body.run.run_id"),
        Case(name: "start: token cap 0", path: "/runs/start", body: #"{"run":{"run_id":"a","token_cap":0}}"#, loc: "body.run.token_cap"),
        Case(name: "start: token cap string", path: "/runs/start", body: #"{"run":{"run_id":"a","token_cap":"many"}}"#, loc: "body.run.token_cap"),
        Case(name: "start: safety profile", path: "/runs/start", body: #"{"run":{"run_id":"a","safety_profile":"yolo"}}"#, loc: "body.run.safety_profile"),
        Case(name: "start: unknown tier", path: "/runs/start",
             body: #"{"run":{"run_id":"a"},"tiers":[],"phases":[{"phase_id":"p","phase_index":0,"tier_id":"T9","name":"n"}]}"#,
             loc: "body.phases.0.tier_id"),
        Case(name: "start: duplicate phase", path: "/runs/start",
             body: #"{"run":{"run_id":"a"},"tiers":[{"tier_id":"T","tier_index":0,"name":"t"}],"phases":[{"phase_id":"p","phase_index":0,"tier_id":"T","name":"n"},{"phase_id":"p","phase_index":1,"tier_id":"T","name":"n"}]}"#,
             loc: "body.phases.1.phase_id"),
        Case(name: "start: bad scope", path: "/runs/start",
             body: #"{"run":{"run_id":"a"},"tiers":[{"tier_id":"T","tier_index":0,"name":"t"}],"phases":[{"phase_id":"p","phase_index":0,"tier_id":"T","name":"n","scope":{"paths":[1]}}]}"#,
             loc: "body.phases.0.scope"),
        Case(name: "start: too many phases", path: "/runs/start",
             body: #"{"run":{"run_id":"a","max_phases":1},"tiers":[{"tier_id":"T","tier_index":0,"name":"t"}],"phases":[{"phase_id":"p","phase_index":0,"tier_id":"T","name":"n"},{"phase_id":"q","phase_index":1,"tier_id":"T","name":"n"}]}"#,
             loc: "body.phases"),
        Case(name: "status: unknown state", path: phase + "/update_status", body: #"{"state":"DANCING"}"#, loc: "body.state"),
        Case(name: "status: state missing", path: phase + "/update_status", body: #"{}"#, loc: "body.state"),
        Case(name: "status: negative tokens", path: phase + "/update_status", body: #"{"state":"EXECUTING","tokens_used":-1}"#, loc: "body.tokens_used"),
        Case(name: "status: quality level", path: phase + "/update_status", body: #"{"state":"EXECUTING","quality_level":"great"}"#, loc: "body.quality_level"),
        Case(name: "builder: extra field", path: phase + "/builder_result", body: #"{"run_id":"r","phase_id":"P1","status":"success","surprise":1}"#, loc: "body.surprise"),
        Case(name: "builder: status", path: phase + "/builder_result", body: #"{"run_id":"r","phase_id":"P1","status":"meh"}"#, loc: "body.status"),
        Case(name: "builder: ids differ", path: phase + "/builder_result", body: #"{"run_id":"other","phase_id":"P1","status":"success"}"#, loc: "body.run_id"),
        Case(name: "builder: file escapes", path: phase + "/builder_result", body: #"{"run_id":"r","phase_id":"P1","status":"success","files_changed":["../../etc/passwd"]}"#, loc: "body.files_changed.0"),
        Case(name: "builder: issue severity", path: phase + "/builder_result",
             body: #"{"run_id":"r","phase_id":"P1","status":"success","suggested_issues":[{"issue_key":"k","severity":"huge","category":"c"}]}"#,
             loc: "body.suggested_issues.0.severity"),
        Case(name: "auditor: recommendation", path: phase + "/auditor_result", body: #"{"run_id":"r","phase_id":"P1","recommendation":"maybe"}"#, loc: "body.recommendation"),
        Case(name: "auditor: ids differ", path: phase + "/auditor_result", body: #"{"run_id":"r","phase_id":"P2","recommendation":"approve"}"#, loc: "body.phase_id"),
        Case(name: "issue: key missing", path: phase + "/record_issue?severity=minor", body: "", loc: "query.issue_key"),
        Case(name: "issue: severity", path: phase + "/record_issue?issue_key=k&severity=bad", body: "", loc: "query.severity"),
        Case(name: "notes: empty", path: "/dashboard/human-notes", body: #"{"note":"  "}"#, loc: "body.note"),
        Case(name: "notes: missing", path: "/dashboard/human-notes", body: #"{}"#, loc: "body.note"),
        Case(name: "override: scope", path: "/dashboard/models/override", body: #"{"role":"builder","model":"m","scope":"galaxy"}"#, loc: "body.scope"),
        Case(name: "override: role", path: "/dashboard/models/override", body: #"{"role":"critic","model":"m"}"#, loc: "body.role"),
        Case(name: "override: run without id", path: "/dashboard/models/override", body: #"{"role":"builder","model":"m","scope":"run"}"#, loc: "body.run_id"),
        Case(name: "approval: context", path: "/approval/request", body: #"{"run_id":"r","phase_id":"P1","context":"whim"}"#, loc: "body.context"),
        Case(name: "approval: decision_info list", path: "/approval/request", body: #"{"run_id":"r","phase_id":"P1","decision_info":[1]}"#, loc: "body.decision_info"),
        Case(name: "approval: phase missing", path: "/approval/request", body: #"{"run_id":"r"}"#, loc: "body.phase_id"),
        Case(name: "webhook: not JSON", path: "/telegram/webhook", body: "nope", loc: "body"),
        Case(name: "governance: approved missing", path: "/governance/approve/g1?user_id=a", body: "", loc: "query.approved"),
        Case(name: "governance: approved not bool", path: "/governance/approve/g1?approved=perhaps&user_id=a", body: "", loc: "query.approved"),
        Case(name: "scan: relative target", path: "/storage/scan", body: #"{"scan_target":"tmp"}"#, loc: "body.scan_target"),
        Case(name: "scan: depth", path: "/storage/scan", body: #"{"scan_target":"/tmp","max_depth":99}"#, loc: "body.max_depth"),
        Case(name: "scan approve: decision", path: "/storage/scans/1/approve", body: #"{"approved_by":"a","decision":"burn"}"#, loc: "body.decision"),
        Case(name: "patterns: confidence", path: "/storage/patterns/analyze?min_confidence=2", body: "", loc: "query.min_confidence"),
        Case(name: "patterns: samples", path: "/storage/patterns/analyze?min_samples=zero", body: "", loc: "query.min_samples"),
        Case(name: "rule approve: approver", path: "/storage/learned-rules/1/approve", body: "", loc: "query.approved_by"),
        Case(name: "research: query short", path: "/research/sessions", body: #"{"query":"a"}"#, loc: "body.query"),
        Case(name: "register: email", path: "/api/auth/register", body: #"{"username":"abc","email":"nope","password":"12345678"}"#, loc: "body.email"),
        Case(name: "register: password", path: "/api/auth/register", body: #"{"username":"abc","email":"a@b.co","password":"short"}"#, loc: "body.password"),
        Case(name: "register: username", path: "/api/auth/register", body: #"{"username":"ab","email":"a@b.co","password":"12345678"}"#, loc: "body.username"),
        Case(name: "login: password missing", path: "/api/auth/login", body: "username=admin", loc: "body.password",
             contentType: "application/x-www-form-urlencoded"),
        Case(name: "artifact put: path missing", method: "PUT", path: "/runs/r/artifacts/file", body: "x", loc: "query.path"),
        Case(name: "upload: not multipart", path: "/files/upload", body: "x", loc: "header.content-type"),
    ]

    @Test(arguments: cases)
    func badInput_Is422NamingTheField_AndChangesNothing(_ c: Case) throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 1)
        let before = try s.get("/runs/r").text
        var headers = s.key
        headers["Content-Type"] = c.contentType
        let reply = try s.request(c.method, c.path, body: Array(c.body.utf8), headers: headers)
        #expect(reply.status == 422, "\(c.name): \(reply.status) \(reply.text)")
        #expect(reply.locations.contains(c.loc), "\(c.name): \(reply.locations)")
        #expect(try s.get("/runs").object["total"] as? Int == 1)
        #expect(try s.get("/runs/r").text == before)
        #expect(try s.get("/approval/pending").object["count"] as? Int == 0)
    }
}
