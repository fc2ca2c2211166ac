import Foundation

/// The answer to an accepted `POST /feed/data`, with exactly the spec's fields.
///
/// `accepted`: `status, records_received, tick, rolling_window_size, warmup_complete`.
/// `warming_up`: `status, records_received, tick, warmup_complete, progress`.
public struct IngestResponse: Sendable, Equatable {
    public enum Status: String, Sendable {
        case accepted
        case warmingUp = "warming_up"
    }

    public var status: Status
    public var recordsReceived: Int
    public var tick: Int64
    public var rollingWindowSize: Int
    public var warmupComplete: Bool
    /// `"45% (need 100 records minimum)"` while warming up, nil once warm.
    public var progress: String?
    /// True when this batch closed at least one step (the tick advanced).
    public var tickAdvanced: Bool

    /// The response body as UTF-8 JSON, keys in the spec's order.
    public var jsonBody: Data {
        var w = JSONWriter(capacity: 160)
        w.raw("{\"status\":"); w.string(status.rawValue)
        w.raw(",\"records_received\":"); w.int(recordsReceived)
        w.raw(",\"tick\":"); w.int(tick)
        switch status {
        case .accepted:
            w.raw(",\"rolling_window_size\":"); w.int(rollingWindowSize)
            w.raw(",\"warmup_complete\":"); w.bool(warmupComplete)
        case .warmingUp:
            w.raw(",\"warmup_complete\":"); w.bool(warmupComplete)
            w.raw(",\"progress\":"); w.string(progress ?? "")
        }
        w.byte(UInt8(ascii: "}"))
        return Data(w.bytes)
    }
}

/// Fleet warm-up state (see `docs/storage.md`, "Warm-up").
public struct WarmupStatus: Sendable, Equatable {
    /// True once every live server reached `requiredSteps`; stays true afterwards (persisted).
    public var complete: Bool
    /// `floor(100 × have / required)`, 100 when complete.
    public var percent: Int
    /// Steps a server needs (`FeedStoreConfiguration.warmupSteps`).
    public var requiredSteps: Int
    /// Steps of the least-filled live server (capped at `requiredSteps`); 0 with no servers.
    public var haveSteps: Int
    /// Servers whose windows hold at least `requiredSteps` steps.
    public var warmServers: Int

    /// The spec's progress string, e.g. `"45% (need 100 records minimum)"`.
    public var progressText: String { "\(percent)% (need \(requiredSteps) records minimum)" }

    /// The spec's predictions warm-up message, e.g. `"Need at least 100 records, have 45"`.
    public var insufficientDataMessage: String { "Need at least \(requiredSteps) records, have \(haveSteps)" }
}

/// What `/status` needs from the feed.
public struct FeedStatus: Sendable, Equatable {
    public var serversTracked: Int
    public var tick: Int64
    public var totalRecords: Int64
    public var rollingWindowSize: Int
    public var stepSeconds: Int64
    /// Start of the newest step seen (the fleet clock), epoch seconds; nil before any data.
    public var fleetStepTimestamp: Int64?
    public var warmup: WarmupStatus
}

/// Delivered after a batch that advanced the tick (after commit and window update).
public struct TickEvent: Sendable, Equatable {
    /// The tick after the batch.
    public var tick: Int64
    /// How many steps closed in this batch.
    public var stepsClosed: Int64
    /// Start of the newest closed step (epoch seconds).
    public var closedStepTimestamp: Int64
    /// Start of the step now open (the fleet clock).
    public var openStepTimestamp: Int64
}
