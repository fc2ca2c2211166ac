import HTTPServer

typealias Loc = ValidationError.Location

/// Validates request input, collecting every problem with its `loc` so one 422 names them all; nothing is
/// written unless ``check()`` passes.
struct Validator {
    private(set) var issues: [ValidationError.Issue] = []

    /// The request body as a JSON object (422 at `["body"]` when missing, malformed or not an object).
    static func body(_ request: Request) throws -> JSONValue {
        guard !request.body.isEmpty else { throw ValidationError.missing(location: ["body"]) }
        let value: JSONValue
        do { value = try JSONParser.parse(request.body) } catch {
            throw ValidationError(location: ["body"], message: "Invalid JSON: \(error.message)", type: "value_error.jsondecode")
        }
        guard value.members != nil else { throw ValidationError.typeMismatch(location: ["body"], expected: [String: Any].self) }
        return value
    }

    mutating func fail(_ loc: [Loc], _ message: String, _ type: String) {
        issues.append(ValidationError.Issue(location: loc, message: message, type: type))
    }

    func check() throws { if !issues.isEmpty { throw ValidationError(issues) } }

    /// nil when absent; a problem when required and absent, or null and not nullable.
    private mutating func present(_ value: JSONValue?, _ loc: [Loc], required: Bool, nullable: Bool) -> JSONValue? {
        guard let value else {
            if required { fail(loc, "field required", "value_error.missing") }
            return nil
        }
        if value.isNull {
            if !nullable || required { fail(loc, "none is not an allowed value", "type_error.none.not_allowed") }
            return nil
        }
        return value
    }

    mutating func string(_ value: JSONValue?, _ loc: [Loc], required: Bool = false, nullable: Bool = true,
                         minLength: Int = 0, maxLength: Int = 10_000, oneOf: [String]? = nil) -> String? {
        guard let value = present(value, loc, required: required, nullable: nullable) else { return nil }
        guard case .string(let text) = value else { fail(loc, "str type expected", "type_error.str"); return nil }
        if let oneOf, !oneOf.contains(text) {
            fail(loc, "value is not a valid enumeration member; permitted: \(oneOf.map { "'\($0)'" }.joined(separator: ", "))",
                 "type_error.enum")
            return nil
        }
        if text.count < minLength { fail(loc, "ensure this value has at least \(minLength) characters", "value_error.any_str.min_length"); return nil }
        if text.count > maxLength { fail(loc, "ensure this value has at most \(maxLength) characters", "value_error.any_str.max_length"); return nil }
        return text
    }

    mutating func int(_ value: JSONValue?, _ loc: [Loc], required: Bool = false, nullable: Bool = true,
                      range: ClosedRange<Int>) -> Int? {
        guard let value = present(value, loc, required: required, nullable: nullable) else { return nil }
        let number: Int
        switch value {
        case .int(let v): number = v
        case .double(let v) where v == v.rounded() && abs(v) < 1e15: number = Int(v)
        default: fail(loc, "value is not a valid integer", "type_error.integer"); return nil
        }
        guard range.contains(number) else { outOfRange(loc, range.lowerBound, range.upperBound); return nil }
        return number
    }

    mutating func number(_ value: JSONValue?, _ loc: [Loc], required: Bool = false, nullable: Bool = true,
                         range: ClosedRange<Double>) -> Double? {
        guard let value = present(value, loc, required: required, nullable: nullable) else { return nil }
        let number: Double
        switch value {
        case .int(let v): number = Double(v)
        case .double(let v): number = v
        default: fail(loc, "value is not a valid float", "type_error.float"); return nil
        }
        guard range.contains(number) else { outOfRange(loc, range.lowerBound, range.upperBound); return nil }
        return number
    }

    private mutating func outOfRange<T: Comparable & CustomStringConvertible>(_ loc: [Loc], _ low: T, _ high: T) {
        fail(loc, "ensure this value is between \(low) and \(high)", "value_error.number.not_in_range")
    }

    mutating func bool(_ value: JSONValue?, _ loc: [Loc], required: Bool = false, nullable: Bool = true) -> Bool? {
        guard let value = present(value, loc, required: required, nullable: nullable) else { return nil }
        guard case .bool(let flag) = value else { fail(loc, "value could not be parsed to a boolean", "type_error.bool"); return nil }
        return flag
    }

    mutating func strings(_ value: JSONValue?, _ loc: [Loc], required: Bool = false, maxItems: Int = 100,
                          maxLength: Int = 500) -> [String]? {
        guard let value = present(value, loc, required: required, nullable: true) else { return nil }
        guard case .array(let items) = value else { fail(loc, "value is not a valid list", "type_error.list"); return nil }
        if items.count > maxItems { fail(loc, "ensure this value has at most \(maxItems) items", "value_error.list.max_items"); return nil }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            if let text = string(item, loc + [.index(index)], required: true, minLength: 1, maxLength: maxLength) { out.append(text) }
        }
        return out.count == items.count ? out : nil
    }

    /// Fails for every member of `object` not in `allowed` (typos must not be silently ignored).
    mutating func rejectUnknown(_ object: JSONValue, _ loc: [Loc], allowed: [String]) {
        for (key, _) in object.members ?? [] where !allowed.contains(key) {
            fail(loc + [.key(key)], "extra fields not permitted", "value_error.extra")
        }
    }

    // MARK: Query parameters

    mutating func queryInt(_ request: Request, _ name: String, range: ClosedRange<Int>) -> Int? {
        guard let raw = request.query[name] else { return nil }
        return int(Int(raw).map(JSONValue.int) ?? .string(raw), ["query", .key(name)], range: range)
    }

    mutating func queryString(_ request: Request, _ name: String, required: Bool = false, oneOf: [String]? = nil,
                              maxLength: Int = 200) -> String? {
        string(request.query[name].map(JSONValue.string), ["query", .key(name)], required: required, minLength: 1,
               maxLength: maxLength, oneOf: oneOf)
    }

    mutating func queryBool(_ request: Request, _ name: String) -> Bool? {
        guard let raw = request.query[name] else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: fail(["query", .key(name)], "value could not be parsed to a boolean", "type_error.bool"); return nil
        }
    }

    /// An ISO 8601 date or date-time (`2025-11-10` or `2025-11-10T12:00:00Z`) as epoch seconds.
    mutating func queryDate(_ request: Request, _ name: String) -> Double? {
        guard let raw = request.query[name] else { return nil }
        let text = raw.count == 10 ? raw + "T00:00:00Z" : raw
        guard let epoch = ISO8601Timestamp.parse(text) else {
            fail(["query", .key(name)], "invalid datetime format", "value_error.datetime"); return nil
        }
        return epoch
    }
}
