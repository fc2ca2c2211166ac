import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Answers the schema fuzzer (tools/fuzz_api.sh, docs/fuzzing.md) found undocumented: each request gets the
/// status it got from the live daemon, and `/openapi.json` must list that status for the operation.
@Suite struct FuzzFindingsTests {
    @Test func undocumentedStatusesFoundByFuzzingAreNowDocumented() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let paths = try #require(d.get("/openapi.json", key: nil).object["paths"] as? [String: Any])
        // Without a model /predictions/current answers 503; with one, an unknown server is 404 (both documented).
        let cases: [(method: String, path: String, documentedAs: String)] = [
            ("GET", "/predictions/current?server=no-such-server", "/predictions/current"),
            ("POST", "/admin/cancel-training", "/admin/cancel-training"),
        ]
        for c in cases {
            let reply = try d.request(c.method, c.path)
            #expect(reply.status >= 400, "\(c.method) \(c.path): \(reply.text)")
            let operation = (paths[c.documentedAs] as? [String: Any])?[c.method.lowercased()] as? [String: Any]
            let responses = try #require(operation?["responses"] as? [String: Any], "\(c.documentedAs)")
            #expect(responses[String(reply.status)] != nil, "\(c.method) \(c.documentedAs) answers \(reply.status), undocumented")
        }
    }

    /// `compact` and `bands` are documented booleans: `compact=null` used to mean false silently (ST201).
    @Test func predictionFlagsRefuseWhatIsNotABoolean() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        for query in ["compact=null", "bands=1", "compact=yes"] {
            let reply = try d.get("/predictions/current?\(query)")
            #expect(reply.status == 422, "\(query): \(reply.text)")
            let loc = ((reply.object["detail"] as? [[String: Any]])?.first?["loc"] as? [String]) ?? []
            #expect(loc == ["query", String(query.prefix { $0 != "=" })], "\(query): \(reply.text)")
        }
        // Valid spellings pass validation (and reach the no-model answer, 503).
        #expect(try d.get("/predictions/current?compact=TRUE&bands=false").status == 503)
    }

    /// A Telegram Update is an object; `[null, null]` was answered 200 "not handled" although the schema says object.
    @Test func telegramWebhookRefusesABodyThatIsNotAnObject() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        for body in ["[null, null]", "null", "\"update\"", "7"] {
            let reply = try d.post("/telegram/webhook", Data(body.utf8), key: nil)
            #expect(reply.status == 422, "\(body): \(reply.status) \(reply.text)")
        }
        #expect(try d.post("/telegram/webhook", Data(#"{"update_id": 1}"#.utf8), key: nil).object["handled"] as? Bool == false)
    }

    /// The fuzzer's positive-data check sent what `/openapi.json` allowed and got 422s: request schemas now say the
    /// constraints the routes enforce. Spot checks, one per kind, read from the live document.
    @Test func requestSchemasSayTheConstraintsTheRoutesEnforce() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let paths = try #require(d.get("/openapi.json", key: nil).object["paths"] as? [String: Any])
        func operation(_ path: String, _ method: String) -> [String: Any] {
            ((paths[path] as? [String: Any])?[method] as? [String: Any]) ?? [:]
        }
        func bodySchema(_ path: String, _ method: String = "post") -> [String: Any] {
            let content = (operation(path, method)["requestBody"] as? [String: Any])?["content"] as? [String: Any]
            return ((content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]) ?? [:]
        }
        func query(_ path: String, _ name: String, _ method: String = "get") -> [String: Any] {
            let parameters = (operation(path, method)["parameters"] as? [[String: Any]]) ?? []
            return (parameters.first { $0["name"] as? String == name }?["schema"] as? [String: Any]) ?? [:]
        }
        // required fields and ranges (Supervisor)
        #expect(bodySchema("/api/v1/tasks")["required"] as? [String] == ["type"])
        let priority = ((bodySchema("/api/v1/tasks")["properties"] as? [String: Any])?["priority"] as? [String: Any]) ?? [:]
        #expect(priority["minimum"] as? Int == 1 && priority["maximum"] as? Int == 10)
        #expect(query("/api/v1/tasks", "skip")["minimum"] as? Int == 0)
        #expect(operation("/api/v1/tasks", "post")["responses"].flatMap { ($0 as? [String: Any])?["201"] } != nil)
        // enums as any-case patterns (Supervisor choices are case-insensitive)
        let status = query("/api/v1/tasks", "status")["pattern"] as? String ?? ""
        #expect(try Regex(status).wholeMatch(in: "Pending") != nil && (try Regex(status).wholeMatch(in: "paused")) == nil)
        // query ranges (Telemetry, Autopack)
        #expect(query("/api/telemetry/htm/tasks", "limit")["minimum"] as? Int == 1)
        #expect(query("/runs", "limit")["maximum"] as? Int == 100)
        // what the spec answers 400 for is outside the schema (consent_given false)
        let consent = ((bodySchema("/api/secrets/store")["properties"] as? [String: Any])?["consent_given"] as? [String: Any]) ?? [:]
        #expect(consent["const"] as? Bool == true)
        #expect(bodySchema("/research/sessions")["required"] as? [String] == ["query"])
    }

    /// The fuzzer's positive-data check sent path parameters outside their enum (documented as any string) and got
    /// 422s. Path parameters now carry their enum in `/openapi.json`; every member is served, anything else refused.
    @Test func pathParametersAreDocumentedWithTheirEnums() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let paths = try d.call("GET", "/openapi.json", token: .some(nil))["paths"]
        let cases: [(template: String, prefix: String, members: [String])] = [
            ("/api/v1/analytics/trends/{metric_type}", "/api/v1/analytics/trends/", SupervisorCore.metricTypes),
            ("/api/v1/plugins/types/{plugin_type}", "/api/v1/plugins/types/", PluginCatalog.types),
        ]
        for c in cases {
            let parameters = paths?[c.template]?["get"]?["parameters"]?.arrayValue ?? []
            let path = parameters.first { $0["in"] == "path" }
            #expect(path?["schema"]?["enum"] == .array(c.members.map(JSONValue.string)), "\(c.template): \(parameters)")
            #expect(parameters.filter { $0["in"] == "path" }.count == 1)
            for member in c.members { #expect(try d.call("GET", c.prefix + member).status == 200, "\(c.prefix)\(member)") }
            #expect(try d.call("GET", c.prefix + "nope").status == 422)
        }
        // A pattern too: the provider id of a registration (found by the 10-minute run).
        let provider = paths?["/api/v1/providers/{provider_id}/register"]?["post"]?["parameters"]?.arrayValue?.first { $0["in"] == "path" }
        #expect(provider?["schema"]?["pattern"] == "^[a-z0-9][a-z0-9_-]{0,63}$")
        for id in ["%C3%88x", "a%0A", "-a", String(repeating: "a", count: 65)] {
            let reply = try d.call("POST", "/api/v1/providers/\(id)/register", ["type": "local"])
            #expect(reply.status == 422, "\(id): \(reply.status) \(reply.text)")
        }
        #expect(try d.call("POST", "/api/v1/providers/fuzz_1-a/register", ["type": "local"]).status == 201)
        let export = paths?["/historical/export/{table}"]?["get"]?["parameters"]?.arrayValue?.first { $0["in"] == "path" }
        #expect(export?["schema"]?["enum"] == ["alerts", "environment"])
    }
}

