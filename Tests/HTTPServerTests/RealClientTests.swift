import Foundation
import Testing
@testable import HTTPServer

/// The server against the HTTP clients people will actually point at it.
struct RealClientTests {
    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.get("/health", execution: .eventLoop) { _, _ in .json(["status": "ok"]) }
        router.post("/echo") { request, _ in Response(status: .ok, contentType: "application/octet-stream", body: request.body) }
        router.post("/items") { request, _ in
            struct Item: Codable { var name: String; var price: Double }
            return try .json(encoding: try request.decode(Item.self), status: .created)
        }
        return router
    }

    @Test func curl_GetPostHeadAndChunkedUpload() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let (status, output, _) = try runProcess("curl", ["-s", "-w", " %{http_code}", "\(server.baseURL)/health"])
        #expect(status == 0)
        #expect(output == #"{"status":"ok"} 200"#)
        let created = try runProcess("curl", ["-s", "-w", " %{http_code}", "-H", "Content-Type: application/json",
                                              "-d", #"{"name":"disk","price":2.5}"#, "\(server.baseURL)/items"]).1
        #expect(created.hasSuffix(" 201"))
        #expect(created.contains(#""name":"disk""#) && created.contains(#""price":2.5"#))
        let head = try runProcess("curl", ["-s", "-I", "\(server.baseURL)/health"]).1
        #expect(head.contains("HTTP/1.1 200 OK"))
        #expect(head.contains("Content-Length: 15"))
        let chunked = try runProcess("curl", ["-s", "-H", "Transfer-Encoding: chunked", "--data-binary", "chunky",
                                              "\(server.baseURL)/echo"]).1
        #expect(chunked == "chunky")
        // Two URLs on one curl invocation reuse the connection.
        let reuse = try runProcess("curl", ["-s", "-v", "\(server.baseURL)/health", "\(server.baseURL)/health"]).2
        #expect(reuse.contains("Re-using existing connection") || reuse.contains("Reusing existing connection"))
    }

    @Test func pythonRequests_SessionsStreamingAndValidationErrors() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let script = """
        import sys, requests
        base = sys.argv[1]
        with requests.Session() as s:
            for _ in range(20):
                assert s.get(base + "/health").json() == {"status": "ok"}
            def gen():
                for i in range(100):
                    yield b"x" * 1000
            r = s.post(base + "/echo", data=gen())
            assert r.status_code == 200 and len(r.content) == 100000, r.status_code
            r = s.post(base + "/items", json={"name": "cpu"})
            assert r.status_code == 422
            print(r.json()["detail"][0]["loc"], r.json()["detail"][0]["type"])
            r = s.post(base + "/items", data="not json", headers={"Content-Type": "application/json"})
            print(r.status_code, r.json()["detail"][0]["type"])
            print(s.get(base + "/missing").json()["detail"])
        """
        guard pythonHas("requests") else { return }
        let (status, output, errors) = try runProcess("python3", ["-c", script, server.baseURL])
        #expect(status == 0, "\(errors)")
        #expect(output == "['body', 'price'] value_error.missing\n422 value_error.jsondecode\nNot Found\n")
    }
}
