import Foundation
import HTTPServer

/// A JSON body checked field by field. Every problem is collected, then ``finish()`` throws one 422 naming
/// each field (`loc: ["body", "priority"]`), so nothing is acted on unless the whole body is valid.
struct TelemetryBody {
    /// A JSON value as decoded strictly (a number is never a boolean and the other way round).
    enum Value: Decodable {
        case null, bool(Bool), number(Double), string(String), array([Value]), object([String: Value])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([Value].self) { self = .array(a) }
            else { self = .object(try c.decode([String: Value].self)) }
        }
    }

    private let fields: [String: Value]
    private var issues: [ValidationError.Issue] = []

    init(_ request: Request) throws {
        guard !request.body.isEmpty else { throw ValidationError.missing(location: ["body"]) }
        guard let value = try? JSONDecoder().decode(Value.self, from: Data(request.body)) else {
            throw ValidationError(location: ["body"], message: "Invalid JSON", type: "value_error.jsondecode")
        }
        guard case .object(let fields) = value else {
            throw ValidationError(location: ["body"], message: "value is not a valid dict", type: "type_error.dict")
        }
        self.fields = fields
    }

    private mutating func present(_ key: String, required: Bool) -> Value? {
        switch fields[key] {
        case nil, .null?:
            if required { issues.append(.init(location: ["body", .key(key)], message: "field required", type: "value_error.missing")) }
            return nil
        case let value?: return value
        }
    }

    private mutating func wrongType(_ key: String, _ noun: String, _ type: String) {
        issues.append(.init(location: ["body", .key(key)], message: "value is not a valid \(noun)", type: "type_error.\(type)"))
    }

    /// A string of 1…`maxLength` characters (after trimming nothing: the value is kept as sent).
    mutating func string(_ key: String, required: Bool = true, maxLength: Int = 1_000, allowEmpty: Bool = false) -> String? {
        guard let value = present(key, required: required) else { return nil }
        guard case .string(let s) = value else { wrongType(key, "string", "str"); return nil }
        if !allowEmpty && s.isEmpty {
            issues.append(.init(location: ["body", .key(key)], message: "ensure this value has at least 1 characters",
                                type: "value_error.any_str.min_length"))
            return nil
        }
        if s.unicodeScalars.count > maxLength {   // code points, as the documented maxLength counts
            issues.append(.init(location: ["body", .key(key)], message: "ensure this value has at most \(maxLength) characters",
                                type: "value_error.any_str.max_length"))
            return nil
        }
        return s
    }

    /// One of `choices`.
    mutating func choice(_ key: String, _ choices: [String], required: Bool = true) -> String? {
        guard let s = string(key, required: required, maxLength: 64) else { return nil }
        guard choices.contains(s) else {
            issues.append(.init(location: ["body", .key(key)],
                                message: "value is not a valid enumeration member; permitted: \(choices.map { "'\($0)'" }.joined(separator: ", "))",
                                type: "type_error.enum"))
            return nil
        }
        return s
    }

    mutating func bool(_ key: String, required: Bool = true) -> Bool? {
        guard let value = present(key, required: required) else { return nil }
        guard case .bool(let b) = value else { wrongType(key, "boolean", "bool"); return nil }
        return b
    }

    /// A finite number in `range`.
    mutating func number(_ key: String, in range: ClosedRange<Double>, exclusiveLower: Bool = false, required: Bool = true) -> Double? {
        guard let value = present(key, required: required) else { return nil }
        guard case .number(let n) = value, n.isFinite else { wrongType(key, "float", "float"); return nil }
        if n > range.upperBound || n < range.lowerBound || (exclusiveLower && n == range.lowerBound) {
            let op = exclusiveLower ? "greater than" : "greater than or equal to"
            issues.append(.init(location: ["body", .key(key)],
                                message: "ensure this value is \(op) \(range.lowerBound) and at most \(range.upperBound)",
                                type: "value_error.number.not_in_range"))
            return nil
        }
        return n
    }

    /// Throws the collected 422, if any.
    func finish() throws {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

/// Query parameters with the same all-or-nothing 422 (`loc: ["query", "limit"]`).
struct TelemetryQuery {
    private let query: QueryParameters
    private var issues: [ValidationError.Issue] = []

    init(_ request: Request) { query = request.query }

    /// An integer in `range`, `defaultValue` when absent.
    mutating func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) -> Int {
        guard let raw = query[name] else { return defaultValue }
        guard let value = Int(raw) else {
            issues.append(.init(location: ["query", .key(name)], message: "value is not a valid integer", type: "type_error.integer"))
            return defaultValue
        }
        guard range.contains(value) else {
            issues.append(.init(location: ["query", .key(name)],
                                message: "ensure this value is between \(range.lowerBound) and \(range.upperBound)",
                                type: "value_error.number.not_in_range"))
            return defaultValue
        }
        return value
    }

    /// One of `choices`, nil when absent.
    mutating func choice(_ name: String, _ choices: [String]) -> String? {
        guard let raw = query[name] else { return nil }
        guard choices.contains(raw) else {
            issues.append(.init(location: ["query", .key(name)],
                                message: "value is not a valid enumeration member; permitted: \(choices.map { "'\($0)'" }.joined(separator: ", "))",
                                type: "type_error.enum"))
            return nil
        }
        return raw
    }

    /// `true`/`false` (also `1`/`0`), `defaultValue` when absent.
    mutating func bool(_ name: String, default defaultValue: Bool) -> Bool {
        guard let raw = query[name] else { return defaultValue }
        switch raw.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default:
            issues.append(.init(location: ["query", .key(name)], message: "value could not be parsed to a boolean", type: "type_error.bool"))
            return defaultValue
        }
    }

    func finish() throws {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}
