import Foundation
import TFTCore

/// File formats for simulated feeds.
public enum FleetFileFormat: String, CaseIterable, Sendable {
    case jsonl
    case csv

    /// `csv` for a `.csv` path, `jsonl` for `.jsonl`/`.json`/`.ndjson`, otherwise `nil`.
    public static func infer(fromPath path: String) -> FleetFileFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
        return nil
    }
}

/// Streams records to a file (or stdout) as JSON Lines or CSV, buffered, without Foundation encoders
/// (fast enough for millions of records). Numbers are printed in their shortest exact form.
public final class FleetRecordWriter {
    public let format: FleetFileFormat
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer: [UInt8] = []
    public private(set) var recordsWritten = 0
    public private(set) var bytesWritten = 0

    /// CSV columns: the 16 feed fields, then `status` and `profile`.
    public static let csvColumns = FleetRecord.feedFields + ["status", "profile"]

    /// Opens (truncates) `path` for writing; `-` writes to standard output.
    public init(path: String, format: FleetFileFormat) throws {
        self.format = format
        if path == "-" {
            handle = FileHandle.standardOutput
            ownsHandle = false
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw FleetSimulatorError.cannotWrite(path: path)
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            ownsHandle = true
        }
        buffer.reserveCapacity(1 << 20)
        if format == .csv {
            append(Self.csvColumns.joined(separator: ","))
            buffer.append(10)
        }
    }

    deinit {
        try? flush()
        if ownsHandle { try? handle.close() }
    }

    public func write(_ records: [FleetRecord]) throws {
        for r in records { try write(r) }
    }

    public func write(_ r: FleetRecord) throws {
        switch format {
        case .jsonl: encodeJSON(r)
        case .csv: encodeCSV(r)
        }
        recordsWritten += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes buffered bytes.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file.
    public func close() throws {
        try flush()
        if ownsHandle { try handle.close() }
    }

    @inline(__always) private func append(_ s: String) { buffer.append(contentsOf: s.utf8) }
    @inline(__always) private func append(_ d: Double) { append(Self.number(d)) }
    @inline(__always) private func append(_ i: Int) { append(String(i)) }

    /// Shortest representation; integral values without a trailing `.0` are still printed as `25.0` so
    /// the JSON type stays a float.
    static func number(_ d: Double) -> String { d.isFinite ? d.description : "0.0" }

    private func field(_ name: String, _ value: Double) {
        append(",\""); append(name); append("\":"); append(value)
    }

    private func encodeJSON(_ r: FleetRecord) {
        append("{\"timestamp\":\""); append(r.timestamp)
        append("\",\"server_name\":"); append(Self.jsonString(r.serverName))
        append(",\"status\":\""); append(r.status.rawValue)
        append("\",\"profile\":\""); append(r.profile.rawValue); append("\"")
        field("cpu_user_pct", r.cpuUserPct)
        field("cpu_sys_pct", r.cpuSysPct)
        field("cpu_iowait_pct", r.cpuIowaitPct)
        field("cpu_idle_pct", r.cpuIdlePct)
        field("java_cpu_pct", r.javaCpuPct)
        field("mem_used_pct", r.memUsedPct)
        field("swap_used_pct", r.swapUsedPct)
        field("disk_usage_pct", r.diskUsagePct)
        field("net_in_mb_s", r.netInMBs)
        field("net_out_mb_s", r.netOutMBs)
        append(",\"back_close_wait\":"); append(r.backCloseWait)
        append(",\"front_close_wait\":"); append(r.frontCloseWait)
        field("load_average", r.loadAverage)
        append(",\"uptime_days\":"); append(r.uptimeDays)
        append("}\n")
    }

    private func encodeCSV(_ r: FleetRecord) {
        append(r.timestamp); buffer.append(44)
        append(Self.csvField(r.serverName)); buffer.append(44)
        for v in [r.cpuUserPct, r.cpuSysPct, r.cpuIowaitPct, r.cpuIdlePct, r.javaCpuPct, r.memUsedPct,
                  r.swapUsedPct, r.diskUsagePct, r.netInMBs, r.netOutMBs] {
            append(v); buffer.append(44)
        }
        append(r.backCloseWait); buffer.append(44)
        append(r.frontCloseWait); buffer.append(44)
        append(r.loadAverage); buffer.append(44)
        append(r.uptimeDays); buffer.append(44)
        append(r.status.rawValue); buffer.append(44)
        append(r.profile.rawValue); buffer.append(10)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Reads simulated feeds back (JSON Lines via `JSONDecoder`, or the CSV layout of ``FleetRecordWriter``).
/// Meant for tests and tools; errors name the 1-based line.
public enum FleetRecordReader {
    public static func read(path: String, format: FleetFileFormat? = nil) throws -> [FleetRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        switch format ?? FleetFileFormat.infer(fromPath: path) ?? .jsonl {
        case .jsonl: return try parseJSONL(text)
        case .csv: return try parseCSV(text)
        }
    }

    public static func parseJSONL(_ text: String) throws -> [FleetRecord] {
        let decoder = JSONDecoder()
        var out: [FleetRecord] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\r" }) { continue }
            do {
                out.append(try decoder.decode(FleetRecord.self, from: Data(line.utf8)))
            } catch {
                throw FleetSimulatorError.malformedRecord(line: lineNumber, reason: "\(error)")
            }
        }
        return out
    }

    public static func parseCSV(_ text: String) throws -> [FleetRecord] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let header = lines.first else { return [] }
        let columns = splitCSV(header)
        var index: [String: Int] = [:]
        for (i, c) in columns.enumerated() { index[c] = i }
        for name in FleetRecord.feedFields where index[name] == nil {
            throw FleetSimulatorError.malformedRecord(line: 1, reason: "missing column \(name)")
        }
        var out: [FleetRecord] = []
        out.reserveCapacity(lines.count - 1)
        for (n, line) in lines.enumerated().dropFirst() {
            let f = splitCSV(line)
            let lineNumber = n + 1
            func text(_ name: String) throws -> String {
                guard let i = index[name], i < f.count else {
                    throw FleetSimulatorError.malformedRecord(line: lineNumber, reason: "missing \(name)")
                }
                return f[i]
            }
            func double(_ name: String) throws -> Double {
                guard let v = Double(try text(name)) else {
                    throw FleetSimulatorError.malformedRecord(line: lineNumber, reason: "\(name) is not a number")
                }
                return v
            }
            func int(_ name: String) throws -> Int {
                guard let v = Int(try text(name)) else {
                    throw FleetSimulatorError.malformedRecord(line: lineNumber, reason: "\(name) is not an integer")
                }
                return v
            }
            let name = try text("server_name")
            let status = index["status"] != nil ? ServerStatus.parse(try text("status")) : .healthy
            guard let status else {
                throw FleetSimulatorError.malformedRecord(line: lineNumber, reason: "unknown status")
            }
            let profile = ServerProfile.resolve(serverName: name, override: index["profile"] != nil ? try text("profile") : nil)
            out.append(FleetRecord(
                timestamp: try text("timestamp"), serverName: name, status: status, profile: profile,
                cpuUserPct: try double("cpu_user_pct"), cpuSysPct: try double("cpu_sys_pct"),
                cpuIowaitPct: try double("cpu_iowait_pct"), cpuIdlePct: try double("cpu_idle_pct"),
                javaCpuPct: try double("java_cpu_pct"), memUsedPct: try double("mem_used_pct"),
                swapUsedPct: try double("swap_used_pct"), diskUsagePct: try double("disk_usage_pct"),
                netInMBs: try double("net_in_mb_s"), netOutMBs: try double("net_out_mb_s"),
                backCloseWait: try int("back_close_wait"), frontCloseWait: try int("front_close_wait"),
                loadAverage: try double("load_average"), uptimeDays: try int("uptime_days")))
        }
        return out
    }

    /// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
    static func splitCSV(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { current.append("\"") } else {
                            quoted = false
                            if n == "," { fields.append(current); current = "" } else { current.append(n) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}

extension FleetGroundTruth {
    /// Pretty-printed, key-sorted JSON with snake_case keys (like the feed): `ramp_start`,
    /// `critical_at`, `critical_step`, ...
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }

    /// Decodes what ``jsonData()`` wrote.
    public static func decode(from data: Data) throws -> FleetGroundTruth {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(FleetGroundTruth.self, from: data)
    }
}
