/// A 422 answer in the API's validation shape:
/// `{"detail": [{"loc": ["body", "records", 0, "cpu"], "msg": "...", "type": "..."}]}`.
public struct ValidationError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    /// One element of a `loc` path: an object key or an array index.
    public enum Location: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        public init(stringLiteral value: String) { self = .key(value) }
        public init(integerLiteral value: Int) { self = .index(value) }

        var json: JSONValue {
            switch self {
            case .key(let key): .string(key)
            case .index(let index): .int(index)
            }
        }
    }

    public struct Issue: Sendable, Equatable {
        public var location: [Location]
        public var message: String
        public var type: String

        public init(location: [Location], message: String, type: String) {
            self.location = location
            self.message = message
            self.type = type
        }
    }

    public var issues: [Issue]

    public init(_ issues: [Issue]) { self.issues = issues }

    public init(location: [Location], message: String, type: String) {
        self.issues = [Issue(location: location, message: message, type: type)]
    }

    /// `field required` / `value_error.missing`.
    public static func missing(location: [Location]) -> ValidationError {
        ValidationError(location: location, message: "field required", type: "value_error.missing")
    }

    /// `value is not a valid integer` / `type_error.integer`, and the same for other types.
    public static func typeMismatch(location: [Location], expected: Any.Type) -> ValidationError {
        let (noun, type) = Self.typeNames(expected)
        return ValidationError(location: location, message: "value is not a valid \(noun)", type: "type_error.\(type)")
    }

    static func typeNames(_ type: Any.Type) -> (String, String) {
        switch type {
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type, is UInt32.Type: return ("integer", "integer")
        case is Double.Type, is Float.Type: return ("float", "float")
        case is Bool.Type: return ("boolean", "bool")
        case is String.Type: return ("string", "str")
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array<") { return ("list", "list") }
            if name.hasPrefix("Dictionary<") { return ("dict", "dict") }
            return (name.lowercased(), name.lowercased())
        }
    }

    public func response() -> Response {
        let items: [JSONValue] = issues.map { issue in
            .object([("loc", .array(issue.location.map(\.json))), ("msg", .string(issue.message)),
                     ("type", .string(issue.type))])
        }
        return Response.json(.object([("detail", .array(items))]), status: .unprocessableEntity)
    }

    public var description: String {
        issues.map { "\($0.location): \($0.message)" }.joined(separator: "; ")
    }
}
