/// What the OpenAPI document says about one route. Every field is optional; the router fills in
/// path parameters and middleware add security and error responses.
///
/// ```swift
/// router.get("/servers/{id}", docs: OpenAPIOperation(
///     summary: "One server's forecast",
///     tags: ["predictions"],
///     responses: [200: .init("The forecast", schema: ServerForecast.schema, example: ["server": "web-01"])]))
/// ```
public struct OpenAPIOperation: Sendable {
    public var summary: String?
    public var description: String?
    public var tags: [String]
    public var operationID: String?
    public var queryParameters: [OpenAPIParameter]
    public var requestBody: OpenAPIBody?
    /// Keyed by status code.
    public var responses: [Int: OpenAPIResponse]
    public var deprecated: Bool
    /// Names of security schemes that apply (each defined in `securitySchemes`).
    public var security: [String]
    /// Security scheme definitions contributed by middleware, keyed by name.
    public var securitySchemes: [String: JSONValue]
    /// Left out of `/openapi.json` (the document and docs routes themselves).
    public var isHidden: Bool

    public init(summary: String? = nil, description: String? = nil, tags: [String] = [], operationID: String? = nil,
                queryParameters: [OpenAPIParameter] = [], requestBody: OpenAPIBody? = nil,
                responses: [Int: OpenAPIResponse] = [:], deprecated: Bool = false) {
        self.summary = summary
        self.description = description
        self.tags = tags
        self.operationID = operationID
        self.queryParameters = queryParameters
        self.requestBody = requestBody
        self.responses = responses
        self.deprecated = deprecated
        self.security = []
        self.securitySchemes = [:]
        self.isHidden = false
    }

    /// Routes with this are served but not documented.
    public static var hidden: OpenAPIOperation {
        var operation = OpenAPIOperation()
        operation.isHidden = true
        return operation
    }
}

/// A query, header or path parameter. The router documents every path parameter as a string; a path parameter
/// listed in ``OpenAPIOperation/queryParameters`` gives that one its own schema (an enum, a pattern, an integer).
public struct OpenAPIParameter: Sendable {
    public var name: String
    public var location: String
    public var required: Bool
    public var schema: JSONValue
    public var description: String?

    public init(query name: String, schema: JSONValue = JSONSchema.string, required: Bool = false,
                description: String? = nil) {
        self.name = name
        self.location = "query"
        self.required = required
        self.schema = schema
        self.description = description
    }

    public init(header name: String, schema: JSONValue = JSONSchema.string, required: Bool = false,
                description: String? = nil) {
        self.init(query: name, schema: schema, required: required, description: description)
        self.location = "header"
    }

    /// The schema of the route's path parameter `{name}` (always required).
    public init(path name: String, schema: JSONValue, description: String? = nil) {
        self.init(query: name, schema: schema, required: true, description: description)
        self.location = "path"
    }
}

/// A request body: JSON unless `contentTypes` says otherwise (a login that also takes a form, a multipart upload);
/// `schema` describes the body under each of them.
public struct OpenAPIBody: Sendable {
    public var description: String?
    public var schema: JSONValue
    public var example: JSONValue?
    public var required: Bool
    public var contentTypes: [String]

    public init(_ description: String? = nil, schema: JSONValue, example: JSONValue? = nil, required: Bool = true,
                contentTypes: [String] = ["application/json"]) {
        self.description = description
        self.schema = schema
        self.example = example
        self.required = required
        self.contentTypes = contentTypes
    }
}

/// One documented response.
public struct OpenAPIResponse: Sendable {
    public var description: String
    public var schema: JSONValue?
    public var example: JSONValue?
    /// Response header fields worth documenting (`ETag`, …), keyed by name.
    public var headers: [String: OpenAPIHeader]

    public init(_ description: String, schema: JSONValue? = nil, example: JSONValue? = nil,
                headers: [String: OpenAPIHeader] = [:]) {
        self.description = description
        self.schema = schema
        self.example = example
        self.headers = headers
    }
}

/// One documented response header.
public struct OpenAPIHeader: Sendable {
    public var description: String
    public var schema: JSONValue

    public init(_ description: String, schema: JSONValue = JSONSchema.string) {
        self.description = description
        self.schema = schema
    }
}

/// Small builders for JSON Schema fragments used in OpenAPI operations.
public enum JSONSchema {
    public static let string: JSONValue = ["type": "string"]
    public static let integer: JSONValue = ["type": "integer"]
    public static let number: JSONValue = ["type": "number"]
    public static let boolean: JSONValue = ["type": "boolean"]
    public static let dateTime: JSONValue = ["type": "string", "format": "date-time"]

    public static func array(of items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    public static func object(_ properties: KeyValuePairs<String, JSONValue>, required: [String] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "object"),
                                              ("properties", .object(properties.map { ($0.key, $0.value) }))]
        if !required.isEmpty { members.append(("required", .array(required.map { .string($0) }))) }
        return .object(members)
    }

    public static func enumeration(_ values: [String]) -> JSONValue {
        ["type": "string", "enum": .array(values.map { .string($0) })]
    }

    /// The `{"detail": "..."}` error shape.
    public static let errorDetail: JSONValue = object(["detail": string], required: ["detail"])

    /// The 422 validation shape.
    public static let validationError: JSONValue = object([
        "detail": array(of: object(["loc": array(of: ["anyOf": [string, integer]]), "msg": string, "type": string],
                                   required: ["loc", "msg", "type"])),
    ])
}
