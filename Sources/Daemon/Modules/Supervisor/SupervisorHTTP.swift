import Foundation
import HTTPServer

/// Errors in the supervisor's envelope: `{"detail", "error", "timestamp"}` (spec "Error Response").
enum SupervisorError {
    static func make(_ status: HTTPStatus, _ code: String, _ detail: String) -> HTTPError {
        HTTPError(status, detail, extra: [("error", .string(code)), ("timestamp", .string(AuthTime.iso(Date())))])
    }
    static func notFound(_ detail: String) -> HTTPError { make(.notFound, "not_found", detail) }
    static func conflict(_ detail: String) -> HTTPError { make(.conflict, "conflict", detail) }
    static func badRequest(_ detail: String) -> HTTPError { make(.badRequest, "bad_request", detail) }
}

/// Reads a JSON object body field by field and reports every problem at once as one 422 naming each field
/// (`loc: ["body", "priority"]`). Nothing is written unless ``finish()`` passes.
struct BodyReader {
    private(set) var object: [(String, JSONValue)]
    private(set) var issues: [ValidationError.Issue] = []
    let prefix: [ValidationError.Location]

    init(_ request: Request) throws {
        guard !request.body.isEmpty else { throw ValidationError.missing(location: ["body"]) }
        guard let value = DecodedJSON.parse(request.body) else {
            throw ValidationError(location: ["body"], message: "Invalid JSON", type: "value_error.jsondecode")
        }
        guard case .object(let members) = value else {
            throw ValidationError(location: ["body"], message: "value is not a valid dict", type: "type_error.dict")
        }
        object = members
        prefix = ["body"]
    }

    init(object: [(String, JSONValue)], prefix: [ValidationError.Location]) {
        self.object = object
        self.prefix = prefix
    }

    subscript(key: String) -> JSONValue? {
        guard let value = object.first(where: { $0.0 == key })?.1, value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { object.contains { $0.0 == key } }

    mutating func fail(_ key: String, _ message: String, _ type: String) {
        issues.append(.init(location: prefix + [.key(key)], message: message, type: type))
    }

    mutating func missing(_ key: String) { fail(key, "field required", "value_error.missing") }

    /// Lengths count Unicode code points, as JSON Schema's minLength/maxLength (and the original's Python `len`) do.
    mutating func string(_ key: String, required: Bool = false, maxLength: Int = 200, minLength: Int = 1) -> String? {
        guard let value = self[key] else { if required { missing(key) }; return nil }
        guard case .string(let text) = value else { fail(key, "str type expected", "type_error.str"); return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.unicodeScalars.count < minLength { fail(key, "ensure this value has at least \(minLength) characters", "value_error.any_str.min_length"); return nil }
        if text.unicodeScalars.count > maxLength { fail(key, "ensure this value has at most \(maxLength) characters", "value_error.any_str.max_length"); return nil }
        return text
    }

    mutating func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
        guard let value = self[key] else { if required { missing(key) }; return nil }
        guard case .int(let number) = value else { fail(key, "value is not a valid integer", "type_error.integer"); return nil }
        if let range, !range.contains(number) {
            fail(key, "ensure this value is between \(range.lowerBound) and \(range.upperBound)", "value_error.number.not_in_range")
            return nil
        }
        return number
    }

    mutating func double(_ key: String, required: Bool = false, range: ClosedRange<Double>? = nil) -> Double? {
        guard let value = self[key] else { if required { missing(key) }; return nil }
        guard let number = value.doubleValue, number.isFinite else { fail(key, "value is not a valid float", "type_error.float"); return nil }
        if let range, !range.contains(number) {
            fail(key, "ensure this value is between \(range.lowerBound) and \(range.upperBound)", "value_error.number.not_in_range")
            return nil
        }
        return number
    }

    mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let value = self[key] else { if required { missing(key) }; return nil }
        guard case .bool(let flag) = value else { fail(key, "value could not be parsed to a boolean", "type_error.bool"); return nil }
        return flag
    }

    mutating func object(_ key: String, required: Bool = false) -> [(String, JSONValue)]? {
        guard let value = self[key] else { if required { missing(key) }; return nil }
        guard case .object(let members) = value else { fail(key, "value is not a valid dict", "type_error.dict"); return nil }
        return members
    }

    mutating func array(_ key: String, required: Bool = false, maxCount: Int = 1_000) -> [JSONValue]? {
        guard let value = self[key] else { if required { missing(key) }; return nil }
        guard case .array(let items) = value else { fail(key, "value is not a valid list", "type_error.list"); return nil }
        if items.count > maxCount { fail(key, "ensure this value has at most \(maxCount) items", "value_error.list.max_items"); return nil }
        return items
    }

    /// One of `choices`, compared case-insensitively; returns the canonical spelling.
    mutating func choice(_ key: String, _ choices: [String], required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        guard let match = choices.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
            fail(key, "value is not a valid enumeration member; permitted: \(choices.map { "'\($0)'" }.joined(separator: ", "))",
                 "type_error.enum")
            return nil
        }
        return match
    }

    mutating func absorb(_ other: BodyReader) { issues += other.issues }

    /// Throws the collected 422, if any.
    func finish() throws {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

/// Query parameters with the same 422 shape (`loc: ["query", name]`).
struct QueryReader {
    let query: QueryParameters
    private(set) var issues: [ValidationError.Issue] = []

    init(_ request: Request) { query = request.query }

    mutating func int(_ name: String, default value: Int, range: ClosedRange<Int>) -> Int {
        guard let text = query[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            issues.append(.init(location: ["query", .key(name)],
                                message: "ensure this value is an integer between \(range.lowerBound) and \(range.upperBound)",
                                type: "value_error.number.not_in_range"))
            return value
        }
        return number
    }

    mutating func choice(_ name: String, _ choices: [String], default value: String? = nil) -> String? {
        guard let text = query[name], !text.isEmpty else { return value }
        guard let match = choices.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
            issues.append(.init(location: ["query", .key(name)], message: "value is not a valid enumeration member; permitted: "
                                + choices.joined(separator: ", "), type: "type_error.enum"))
            return value
        }
        return match
    }

    func string(_ name: String) -> String? { query[name].flatMap { $0.isEmpty ? nil : $0 } }

    func finish() throws {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

extension Parameters {
    /// An integer path parameter; 404 (not 422) when it is not one, as no such resource can exist.
    func id(_ name: String, what: String) throws -> Int {
        guard let text = self[name], let value = Int(text), value > 0 else { throw SupervisorError.notFound("\(what) not found") }
        return value
    }
}

/// JSON text ↔ ``JSONValue`` for the JSON columns.
enum JSONColumn {
    static func text(_ value: JSONValue) -> SQLiteValue { .text(value.encodedString) }
    static func value(_ text: String?) -> JSONValue { text.flatMap { DecodedJSON.parse(Array($0.utf8)) } ?? .null }
    static func iso(_ seconds: Double?) -> JSONValue { seconds.map { .string(AuthTime.iso(Date(timeIntervalSince1970: $0))) } ?? .null }
}

extension Response {
    static func created(_ value: JSONValue) -> Response { .json(value, status: .created) }
}
