import Foundation

/// Writes the Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples.
/// Label values are escaped (`\`, `"`, newline); numbers are Go-style (`+Inf`, `NaN`, integers without
/// a decimal point).
public struct PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    public private(set) var text = ""

    public init() { text.reserveCapacity(16 * 1024) }

    /// Starts a metric family. Call once per name, before its samples.
    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
        text += "# TYPE \(name) \(type)\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (key, raw)) in labels.enumerated() {
                if i > 0 { text += "," }
                text += key + "=\"" + Self.escape(raw) + "\""
            }
            text += "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    public mutating func sampleCount(_ name: String, _ labels: [(String, String)] = [], _ value: UInt64) {
        sample(name, labels, Double(value))
    }

    /// A whole histogram's samples (`_bucket` per bound and `+Inf`, `_sum`, `_count`).
    public mutating func histogram(_ name: String, _ labels: [(String, String)] = [], _ histogram: DurationHistogram) {
        let (cumulative, sum) = histogram.read()
        for (bound, count) in zip(histogram.bounds, cumulative) {
            sampleCount(name + "_bucket", labels + [("le", Self.format(bound))], count)
        }
        let total = cumulative.last ?? 0
        sampleCount(name + "_bucket", labels + [("le", "+Inf")], total)
        sample(name + "_sum", labels, sum)
        sampleCount(name + "_count", labels, total)
    }

    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
