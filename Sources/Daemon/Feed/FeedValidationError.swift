import Foundation

/// One problem in a request body, in FastAPI/pydantic v2's shape:
/// `{"loc": ["body", "records", 3, "mem_used_pct"], "msg": "Input should be less than or equal to 100",
/// "type": "less_than_equal"}`.
public struct FeedValidationError: Sendable, Equatable, CustomStringConvertible {
    /// One element of `loc`: an object key or a list index.
    public enum Location: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringLiteral,
        ExpressibleByIntegerLiteral
    {
        case key(String)
        case index(Int)

        public init(stringLiteral value: String) { self = .key(value) }
        public init(integerLiteral value: Int) { self = .index(value) }

        public var description: String {
            switch self {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }
    }

    public var loc: [Location]
    public var msg: String
    public var type: String

    public init(loc: [Location], msg: String, type: String) {
        self.loc = loc
        self.msg = msg
        self.type = type
    }

    public var description: String { "\(loc.map(\.description).joined(separator: ".")): \(msg) [\(type)]" }

    /// This error as a JSON object (keys in the order loc, msg, type).
    public func appendJSON(to w: inout JSONWriter) {
        w.raw("{\"loc\":[")
        for (i, component) in loc.enumerated() {
            if i > 0 { w.comma() }
            switch component {
            case .key(let key): w.string(key)
            case .index(let index): w.int(index)
            }
        }
        w.raw("],\"msg\":")
        w.string(msg)
        w.raw(",\"type\":")
        w.string(type)
        w.byte(UInt8(ascii: "}"))
    }
}

/// The body was rejected: every problem found, in record and field order. Rendered as a 422
/// `{"detail": [ … ]}` by ``responseBody``.
public struct FeedValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [FeedValidationError]
    /// True when more errors existed than `FeedValidator.Limits.maxReportedErrors` allowed to list.
    public var truncated: Bool

    public init(errors: [FeedValidationError], truncated: Bool = false) {
        self.errors = errors
        self.truncated = truncated
    }

    /// HTTP status to answer with.
    public var httpStatus: Int { 422 }

    /// `{"detail":[{"loc":[…],"msg":"…","type":"…"}, …]}` as UTF-8 JSON.
    public var responseBody: Data {
        var w = JSONWriter()
        w.raw("{\"detail\":[")
        for (i, error) in errors.enumerated() {
            if i > 0 { w.comma() }
            error.appendJSON(to: &w)
        }
        w.raw("]}")
        return Data(w.bytes)
    }

    public var description: String {
        "feed validation failed (\(errors.count) error(s)\(truncated ? ", truncated" : "")): "
            + errors.prefix(5).map(\.description).joined(separator: "; ")
    }
}
