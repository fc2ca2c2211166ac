import Foundation
import Testing
@testable import HTTPServer

struct OpenAPITests {
    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/health", execution: .eventLoop, docs: OpenAPIOperation(summary: "Health", tags: ["system"])) { _, _ in
            .json(["status": "ok"])
        }
        let api = router.group("/predictions", middleware: [APIKeyMiddleware(keys: ["k"]),
                                                            RateLimitMiddleware(limit: 30, per: .seconds(60))])
        api.get("/current", docs: OpenAPIOperation(
            summary: "Current predictions",
            queryParameters: [OpenAPIParameter(query: "level", schema: JSONSchema.enumeration(["critical", "warning"]))],
            responses: [200: OpenAPIResponse("Snapshot", schema: JSONSchema.object(["servers": JSONSchema.integer]),
                                             example: ["servers": 45])])) { _, _ in .json(["servers": 45]) }
        api.get("/{server}", docs: OpenAPIOperation(queryParameters: [
            OpenAPIParameter(path: "server", schema: ["type": "string", "pattern": "^[a-z0-9-]+$"], description: "Server name"),
        ])) { _, _ in .json([:]) }
        router.post("/feed/data", docs: OpenAPIOperation(
            requestBody: OpenAPIBody(schema: JSONSchema.object(["records": JSONSchema.array(of: JSONSchema.object([:]))],
                                                               required: ["records"]),
                                     example: ["records": []]))) { _, _ in .json(["status": "accepted"]) }
        router.webSocket("/ws") { _, _ in WebSocketHandler() }
        router.addOpenAPIRoutes(info: OpenAPIInfo(title: "Argus", version: "1.0", description: "test"))
        return router
    }

    @Test func document_ListsExactlyTheServedRoutes() throws {
        let router = makeRouter()
        let document = OpenAPIDocument.build(info: OpenAPIInfo(title: "Argus", version: "1"), routes: router.routes)
        guard case .object(let paths)? = document["paths"] else {
            Issue.record("no paths")
            return
        }
        var documented = Set<String>()
        for (path, operations) in paths {
            guard case .object(let methods) = operations else { continue }
            for (method, _) in methods { documented.insert(method.uppercased() + " " + path) }
        }
        let served = Set(router.routes.filter { !$0.operation.isHidden }.map { $0.method.rawValue + " " + $0.path })
        #expect(documented == served, "missing: \(served.subtracting(documented)), extra: \(documented.subtracting(served))")
        #expect(served.count == 5)
    }

    @Test func document_CarriesSecurityParametersBodiesAndErrors() throws {
        let router = makeRouter()
        let document = OpenAPIDocument.build(info: OpenAPIInfo(title: "Argus", version: "1"), routes: router.routes)
        let current = try #require(document["paths"]?["/predictions/current"]?["get"])
        #expect(current["security"] == [["APIKeyHeader": []]])
        #expect(current["responses"]?["401"] != nil)
        #expect(current["responses"]?["429"] != nil)
        #expect(current["responses"]?["200"]?["content"]?["application/json"]?["example"] == ["servers": 45])
        let byServer = try #require(document["paths"]?["/predictions/{server}"]?["get"])
        guard case .array(let parameters)? = byServer["parameters"] else {
            Issue.record("no parameters")
            return
        }
        #expect(parameters.first?["in"] == "path")
        // A route's own path parameter schema replaces the default string, once (never repeated as a query parameter).
        #expect(parameters.count == 1)
        #expect(parameters.first?["schema"]?["pattern"] == "^[a-z0-9-]+$")
        #expect(parameters.first?["description"] == "Server name")
        let currentParameters = try #require(document["paths"]?["/predictions/current"]?["get"]?["parameters"])
        #expect(currentParameters == [["name": "level", "in": "query", "required": false,
                              "schema": ["type": "string", "enum": ["critical", "warning"]]]])
        #expect(byServer["responses"]?["422"] != nil)
        #expect(document["paths"]?["/feed/data"]?["post"]?["requestBody"]?["required"] == true)
        #expect(document["paths"]?["/health"]?["get"]?["security"] == nil)
        #expect(document["components"]?["securitySchemes"]?["APIKeyHeader"]?["name"] == "X-API-Key")
        #expect(document["paths"]?["/ws"]?["get"]?["x-websocket"] == true)
    }

    @Test func documentAndDocsPage_AreServed() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let (status, output, _) = try runProcess("curl", ["-s", "-f", "\(server.baseURL)/openapi.json"])
        #expect(status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(json["openapi"] as? String == "3.1.0")
        #expect((json["paths"] as? [String: Any])?.keys.contains("/openapi.json") == false)
        let page = try runProcess("curl", ["-s", "-f", "\(server.baseURL)/docs"]).1
        #expect(page.contains("<!doctype html>"))
        #expect(page.contains("/openapi.json"))
    }
}
