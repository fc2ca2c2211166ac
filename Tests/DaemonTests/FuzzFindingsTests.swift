import Foundation
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
}
