import Foundation
import Testing
@testable import Daemon

/// `GET /predictions/current` with `ETag` / `If-None-Match` over a real socket: a dashboard polling between
/// ticks gets a bodiless 304 until the next snapshot.
struct PredictionsConditionalGetTests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    struct Reply {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    }

    func get(_ d: TestDaemon, _ path: String, ifNoneMatch: String? = nil) throws -> Reply {
        var headers = ["X-API-Key": TestDaemon.key]
        if let ifNoneMatch { headers["If-None-Match"] = ifNoneMatch }
        let r = try LoopbackHTTPClient.exchange(port: d.port, method: "GET", path: path, headers: headers)
        return Reply(status: r.status, headers: r.headers, body: r.body)
    }

    @Test func etag_304OnMatch_NewTagAfterTheNextTick_PerVariant() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        // Warming up: no snapshot yet, so no tag (the answer is not the snapshot's).
        try d.feed(servers, steps: 0..<5)
        #expect(try get(d, "/predictions/current").header("ETag") == nil)
        try d.feed(servers, steps: 5..<20)

        let variants = ["/predictions/current", "/predictions/current?compact=true", "/predictions/current?bands=true",
                        "/predictions/current?quantiles=p10,p50,p90", "/predictions/current?server=ppdb001",
                        "/predictions/current?server=ppweb001", "/predictions/current?server=ppdb001,ppweb001",
                        "/predictions/current?server=ppdb001&compact=true"]
        var tags: [String: String] = [:]
        for path in variants {
            let first = try get(d, path)
            #expect(first.status == 200 && !first.body.isEmpty, "\(path)")
            let tag = try #require(first.header("ETag"), "\(path)")
            #expect(tag.hasPrefix("\"") && tag.hasSuffix("\""))
            #expect(first.header("Cache-Control") == "no-cache")
            tags[path] = tag

            let again = try get(d, path, ifNoneMatch: tag)
            #expect(again.status == 304 && again.body.isEmpty, "\(path): \(again.status)")
            #expect(again.header("ETag") == tag && again.header("Content-Length") == nil)
            #expect(try get(d, path, ifNoneMatch: "W/\(tag)").status == 304)             // weak comparison
            #expect(try get(d, path, ifNoneMatch: "\"stale\", \(tag)").status == 304)    // a list
            #expect(try get(d, path, ifNoneMatch: "*").status == 304)
            let mismatch = try get(d, path, ifNoneMatch: "\"stale\"")
            #expect(mismatch.status == 200 && mismatch.body == first.body && mismatch.header("ETag") == tag)
        }
        // Each variant has its own tag, except the two spellings of the bands query (same bytes).
        #expect(tags["/predictions/current?bands=true"] == tags["/predictions/current?quantiles=p10,p50,p90"])
        tags["/predictions/current?quantiles=p10,p50,p90"] = nil
        #expect(Set(tags.values).count == tags.count, "\(tags)")
        // One variant's tag does not validate another's body.
        let compactTag = try #require(tags["/predictions/current?compact=true"])
        #expect(try get(d, "/predictions/current", ifNoneMatch: compactTag).status == 200)

        // The next tick publishes a new snapshot: every old tag now gets the new body.
        let before = try #require(d.daemon.engine.latest?.tick)
        try d.feed(servers, steps: 20..<21)
        #expect(try #require(d.daemon.engine.latest?.tick) > before)
        for (path, tag) in tags {
            let next = try get(d, path, ifNoneMatch: tag)
            #expect(next.status == 200 && !next.body.isEmpty, "\(path)")
            let newTag = try #require(next.header("ETag"))
            #expect(newTag != tag)
            #expect(try get(d, path, ifNoneMatch: newTag).status == 304)
        }
        // Errors are never 304: an unknown server is still a 404, whatever the client sends.
        #expect(try get(d, "/predictions/current?server=nope", ifNoneMatch: "*").status == 404)
    }

    @Test func openAPI_Documents304TheETagAndIfNoneMatch() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let paths = try #require(d.get("/openapi.json", key: nil).object["paths"] as? [String: Any])
        let get = try #require((paths["/predictions/current"] as? [String: Any])?["get"] as? [String: Any])
        let responses = try #require(get["responses"] as? [String: Any])
        for code in ["200", "304"] {
            let headers = (responses[code] as? [String: Any])?["headers"] as? [String: Any]
            #expect(headers?["ETag"] != nil, "\(code)")
        }
        let parameters = (get["parameters"] as? [[String: Any]]) ?? []
        #expect(parameters.contains { $0["name"] as? String == "If-None-Match" && $0["in"] as? String == "header" })
    }

    @Test func etag_DiffersAcrossRestarts_EvenAtTheSameTickNumber() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var first = try TestDaemon(dir: dir)
        try first.feed(servers, steps: 0..<20)
        let tag = try #require(try get(first, "/predictions/current?compact=true").header("ETag"))
        first.stop()
        Thread.sleep(forTimeInterval: 0.01)   // tags carry the generation time in ms
        first = try TestDaemon(dir: dir)
        defer { first.stop() }
        _ = eventually { first.daemon.engine.latest != nil }
        first.settle()
        let reply = try get(first, "/predictions/current?compact=true", ifNoneMatch: tag)
        #expect(reply.status == 200 && reply.header("ETag") != tag)
    }
}
