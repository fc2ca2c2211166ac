/// Path parameters captured by the router (`/servers/{id}` → `id`).
public struct Parameters: Sendable {
    public private(set) var values: [(name: String, value: String)] = []

    public init() {}

    mutating func append(name: String, value: String) { values.append((name: name, value: value)) }

    mutating func removeLast() { values.removeLast() }

    public subscript(name: String) -> String? { values.first { $0.name == name }?.value }

    /// The parameter as a string; 422 (`loc: ["path", name]`) when absent.
    public func require(_ name: String) throws -> String {
        guard let value = self[name] else { throw ValidationError.missing(location: ["path", .key(name)]) }
        return value
    }

    /// The parameter converted to `T`; 422 with the expected type when it does not convert.
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type) throws -> T {
        let raw = try require(name)
        guard let value = T(raw) else { throw ValidationError.typeMismatch(location: ["path", .key(name)], expected: T.self) }
        return value
    }
}
