import CLinux
import Synchronization

/// Logs events a client can trigger at will (bad requests, timeouts, slow WebSocket consumers) at
/// most once per kind per interval, and counts every one of them.
///
/// The first event of a kind is logged at once, with its own fields. Further events of that kind
/// within `interval` are only counted; when the interval ends, one summary line says how many there
/// were, with the first suppressed client as a sample, and a new interval starts. A quiet interval
/// closes the window, so the next event is again logged at once. 10,000 hostile connections a
/// second thus cost one line per kind every interval, not 10,000 lines.
///
/// ```swift
/// let log = ThrottledLog(logger: logger, interval: .seconds(10))
/// log.record(kind: "header_timeout", message: "request_rejected", client: peer, fields: [("status", .int(408))])
/// // {"msg":"request_rejected","kind":"header_timeout","client":"10.0.0.9","status":408}
/// // ... 10 s later, if more came:
/// // {"msg":"request_rejected","kind":"header_timeout","repeated":4211,"window_s":10,"sample_client":"10.0.0.7","summary":true}
/// ```
/// Events are rare next to requests, so one uncontended lock per event is cheap; `flushDue` is
/// called from each event loop's 50 ms sweep so summaries go out even after an attack stops.
public final class ThrottledLog: Sendable {
    private struct Window {
        var message: String
        var level: Logger.Level
        /// Monotonic ns when the current window opened; 0 when closed.
        var openedAt: UInt64 = 0
        var suppressed = 0
        var sampleClient = ""
        var total: UInt64 = 0
    }

    public let logger: Logger
    let interval: UInt64
    private let windows = Mutex<[String: Window]>([:])

    public init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = max(1, interval.nanoseconds)
    }

    /// Counts one event of `kind` and logs it unless this kind was logged within the interval.
    public func record(kind: String, message: String, level: Logger.Level = .warning, client: String,
                       fields: [(String, JSONValue)] = [], now: UInt64 = argus_monotonic_nanoseconds()) {
        var summary: [(String, JSONValue)]?
        let logNow = windows.withLock { windows -> Bool in
            var window = windows[kind] ?? Window(message: message, level: level)
            window.total += 1
            defer { windows[kind] = window }
            if window.openedAt == 0 {
                window.openedAt = now
                return true
            }
            window.suppressed += 1
            if window.suppressed == 1 { window.sampleClient = client }
            if isDue(window, now: now) {
                summary = Self.summaryFields(kind: kind, window, now: now)
                window.openedAt = now
                window.suppressed = 0
            }
            return false
        }
        if logNow {
            logger.log(level, message, fields: [("kind", .string(kind)), ("client", .string(client))] + fields)
        } else if let summary {
            logger.log(level, message, fields: summary)
        }
    }

    /// Writes the summaries of windows whose interval has ended; closes windows that stayed quiet.
    public func flushDue(now: UInt64 = argus_monotonic_nanoseconds()) {
        let due = windows.withLock { windows -> [(Logger.Level, String, [(String, JSONValue)])] in
            var lines: [(Logger.Level, String, [(String, JSONValue)])] = []
            for (kind, var window) in windows where window.openedAt != 0 && isDue(window, now: now) {
                if window.suppressed > 0 {
                    lines.append((window.level, window.message, Self.summaryFields(kind: kind, window, now: now)))
                    window.openedAt = now
                    window.suppressed = 0
                } else {
                    window.openedAt = 0
                }
                windows[kind] = window
            }
            return lines
        }
        for (level, message, fields) in due { logger.log(level, message, fields: fields) }
    }

    /// Events recorded per kind since start (logged or not), sorted by kind.
    public var totals: [(kind: String, count: UInt64)] {
        windows.withLock { windows in windows.map { (kind: $0.key, count: $0.value.total) } }.sorted { $0.kind < $1.kind }
    }

    /// Events of one kind since start.
    public func total(of kind: String) -> UInt64 { windows.withLock { $0[kind]?.total ?? 0 } }

    /// Callers pass clocks read at slightly different moments (a loop's `now` is from the start of its
    /// iteration), so `now` may be a little older than `openedAt`: never due then.
    private func isDue(_ window: Window, now: UInt64) -> Bool {
        now > window.openedAt && now - window.openedAt >= interval
    }

    private static func summaryFields(kind: String, _ window: Window, now: UInt64) -> [(String, JSONValue)] {
        let seconds = Double((max(now, window.openedAt) - window.openedAt) / 1_000_000) / 1000
        return [("kind", .string(kind)), ("repeated", .int(window.suppressed)), ("window_s", .double(seconds)),
                ("sample_client", .string(window.sampleClient)), ("summary", .bool(true))]
    }
}
