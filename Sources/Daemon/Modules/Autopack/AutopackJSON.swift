import Foundation
import Glibc
import HTTPServer

extension JSONValue {
    /// Parses JSON text stored in a column (nil or invalid text → `null`).
    static func parse(_ text: String?) -> JSONValue {
        guard let text else { return .null }
        return DecodedJSON.parse(Array(text.utf8)) ?? .null
    }
}

/// ISO 8601 UTC timestamps with milliseconds (`2026-01-10T09:30:00.125Z`), the autopack module's time format.
enum AutopackTime {
    static func iso(_ epoch: Double) -> String {
        var seconds = time_t(epoch.rounded(.down))
        let millis = Int(((epoch - Double(seconds)) * 1000).rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), min(999, max(0, millis)))
    }

    static func json(_ epoch: Double?) -> JSONValue { epoch.map { .string(iso($0)) } ?? .null }
}

/// Collects every problem of a request before answering, so one 422 names all bad fields.
struct Checks {
    private(set) var issues: [ValidationError.Issue] = []

    mutating func fail(_ location: [ValidationError.Location], _ message: String, type: String = "value_error") {
        issues.append(ValidationError.Issue(location: location, message: message, type: type))
    }

    mutating func check(_ condition: Bool, _ location: [ValidationError.Location], _ message: String,
                        type: String = "value_error") {
        if !condition { fail(location, message, type: type) }
    }

    mutating func oneOf(_ value: String?, _ allowed: [String], _ location: [ValidationError.Location]) {
        guard let value else { return }
        check(allowed.contains(value), location,
              "value is not a valid enumeration member; permitted: " + allowed.map { "'\($0)'" }.joined(separator: ", "),
              type: "type_error.enum")
    }

    /// Identifiers that end up in artifact paths and SQL keys: 1–128 of `[A-Za-z0-9._-]`, not `.` or `..`.
    mutating func identifier(_ value: String, _ location: [ValidationError.Location]) {
        let ok = (1...128).contains(value.utf8.count) && value != "." && value != ".."
            && value.utf8.allSatisfy { $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || (0x30...0x39).contains($0)
                || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        check(ok, location, "must be 1-128 characters of letters, digits, '.', '_' or '-'", type: "value_error.identifier")
    }

    mutating func nonNegative(_ value: Int?, _ location: [ValidationError.Location]) { atLeast(value, 0, location) }

    mutating func atLeast(_ value: Int?, _ minimum: Int, _ location: [ValidationError.Location]) {
        if let value {
            check(value >= minimum, location, "ensure this value is greater than or equal to \(minimum)", type: "value_error.number.not_ge")
        }
    }

    func throwIfAny() throws { if !issues.isEmpty { throw ValidationError(issues) } }
}

extension Request {
    /// Decodes the JSON body and refuses members that `allowed` does not list (`extra fields not permitted`).
    func decodeStrict<T: Decodable>(_ type: T.Type, allowed: Set<String>) throws -> T {
        let value = try decode(T.self)
        if case .object(let members) = try decode(DecodedJSON.self).value {
            let extra = members.map(\.0).filter { !allowed.contains($0) }
            if !extra.isEmpty {
                throw ValidationError(extra.map {
                    ValidationError.Issue(location: ["body", .key($0)], message: "extra fields not permitted", type: "value_error.extra")
                })
            }
        }
        return value
    }
}

extension SQLiteStatement {
    func int(_ index: Int32) -> Int { Int(int64(index)) }
    func optionalString(_ index: Int32) -> JSONValue { isNull(index) ? .null : .string(string(index) ?? "") }
    func optionalDouble(_ index: Int32) -> Double? { isNull(index) ? nil : double(index) }
}

func notFound(_ what: String) -> HTTPError { HTTPError(.notFound, what) }

/// The lowercased text after the last `.` of a file name ("" for none, for dot-only names like `...`, and for
/// hidden files without one like `.env`).
func fileExtension(_ name: String) -> String {
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count > 1, let last = parts.last, !last.isEmpty, parts.dropLast().contains(where: { !$0.isEmpty }) else { return "" }
    return last.lowercased()
}
