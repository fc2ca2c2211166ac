import Foundation
import TFTCore

/// What to do with a line that cannot be read.
public enum BadLinePolicy: String, Sendable, CaseIterable {
    /// Report it (line number and reason) and go on.
    case skip
    /// Stop at the first one with ``TrainingError/malformedLine(line:reason:)``.
    case stop
}

/// One unreadable line of a data file.
public struct BadLine: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Reads feed records (JSONL, or CSV with a header) into a ``SeriesAccumulator``. Required per record:
/// `timestamp`, `server_name` and the feed fields the feature spec reads; `status` and `profile` are
/// optional (`healthy` and the name's profile); other metrics may be missing. Numbers must be finite.
public enum FeedFileReader {
    public struct Result: Sendable {
        public var records: Int
        public var badLines: [BadLine]
        public var firstEpoch: Int64?
        public var lastEpoch: Int64?
    }

    public static func read(path: String, into acc: inout SeriesAccumulator, policy: BadLinePolicy,
                            format: FleetFileFormat? = nil) throws -> Result {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.io("cannot read \(path): \(error.localizedDescription)")
        }
        let fmt = format ?? FleetFileFormat.infer(fromPath: path) ?? .jsonl
        return try read(data: data, format: fmt, into: &acc, policy: policy)
    }

    public static func read(data: Data, format: FleetFileFormat, into acc: inout SeriesAccumulator,
                            policy: BadLinePolicy) throws -> Result {
        var result = Result(records: 0, badLines: [], firstEpoch: nil, lastEpoch: nil)
        let required = Set(acc.spec.metrics.map(\.source))
        var csvColumns: [String]? = nil
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lineNumber = 0
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                lineNumber += 1
                var lineEnd = end
                if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<lineEnd])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                do {
                    let fields: [String: Field]
                    switch format {
                    case .jsonl: fields = try FlatJSON.parse(line)
                    case .csv:
                        let cells = CSVLine.split(line)
                        guard let header = csvColumns else {
                            csvColumns = cells
                            for name in ["timestamp", "server_name"] + required.sorted() where !cells.contains(name) {
                                throw TrainingError.malformedLine(line: lineNumber, reason: "header lacks column \(name)")
                            }
                            continue
                        }
                        guard cells.count == header.count else { throw ParseError("\(cells.count) cells, header has \(header.count)") }
                        var f: [String: Field] = [:]
                        for (h, c) in zip(header, cells) {
                            if c.isEmpty { f[h] = .null } else if let d = Double(c) { f[h] = .number(d) } else { f[h] = .string(c) }
                        }
                        fields = f
                    }
                    try add(fields, required: required, into: &acc, result: &result)
                } catch let e as TrainingError {
                    if case .malformedLine = e { throw e }
                    throw e
                } catch let e as ParseError {
                    if policy == .stop { throw TrainingError.malformedLine(line: lineNumber, reason: e.message) }
                    result.badLines.append(BadLine(line: lineNumber, reason: e.message))
                }
            }
        }
        return result
    }

    enum Field { case string(String), number(Double), null, bool(Bool) }
    struct ParseError: Error { let message: String; init(_ m: String) { message = m } }

    private static func add(_ f: [String: Field], required: Set<String>, into acc: inout SeriesAccumulator,
                            result: inout Result) throws {
        guard case .string(let ts)? = f["timestamp"] else { throw ParseError("missing or non-string timestamp") }
        guard let epoch = FleetTimestamp.parse(ts) else { throw ParseError("unreadable timestamp '\(ts)'") }
        guard case .string(let name)? = f["server_name"], !name.isEmpty else { throw ParseError("missing server_name") }
        var feed = [Float](repeating: .nan, count: FeedMetric.count)
        for (i, field) in FeedMetric.names.enumerated() {
            switch f[field] {
            case .number(let d)?:
                guard d.isFinite else { throw ParseError("\(field) is not finite") }
                feed[i] = Float(d)
            case nil, .null?:
                if required.contains(field) { throw ParseError("missing \(field)") }
            default: throw ParseError("\(field) is not a number")
            }
        }
        var status = ServerStatus.healthy
        if case .string(let s)? = f["status"] {
            guard let parsed = ServerStatus.parse(s) else { throw ParseError("unknown status '\(s)'") }
            status = parsed
        }
        var profile: ServerProfile? = nil
        if case .string(let p)? = f["profile"] { profile = ServerProfile.parse(p) }
        acc.add(server: name, profile: profile ?? ServerProfile.infer(serverName: name), epoch: epoch, feed: feed, status: status)
        result.records += 1
        result.firstEpoch = min(result.firstEpoch ?? epoch, epoch)
        result.lastEpoch = max(result.lastEpoch ?? epoch, epoch)
    }

    /// A parser for one flat JSON object (string, number, bool and null values).
    enum FlatJSON {
        static func parse(_ b: UnsafeBufferPointer<UInt8>) throws -> [String: Field] {
            var i = 0
            func skip() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D { i += 1 } }
            func expect(_ c: UInt8) throws {
                skip()
                guard i < b.count, b[i] == c else { throw ParseError("invalid JSON at column \(i + 1): expected '\(Character(Unicode.Scalar(c)))'") }
                i += 1
            }
            func string() throws -> String {
                try expect(0x22)
                var bytes: [UInt8] = []
                while i < b.count, b[i] != 0x22 {
                    if b[i] == 0x5C {
                        i += 1
                        guard i < b.count else { break }
                        switch b[i] {
                        case 0x6E: bytes.append(0x0A)
                        case 0x74: bytes.append(0x09)
                        case 0x75:
                            guard i + 4 < b.count, let v = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)...(i + 4)]), as: UTF8.self), radix: 16),
                                  let s = Unicode.Scalar(v) else { throw ParseError("invalid JSON escape at column \(i + 1)") }
                            bytes.append(contentsOf: Array(String(Character(s)).utf8))
                            i += 4
                        default: bytes.append(b[i])
                        }
                    } else { bytes.append(b[i]) }
                    i += 1
                }
                guard i < b.count else { throw ParseError("invalid JSON: unterminated string") }
                i += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            var out: [String: Field] = [:]
            try expect(0x7B)
            skip()
            if i < b.count, b[i] == 0x7D { i += 1; return out }
            while true {
                let key = try string()
                try expect(0x3A)
                skip()
                guard i < b.count else { throw ParseError("invalid JSON: truncated after \"\(key)\"") }
                switch b[i] {
                case 0x22: out[key] = .string(try string())
                case 0x6E, 0x74, 0x66:
                    let startWord = i
                    while i < b.count, b[i] >= 0x61, b[i] <= 0x7A { i += 1 }
                    let word = String(decoding: UnsafeBufferPointer(rebasing: b[startWord..<i]), as: UTF8.self)
                    switch word {
                    case "null": out[key] = .null
                    case "true": out[key] = .bool(true)
                    case "false": out[key] = .bool(false)
                    default: throw ParseError("invalid JSON value '\(word)' for \"\(key)\"")
                    }
                case 0x7B, 0x5B: throw ParseError("nested value for \"\(key)\" (records are flat)")
                default:
                    let s0 = i
                    while i < b.count, b[i] != 0x2C, b[i] != 0x7D, b[i] != 0x20 { i += 1 }
                    let text = String(decoding: UnsafeBufferPointer(rebasing: b[s0..<i]), as: UTF8.self)
                    guard let d = Double(text) else { throw ParseError("invalid number '\(text)' for \"\(key)\"") }
                    out[key] = .number(d)
                }
                skip()
                guard i < b.count else { throw ParseError("invalid JSON: missing '}'") }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x7D { i += 1; break }
                throw ParseError("invalid JSON at column \(i + 1)")
            }
            skip()
            guard i == b.count else { throw ParseError("invalid JSON: trailing characters at column \(i + 1)") }
            return out
        }
    }

    /// RFC 4180 cells of one line.
    enum CSVLine {
        static func split(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
            var cells: [String] = []
            var cur: [UInt8] = []
            var quoted = false
            var i = 0
            while i < b.count {
                let c = b[i]
                if quoted {
                    if c == 0x22 {
                        if i + 1 < b.count, b[i + 1] == 0x22 { cur.append(0x22); i += 1 } else { quoted = false }
                    } else { cur.append(c) }
                } else if c == 0x22 { quoted = true }
                else if c == 0x2C { cells.append(String(decoding: cur, as: UTF8.self)); cur.removeAll(keepingCapacity: true) }
                else { cur.append(c) }
                i += 1
            }
            cells.append(String(decoding: cur, as: UTF8.self))
            return cells
        }
    }
}
