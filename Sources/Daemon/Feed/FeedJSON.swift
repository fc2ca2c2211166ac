import Foundation

/// A parsed JSON value for the feed validator: what `JSONSerialization` gives, without Foundation objects.
enum FeedJSON: Sendable, Equatable {
    case object([String: FeedJSON])
    case array([FeedJSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// Parses `body` as `JSONSerialization.jsonObject(with:options: [])` would.
    ///
    /// A strict byte-level reader handles the bodies collectors actually send — UTF-8, an object at the top,
    /// finite numbers, no duplicate keys — in a fraction of `JSONSerialization`'s time (it builds no
    /// `NSDictionary`/`NSNumber` objects). Anything else (invalid JSON, other encodings, `\u` escapes, unusual
    /// numbers, duplicate keys, deep nesting) is handed to `JSONSerialization` itself, so accepting, rejecting
    /// and every value are exactly as before. Returns nil when the body is not valid JSON.
    static func parse(_ body: Data) -> FeedJSON? {
        if let fast = parseFast(body) { return fast }
        guard let any = try? JSONSerialization.jsonObject(with: body, options: []) else { return nil }
        return FeedJSON(foundation: any)
    }

    /// The fast path alone: nil when the body is left to `JSONSerialization`.
    static func parseFast(_ body: Data) -> FeedJSON? {
        body.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            var reader = FastReader(bytes: base.assumingMemoryBound(to: UInt8.self), count: raw.count)
            return reader.document()
        }
    }

    /// From `JSONSerialization`'s objects (booleans are `NSNumber`s of type "c").
    init(foundation value: Any) {
        switch value {
        case let s as String: self = .string(s)
        case let n as NSNumber:
            self = String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
        case let a as [Any]: self = .array(a.map(FeedJSON.init(foundation:)))
        case let o as [String: Any]: self = .object(o.mapValues(FeedJSON.init(foundation:)))
        default: self = .null
        }
    }

    var objectValue: [String: FeedJSON]? { if case .object(let o) = self { o } else { nil } }
    var arrayValue: [FeedJSON]? { if case .array(let a) = self { a } else { nil } }
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var isNull: Bool { if case .null = self { true } else { false } }
}

/// The fast path of ``FeedJSON/parse(_:)``. `document()` returns `.some(value)` for a body it fully
/// understood and `.none` to hand the body to `JSONSerialization`.
private struct FastReader {
    let bytes: UnsafePointer<UInt8>
    let count: Int
    var i = 0
    var depth = 0

    init(bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
    }

    mutating func document() -> FeedJSON? {
        skipSpace()
        guard i < count, bytes[i] == UInt8(ascii: "{") else { return nil }
        guard let value = value() else { return nil }
        skipSpace()
        return i == count ? value : nil
    }

    @inline(__always) mutating func skipSpace() {
        while i < count {
            let c = bytes[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    mutating func value() -> FeedJSON? {
        skipSpace()
        guard i < count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(FeedJSON.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func literal(_ word: StaticString, _ result: FeedJSON) -> FeedJSON? {
        let n = word.utf8CodeUnitCount
        guard i + n <= count else { return nil }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return nil }
        i += n
        return result
    }

    mutating func object() -> FeedJSON? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { return nil }
        i += 1
        var members: [String: FeedJSON] = [:]
        skipSpace()
        if i < count && bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < count, bytes[i] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard i < count, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            guard let v = value() else { return nil }
            // Duplicate keys: left to JSONSerialization.
            guard members.updateValue(v, forKey: key) == nil else { return nil }
            skipSpace()
            guard i < count else { return nil }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            return nil
        }
    }

    mutating func array() -> FeedJSON? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { return nil }
        i += 1
        var items: [FeedJSON] = []
        skipSpace()
        if i < count && bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            guard let v = value() else { return nil }
            items.append(v)
            skipSpace()
            guard i < count else { return nil }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            return nil
        }
    }

    /// A string without `\u` escapes, valid UTF-8, no raw control characters.
    mutating func string() -> String? {
        i += 1
        let start = i
        var escaped = false
        while i < count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { return nil }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i += 1
                guard i < count else { return nil }
                switch bytes[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): break
                default: return nil   // \u…: left to JSONSerialization
                }
            }
            i += 1
        }
        guard i < count else { return nil }
        let end = i
        i += 1
        let raw = UnsafeBufferPointer(start: bytes + start, count: end - start)
        if !escaped { return String(validating: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var k = 0
        while k < raw.count {
            var c = raw[k]
            if c == UInt8(ascii: "\\") {
                k += 1
                switch raw[k] {
                case UInt8(ascii: "b"): c = 0x08
                case UInt8(ascii: "f"): c = 0x0C
                case UInt8(ascii: "n"): c = 0x0A
                case UInt8(ascii: "r"): c = 0x0D
                case UInt8(ascii: "t"): c = 0x09
                default: c = raw[k]
                }
            }
            out.append(c)
            k += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    /// A JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) that JSONSerialization reads as a
    /// plain `Int64` or `Double`: integers of at most 17 digits, and others whose text before a lowercase `e`
    /// (the whole text without one) is at most 17 characters — longer ones it reads through `Decimal`, whose
    /// rounding differs, so those (and anything non-finite or underflowing) are left to it.
    mutating func number() -> FeedJSON? {
        let start = i
        if i < count && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < count else { return nil }
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        var digits = 0, nonZero = false
        var lowercaseE: Int?
        var integer: UInt64 = 0
        var plainInteger = true
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < count && isDigit(bytes[i]) { return nil }   // leading zero
        } else if isDigit(bytes[i]) {
            while i < count && isDigit(bytes[i]) {
                integer = integer &* 10 &+ UInt64(bytes[i] - 0x30)
                digits += 1
                nonZero = true
                i += 1
            }
        } else {
            return nil
        }
        if i < count && bytes[i] == UInt8(ascii: ".") {
            plainInteger = false
            i += 1
            guard i < count, isDigit(bytes[i]) else { return nil }
            while i < count && isDigit(bytes[i]) {
                if bytes[i] != 0x30 { nonZero = true }
                i += 1
            }
        }
        if i < count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            plainInteger = false
            if bytes[i] == UInt8(ascii: "e") { lowercaseE = i }
            i += 1
            if i < count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < count, isDigit(bytes[i]) else { return nil }
            while i < count && isDigit(bytes[i]) { i += 1 }
        }
        let negative = bytes[start] == UInt8(ascii: "-")
        if plainInteger {
            guard digits <= 17 else { return nil }
            // Exact: at most 17 digits, and the value is what Int64 → Double gives.
            let magnitude = Double(integer)
            return .number(negative ? -magnitude : magnitude)
        }
        guard (lowercaseE ?? i) - start <= 17 else { return nil }
        let length = i - start
        guard length < 64 else { return nil }
        let value: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            for k in 0..<length { buffer[k] = CChar(bitPattern: bytes[start + k]) }
            buffer[length] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(buffer.baseAddress!, &end)
            guard end == buffer.baseAddress! + length else { return nil }
            return v
        }
        guard let value, value.isFinite, !(nonZero && (value == 0 || value.isSubnormal)) else { return nil }
        return .number(value)
    }
}
