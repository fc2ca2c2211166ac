import Glibc
import Synchronization

/// Structured logs: one JSON object per line on stderr (DESIGN §6).
///
/// ```swift
/// logger.info("model_loaded", ["path": .string(path)])
/// // {"ts":"2024-05-01T12:00:00.123Z","level":"info","msg":"model_loaded","path":"..."}
/// ```
/// Each line is written with a single `write(2)` under a lock, so lines from different threads
/// never interleave. Never pass secrets as fields.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        var name: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            }
        }
    }

    /// Where lines go; tests can capture them.
    public struct Sink: Sendable {
        let write: @Sendable ([UInt8]) -> Void

        public init(_ write: @escaping @Sendable ([UInt8]) -> Void) { self.write = write }

        public static let standardError = Sink { line in
            standardErrorLock.withLock { _ in
                var offset = 0
                line.withUnsafeBytes { bytes in
                    while offset < bytes.count {
                        let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                        if written <= 0 { if errno == EINTR { continue } else { return } }
                        offset += written
                    }
                }
            }
        }

        /// Drops everything (benchmarks).
        public static let discard = Sink { _ in }
    }

    public var label: String
    public var minimumLevel: Level
    public var sink: Sink

    public init(label: String = "http", minimumLevel: Level = .info, sink: Sink = .standardError) {
        self.label = label
        self.minimumLevel = minimumLevel
        self.sink = sink
    }

    public func log(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) {
        log(level, message, fields: fields.map { ($0.key, $0.value) })
    }

    public func log(_ level: Level, _ message: String, fields: [(String, JSONValue)]) {
        guard level >= minimumLevel else { return }
        let line: JSONValue = .object([("ts", .string(WallClock.iso8601Now())), ("level", .string(level.name)),
                                       ("logger", .string(label)), ("msg", .string(message))] + fields)
        var bytes = line.encoded()
        bytes.append(0x0A)
        sink.write(bytes)
    }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) { log(.error, message, fields) }
}

private let standardErrorLock = Mutex<Void>(())
