import HTTPServer

/// Schema fragments that say the constraints a route's validation enforces, so `/openapi.json` never documents
/// input looser than what the route accepts (Schemathesis's positive-data check holds the two together).
extension JSONSchema {
    /// An integer within `range` (the route answers 422 outside it).
    static func integer(in range: ClosedRange<Int>) -> JSONValue {
        ["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)]
    }

    /// A number within `range`.
    static func number(in range: ClosedRange<Double>) -> JSONValue {
        ["type": "number", "minimum": .double(range.lowerBound), "maximum": .double(range.upperBound)]
    }

    /// A string of `minLength...maxLength` characters, optionally matching `pattern` (ECMA 262).
    static func string(length: ClosedRange<Int>, pattern: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "string"), ("minLength", .int(length.lowerBound)),
                                              ("maxLength", .int(length.upperBound))]
        if let pattern { members.append(("pattern", .string(pattern))) }
        return .object(members)
    }
}
