import Foundation

/// Knobs of the feed store. Defaults follow the spec and the model contract (step 300 s, window 2880).
public struct FeedStoreConfiguration: Sendable {
    /// The model's step in seconds; samples are bucketed on this grid.
    public var stepSeconds: Int64 = 300
    /// Steps kept per server in memory (`rolling_window_size`).
    public var rollingWindowSize = 2_880
    /// Longest run of missing steps that is forward-filled (masked); a longer gap restarts the window.
    /// 12 steps = 1 h at 300 s.
    public var maxForwardFillSteps = 12
    /// Steps a server's window needs before it counts as warmed up (the spec's "100 records").
    public var warmupSteps = 100
    /// During warm-up, only servers whose newest step is within this many steps of the fleet clock are
    /// waited for (a server that stopped reporting cannot hold the fleet in warm-up forever).
    public var warmupLivenessSteps = 12
    /// Request-level validation limits (batch size, future skew, …).
    public var validation = FeedValidator.Limits()
    /// Metrics rows older than this (relative to the fleet clock) are pruned. Never less than the window.
    public var retentionSeconds: Int64 = 90 * 86_400
    /// Rows deleted per retention transaction (keeps each write short so ingest is never held up).
    public var retentionBatchSize = 2_000
    /// How often the background retention pass runs.
    public var retentionIntervalSeconds: Double = 600
    /// SQLite options for the database `open(dataDirectory:)` creates. `synchronous` stays FULL for
    /// acknowledged-means-durable (see `docs/storage.md`); lowering it is for benchmarks only.
    public var database = SQLiteConnection.Options()
    /// Database file name inside the data directory.
    public var databaseFileName = "argus.sqlite"

    public init() {}

    /// Seconds covered by a full window.
    public var windowSeconds: Int64 { Int64(rollingWindowSize) * stepSeconds }

    /// Retention actually applied: at least one window plus the forward-fill span, so restart can always
    /// rebuild full windows.
    public var effectiveRetentionSeconds: Int64 {
        max(retentionSeconds, Int64(rollingWindowSize + maxForwardFillSteps + 1) * stepSeconds)
    }

    func validate() {
        precondition(stepSeconds > 0, "stepSeconds must be positive")
        precondition(rollingWindowSize > 0, "rollingWindowSize must be positive")
        precondition(maxForwardFillSteps >= 0 && maxForwardFillSteps < rollingWindowSize,
                     "maxForwardFillSteps must be in 0..<rollingWindowSize")
        precondition(warmupSteps >= 1 && warmupSteps <= rollingWindowSize, "warmupSteps must be in 1...rollingWindowSize")
    }
}
