import HTTPServer

/// A documented query parameter of a Supervisor route, saying what ``QueryReader`` accepts for it: a plain
/// string (`"event_type"`), `.int(name, range)` or `.choice(name, values)`.
struct QueryDoc: ExpressibleByStringLiteral {
    let parameter: OpenAPIParameter

    init(stringLiteral name: String) { parameter = OpenAPIParameter(query: name) }
    private init(_ parameter: OpenAPIParameter) { self.parameter = parameter }

    /// ``QueryReader/int(_:default:range:)``: an integer within `range`.
    static func int(_ name: String, _ range: ClosedRange<Int>) -> QueryDoc {
        QueryDoc(OpenAPIParameter(query: name, schema: JSONSchema.integer(in: range)))
    }

    /// ``QueryReader/choice(_:_:default:)``: one of `values` in any letter case, or empty (= absent). Said as a
    /// pattern, since an `enum` cannot say "any case".
    static func choice(_ name: String, _ values: [String]) -> QueryDoc {
        QueryDoc(OpenAPIParameter(query: name, schema: ["type": "string", "pattern": .string("^(?:\(anyCase(values)))?$")],
                                  description: "one of " + values.joined(separator: ", ") + " (any case)"))
    }

    /// A regular expression alternation matching each of `values` in any letter case (`[aA][bB]|…`).
    static func anyCase(_ values: [String]) -> String {
        values.map { value in
            value.map { character -> String in
                let lower = character.lowercased(), upper = character.uppercased()
                if lower != upper { return "[\(lower)\(upper)]" }
                return "\\^$.|?*+()[]{}/".contains(character) ? "\\" + String(character) : String(character)
            }.joined()
        }.joined(separator: "|")
    }
}

/// A documented JSON body field of a Supervisor route, mirroring the ``BodyReader`` call that reads it, so the
/// schema says what the route accepts: types, `required`, lengths, ranges and choices. `null` counts as absent
/// (``BodyReader`` reads it so), so optional fields allow it.
struct BodyField {
    let name: String
    let schema: JSONValue
    let required: Bool

    /// ``BodyReader/string(_:required:maxLength:minLength:)``: at most `maxLength` characters, and at least
    /// `minLength` once trimmed (a non-blank string when it is 1).
    static func string(_ name: String, required: Bool = false, maxLength: Int = 200, minLength: Int = 1) -> BodyField {
        var members: [(String, JSONValue)] = [("type", "string"), ("maxLength", .int(maxLength))]
        if minLength > 0 { members += [("minLength", .int(minLength)), ("pattern", "\\S")] }
        return BodyField(name: name, schema: .object(members), required: required)
    }

    static func int(_ name: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> BodyField {
        BodyField(name: name, schema: range.map(JSONSchema.integer(in:)) ?? JSONSchema.integer, required: required)
    }

    static func double(_ name: String, required: Bool = false, range: ClosedRange<Double>? = nil) -> BodyField {
        BodyField(name: name, schema: range.map(JSONSchema.number(in:)) ?? JSONSchema.number, required: required)
    }

    static func bool(_ name: String, required: Bool = false) -> BodyField {
        BodyField(name: name, schema: JSONSchema.boolean, required: required)
    }

    static func object(_ name: String, required: Bool = false) -> BodyField {
        BodyField(name: name, schema: ["type": "object"], required: required)
    }

    /// `PUT /monitoring/config`'s `alert_thresholds`: `{cpu|memory|disk: {critical, warning}}`, both percentages. The
    /// route also refuses `warning` above `critical`, an order between two fields no JSON Schema can state (the
    /// description says it; tools/fuzz_hooks.py keeps the fuzzer's valid bodies in order).
    static let alertThresholds: BodyField = {
        let levels = JSONSchema.object(["critical": JSONSchema.number(in: 0...100), "warning": JSONSchema.number(in: 0...100)],
                                       required: ["critical", "warning"])
        let metrics = ["cpu", "memory", "disk"].map { ($0, levels) }
        return BodyField(name: "alert_thresholds", schema: [
            "type": "object", "properties": .object(metrics), "additionalProperties": false,
            "description": "Per metric (cpu, memory, disk) its critical and warning percentages; warning must not exceed critical",
        ], required: false)
    }()

    /// `minCount`: what the route checks after reading (e.g. a batch of at least one).
    static func array(_ name: String, required: Bool = false, minCount: Int = 0, maxCount: Int = 1_000, items: JSONValue? = nil) -> BodyField {
        var members: [(String, JSONValue)] = [("type", "array"), ("minItems", .int(minCount)), ("maxItems", .int(maxCount))]
        if let items { members.append(("items", items)) }
        return BodyField(name: name, schema: .object(members), required: required)
    }

    /// ``BodyReader/choice(_:_:required:)``: one of `choices` in any letter case.
    static func choice(_ name: String, _ choices: [String], required: Bool = false) -> BodyField {
        BodyField(name: name, schema: ["type": "string", "pattern": .string("^(?:\(QueryDoc.anyCase(choices)))$")], required: required)
    }

    /// The object schema of `fields`.
    static func schema(_ fields: [BodyField]) -> JSONValue {
        let properties: [(String, JSONValue)] = fields.map { field in
            guard !field.required, case .object(var members) = field.schema,
                  let type = members.firstIndex(where: { $0.0 == "type" }), case .string(let name) = members[type].1 else {
                return (field.name, field.schema)
            }
            members[type].1 = [.string(name), "null"]
            return (field.name, .object(members))
        }
        var members: [(String, JSONValue)] = [("type", "object"), ("properties", .object(properties))]
        let required = fields.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { members.append(("required", .array(required))) }
        return .object(members)
    }
}
