import Foundation
import HTTPServer

/// The orchestration module's durable state: every row a client creates or a task run produces lives in
/// the module's SQLite database; this type and its extensions are the only code that touches it.
final class OrchestrationStore: Sendable {
    let db: SQLiteDatabase
    let clock: any DaemonClock

    init(db: SQLiteDatabase, clock: any DaemonClock) {
        self.db = db
        self.clock = clock
    }

    func now() -> Double { clock.now().timeIntervalSince1970 }

    static func newID() -> String { UUID().uuidString.lowercased() }

    /// `2025-11-10T12:00:00Z` (spec §7.4), or null.
    static func iso(_ epoch: Double?) -> JSONValue {
        guard let epoch else { return .null }
        return .string(ISO8601Timestamp.format(Int64(epoch.rounded(.down))) + "Z")
    }

    /// A stored JSON document (TEXT column) back as a value; null when absent or unreadable.
    static func document(_ text: String?) -> JSONValue {
        guard let text, let value = try? JSONParser.parse(text) else { return .null }
        return value
    }

    static func text(_ value: JSONValue) -> String { value.encodedString }

    /// Rounds for presentation (money to 4 dp, ratios to 3 dp) so floating noise does not leak into the API.
    static func round(_ value: Double?, _ places: Int = 4) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        let scale = pow(10, Double(places))
        return .double((value * scale).rounded() / scale)
    }
}

extension SQLiteStatement {
    // `optionalString` and `optionalDouble` come from Autopack/AutopackJSON.swift.
    func optionalInt(_ index: Int32) -> JSONValue { isNull(index) ? .null : .int(Int(int64(index))) }
}

extension SQLiteValue {
    init(_ text: String?) { self = text.map(SQLiteValue.text) ?? .null }
    init(_ number: Double?) { self = number.map(SQLiteValue.real) ?? .null }
    init(_ number: Int?) { self = number.map { .integer(Int64($0)) } ?? .null }
    init(_ flag: Bool) { self = .integer(flag ? 1 : 0) }
}
