import Foundation

/// The event loops of a process: one per core by default. Several `HTTPServer`s (listeners on
/// different ports) can share one group.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]

    /// Starts `loopCount` loop threads.
    public init(loopCount: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        loops = try (0..<max(1, loopCount)).map { try EventLoop(index: $0) }
    }

    /// Stops every loop, closing whatever connections they still hold.
    public func shutdown() {
        for loop in loops { loop.stop() }
    }
}
