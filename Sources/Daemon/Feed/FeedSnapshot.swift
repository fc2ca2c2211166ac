/// The latest steps of every tracked server, copied out of the windows for the inference engine.
public struct FeedSnapshot: Sendable {
    public var tick: Int64
    public var stepSeconds: Int64
    /// The fleet clock: start of the newest (possibly still open) step, epoch seconds.
    public var fleetStepTimestamp: Int64?
    public var warmup: WarmupStatus
    /// Sorted by server name.
    public var servers: [ServerSeries]
}

/// One server's latest `length` steps, oldest first.
public struct ServerSeries: Sendable {
    public var serverName: String
    /// The feed's `profile` override, nil when the collector never sent one (derive it from the name).
    public var profile: String?
    /// Number of steps copied (≤ the requested count and ≤ what the window holds).
    public var length: Int
    /// Start of the first step, epoch seconds. Step `t` starts at `firstStepTimestamp + t × stepSeconds`.
    public var firstStepTimestamp: Int64
    public var stepSeconds: Int64
    /// Metric-major: `values[metric.index * length + t]` — each metric is one contiguous run.
    public var values: [Float]
    /// `ServerStatus.code` per step.
    public var status: [UInt8]
    /// 1 where the step had samples, 0 where it was forward-filled.
    public var observed: [UInt8]
    /// Steps in the server's whole window (may exceed `length`).
    public var windowCount: Int
    /// True when the window holds at least `warmupSteps` steps.
    public var isWarm: Bool

    /// The contiguous run of `metric`.
    public func series(_ metric: MetricField) -> ArraySlice<Float> {
        values[(metric.index * length)..<((metric.index + 1) * length)]
    }

    /// Step start times, epoch seconds.
    public var timestamps: [Int64] { (0..<length).map { firstStepTimestamp + Int64($0) * stepSeconds } }

    /// Start of the newest step.
    public var lastStepTimestamp: Int64 { firstStepTimestamp + Int64(max(length - 1, 0)) * stepSeconds }

    /// Status of the newest step.
    public var latestStatus: ServerStatus? { status.last.flatMap(ServerStatus.init(code:)) }
}
