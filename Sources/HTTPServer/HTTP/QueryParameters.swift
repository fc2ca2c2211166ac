/// Query string parameters, percent-decoded (`+` means space), order and duplicates preserved.
public struct QueryParameters: Sendable, Sequence {
    public private(set) var items: [(name: String, value: String)]

    public init(parsing query: String?) {
        items = []
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentDecoding.decode(parts[0], plusAsSpace: true) ?? String(parts[0])
            let value = parts.count > 1 ? (PercentDecoding.decode(parts[1], plusAsSpace: true) ?? String(parts[1])) : ""
            items.append((name: name, value: value))
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { items.makeIterator() }

    /// The first value for `name`.
    public subscript(name: String) -> String? { items.first { $0.name == name }?.value }

    /// Every value for `name` (`?tag=a&tag=b`).
    public func values(for name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }

    /// The value for `name` converted to `T`, or nil when absent; throws 422 when present but invalid.
    public func get<T: LosslessStringConvertible>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard let raw = self[name] else { return nil }
        guard let value = T(raw) else { throw ValidationError.typeMismatch(location: ["query", .key(name)], expected: T.self) }
        return value
    }

    /// The value for `name` converted to `T`; throws 422 when missing or invalid.
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let value = try get(name, as: T.self) else {
            throw ValidationError.missing(location: ["query", .key(name)])
        }
        return value
    }
}

/// Percent-decoding (RFC 3986 §2.1) without Foundation.
enum PercentDecoding {
    /// Decodes `%XX` escapes; nil when an escape is malformed.
    static func decode<S: StringProtocol>(_ text: S, plusAsSpace: Bool = false) -> String? {
        let utf8 = Array(text.utf8)
        guard utf8.contains(where: { $0 == 0x25 || (plusAsSpace && $0 == 0x2B) }) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == 0x25 {
                guard index + 2 < utf8.count, let high = Byte.hexValue(utf8[index + 1]),
                      let low = Byte.hexValue(utf8[index + 2]) else { return nil }
                bytes.append(UInt8(high << 4 | low))
                index += 3
            } else {
                bytes.append(plusAsSpace && byte == 0x2B ? 0x20 : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
