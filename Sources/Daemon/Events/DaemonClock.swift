import Foundation
import Synchronization

/// The daemon's notion of "now". Modules that schedule (cron, timeouts, retention) read time through it so
/// tests can drive time by hand.
public protocol DaemonClock: Sendable {
    func now() -> Date
}

/// Wall-clock time.
public struct SystemClock: DaemonClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told (tests).
public final class ManualClock: DaemonClock {
    private let current: Mutex<Date>
    public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = Mutex(start) }
    public func now() -> Date { current.withLock { $0 } }
    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    public func set(_ date: Date) { current.withLock { $0 = date } }
}
