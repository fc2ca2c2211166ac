import COpenSSL
import Foundation
import HTTPServer

/// Small formatting helpers shared by the telemetry console's routes and state.
enum TelemetryFormat {
    /// ISO 8601 UTC with `Z`, as in the spec's examples (`2025-11-14T10:30:15Z`).
    static func iso(_ date: Date) -> String { ISO8601Timestamp.format(Int64(date.timeIntervalSince1970.rounded(.down))) + "Z" }

    static func iso(_ epoch: Double?) -> JSONValue {
        guard let epoch else { return .null }
        return .string(iso(Date(timeIntervalSince1970: epoch)))
    }

    /// `prefix-` + 12 random hex digits from libcrypto's RAND_bytes (`task-3fa9c21b0d7e`).
    static func id(_ prefix: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 6)
        precondition(RAND_bytes(&bytes, 6) == 1, "RAND_bytes failed")
        return prefix + "-" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// `value` rounded to `places` decimals as a JSON number (null when not finite).
    static func number(_ value: Double?, places: Int = 2) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        let scale = pow(10, Double(places))
        return .double((value * scale).rounded() / scale)
    }

    static func megabytes(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }

    /// Start of the UTC day containing `date`.
    static func startOfDay(_ date: Date) -> Double {
        let t = date.timeIntervalSince1970
        return t - t.truncatingRemainder(dividingBy: 86_400)
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}

/// A 4xx with the spec's extra `code` member (`{"detail": "...", "code": "CONSENT_REQUIRED"}`).
func telemetryError(_ status: HTTPStatus, _ detail: String, code: String? = nil, extra: [(String, JSONValue)] = []) -> HTTPError {
    HTTPError(status, detail, extra: (code.map { [("code", JSONValue.string($0))] } ?? []) + extra)
}

extension TelemetryFormat {
    /// Nearest-rank percentile of unsorted values (`s[Int(n·q)]` on the sorted list, like the original).
    static func percentile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }

    static func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
}
