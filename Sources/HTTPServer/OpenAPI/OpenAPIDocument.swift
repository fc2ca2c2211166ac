/// The document's `info` object.
public struct OpenAPIInfo: Sendable {
    public var title: String
    public var version: String
    public var description: String?

    public init(title: String, version: String, description: String? = nil) {
        self.title = title
        self.version = version
        self.description = description
    }
}

/// Builds an OpenAPI 3.1 document from the router's table, so the document cannot drift from
/// the routes actually served.
public enum OpenAPIDocument {
    public static func build(info: OpenAPIInfo, routes: [RouteDescription]) -> JSONValue {
        var pathOrder: [String] = []
        var operationsByPath: [String: [(String, JSONValue)]] = [:]
        var schemes: [String: JSONValue] = [:]
        for route in routes where !route.operation.isHidden {
            if operationsByPath[route.path] == nil {
                pathOrder.append(route.path)
                operationsByPath[route.path] = []
            }
            operationsByPath[route.path]?.append((route.method.rawValue.lowercased(), operation(route)))
            schemes.merge(route.operation.securitySchemes) { first, _ in first }
        }
        var infoMembers: [(String, JSONValue)] = [("title", .string(info.title)), ("version", .string(info.version))]
        if let description = info.description { infoMembers.append(("description", .string(description))) }
        var document: [(String, JSONValue)] = [
            ("openapi", "3.1.0"),
            ("info", .object(infoMembers)),
            ("paths", .object(pathOrder.map { ($0, .object(operationsByPath[$0] ?? [])) })),
        ]
        if !schemes.isEmpty {
            document.append(("components", .object([("securitySchemes",
                                                     .object(schemes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))])))
        }
        return .object(document)
    }

    static func operation(_ route: RouteDescription) -> JSONValue {
        let operation = route.operation
        var members: [(String, JSONValue)] = []
        if let summary = operation.summary { members.append(("summary", .string(summary))) }
        if let description = operation.description { members.append(("description", .string(description))) }
        if !operation.tags.isEmpty { members.append(("tags", .array(operation.tags.map { .string($0) }))) }
        members.append(("operationId", .string(operation.operationID ?? defaultOperationID(route))))

        let pathSchemas = operation.queryParameters.filter { $0.location == "path" }
        var parameters: [JSONValue] = PathSegment.parse(route.path).compactMap { segment in
            guard case .parameter(let name) = segment else { return nil }
            guard let documented = pathSchemas.first(where: { $0.name == name }) else {
                return ["name": .string(name), "in": "path", "required": true, "schema": JSONSchema.string]
            }
            var member: [(String, JSONValue)] = [("name", .string(name)), ("in", "path"), ("required", true), ("schema", documented.schema)]
            if let description = documented.description { member.append(("description", .string(description))) }
            return .object(member)
        }
        for parameter in operation.queryParameters where parameter.location != "path" {
            var member: [(String, JSONValue)] = [("name", .string(parameter.name)), ("in", .string(parameter.location)),
                                                 ("required", .bool(parameter.required)), ("schema", parameter.schema)]
            if let description = parameter.description { member.append(("description", .string(description))) }
            parameters.append(.object(member))
        }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }

        if let body = operation.requestBody {
            var media: [(String, JSONValue)] = [("schema", body.schema)]
            if let example = body.example { media.append(("example", example)) }
            var requestBody: [(String, JSONValue)] = [("required", .bool(body.required)),
                                                      ("content", .object(body.contentTypes.map { ($0, .object(media)) }))]
            if let description = body.description { requestBody.insert(("description", .string(description)), at: 0) }
            members.append(("requestBody", .object(requestBody)))
        }

        var responses = operation.responses
        if responses.keys.allSatisfy({ $0 >= 300 }) && !route.isWebSocket {
            responses[200] = OpenAPIResponse("Successful response")
        }
        if (!parameters.isEmpty || operation.requestBody != nil) && responses[422] == nil {
            responses[422] = OpenAPIResponse("Validation error", schema: JSONSchema.validationError)
        }
        // A plain GET (no Upgrade header) on a WebSocket route is answered 426; say so.
        if route.isWebSocket && responses[426] == nil {
            responses[426] = OpenAPIResponse("Upgrade Required: the request was not a WebSocket upgrade")
        }
        members.append(("responses", .object(responses.sorted { $0.key < $1.key }.map { status, response in
            var member: [(String, JSONValue)] = [("description", .string(response.description))]
            if response.schema != nil || response.example != nil {
                var media: [(String, JSONValue)] = []
                if let schema = response.schema { media.append(("schema", schema)) }
                if let example = response.example { media.append(("example", example)) }
                member.append(("content", .object([("application/json", .object(media))])))
            }
            if !response.headers.isEmpty {
                member.append(("headers", .object(response.headers.sorted { $0.key < $1.key }.map { name, header in
                    (name, .object([("description", .string(header.description)), ("schema", header.schema)]))
                })))
            }
            return (String(status), .object(member))
        })))
        if !operation.security.isEmpty {
            members.append(("security", .array(operation.security.map { .object([($0, .array([]))]) })))
        }
        if operation.deprecated { members.append(("deprecated", true)) }
        if route.isWebSocket { members.append(("x-websocket", true)) }
        return .object(members)
    }

    static func defaultOperationID(_ route: RouteDescription) -> String {
        let path = route.path.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        return route.method.rawValue.lowercased() + path.replacingOccurrences(of: "__", with: "_")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = self
        while let range = result.range(of: target) { result.replaceSubrange(range, with: replacement) }
        return result
    }
}

extension Router {
    /// Serves `GET documentPath` (the OpenAPI document, built once from the route table on first
    /// request) and `GET docsPath` (a small page that renders it). Both are public and hidden from
    /// the document itself. Call it before the server starts, like any route.
    public func addOpenAPIRoutes(info: OpenAPIInfo, documentPath: String = "/openapi.json", docsPath: String = "/docs") {
        let cache = OpenAPICache()
        get(documentPath, execution: .eventLoop, docs: .hidden) { [unowned self] _, _ in
            .json(bytes: cache.bytes { OpenAPIDocument.build(info: info, routes: self.routes).encoded() })
        }
        let page = Array(DocsPage.html(title: info.title, documentPath: documentPath).utf8)
        get(docsPath, execution: .eventLoop, docs: .hidden) { _, _ in
            Response(status: .ok, contentType: "text/html; charset=utf-8", body: page)
        }
    }
}

import Synchronization

private final class OpenAPICache: Sendable {
    private let stored = Mutex<[UInt8]?>(nil)

    func bytes(_ build: () -> [UInt8]) -> [UInt8] {
        stored.withLock { stored in
            if let stored { return stored }
            let built = build()
            stored = built
            return built
        }
    }
}
