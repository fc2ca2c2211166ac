/// Per-server alert state machine (docs/history.md, "Alert state machine").
///
/// - The **effective level** is the maximum raw level of the last `hold` ticks: a rise is recorded on the
///   tick it happens (`escalated`), a fall only once the lower level has held for `hold` consecutive ticks,
///   so a score flapping around a band edge does not produce an event storm.
/// - A fall is time-stamped at the first tick of the lower run (when the server actually recovered), not
///   at the tick that confirmed it, so durations are true durations.
/// - Falling to `healthy` is `resolved`; falling to another alert level is `de-escalated`.
/// - An **episode** runs from the escalation out of `healthy` to its `resolved` event.
public struct AlertTracker: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        public var timestamp: Int64
        public var level: HistoryLevel
        public var score: Double
    }

    public enum EventType: String, Sendable {
        case escalated, deescalated = "de-escalated", resolved
    }

    public struct Transition: Sendable, Equatable {
        public var timestamp: Int64
        public var type: EventType
        public var previous: HistoryLevel
        public var new: HistoryLevel
        public var riskScore: Double
        /// Start of the episode this event belongs to.
        public var episodeStart: Int64
        /// For `resolved`: the highest level of the episode and whether the problem was observed.
        public var episodePeak: HistoryLevel
        public var episodeObservedCritical: Bool
    }

    public private(set) var level: HistoryLevel = .healthy
    /// The last `hold` raw samples, oldest first.
    public private(set) var recent: [Sample] = []
    public private(set) var episodeStart: Int64?
    public private(set) var episodePeak: HistoryLevel = .healthy
    public private(set) var episodeObservedCritical = false

    public init() {}

    init(level: HistoryLevel, recent: [Sample], episodeStart: Int64?, peakLevel: HistoryLevel, observedCritical: Bool) {
        self.level = level
        self.recent = recent
        self.episodeStart = episodeStart
        self.episodePeak = peakLevel
        self.episodeObservedCritical = observedCritical
    }

    /// True when restarting from a fresh tracker would lose nothing.
    public var isQuiet: Bool { level == .healthy && episodeStart == nil && recent.allSatisfy { $0.level == .healthy } }

    /// Feeds one tick's raw level; returns the events it causes (zero or one).
    public mutating func observe(timestamp: Int64, level raw: HistoryLevel, score: Double, observedCritical: Bool,
                                 hold: Int) -> [Transition] {
        recent.append(Sample(timestamp: timestamp, level: raw, score: score))
        if recent.count > max(hold, 1) { recent.removeFirst(recent.count - max(hold, 1)) }
        if episodeStart != nil && observedCritical { episodeObservedCritical = true }
        let effective = recent.map(\.level).max() ?? raw
        guard effective != level else { return [] }
        let previous = level
        level = effective
        if effective > previous {
            if previous == .healthy {
                episodeStart = timestamp
                episodePeak = effective
                episodeObservedCritical = observedCritical
            }
            episodePeak = max(episodePeak, effective)
            return [Transition(timestamp: timestamp, type: .escalated, previous: previous, new: effective, riskScore: score,
                               episodeStart: episodeStart ?? timestamp, episodePeak: episodePeak,
                               episodeObservedCritical: episodeObservedCritical)]
        }
        // A fall: every sample in `recent` is at or below `effective`; the lower run began with the first
        // sample that is at or below it after the last one above it — with a full window that is recent[0].
        let start = recent.first!
        let start0 = episodeStart ?? start.timestamp
        if effective == .healthy {
            let t = Transition(timestamp: start.timestamp, type: .resolved, previous: previous, new: .healthy,
                               riskScore: start.score, episodeStart: start0, episodePeak: episodePeak,
                               episodeObservedCritical: episodeObservedCritical)
            episodeStart = nil
            episodePeak = .healthy
            episodeObservedCritical = false
            return [t]
        }
        return [Transition(timestamp: start.timestamp, type: .deescalated, previous: previous, new: effective,
                           riskScore: start.score, episodeStart: start0, episodePeak: episodePeak,
                           episodeObservedCritical: episodeObservedCritical)]
    }
}

extension AlertTracker {
    /// Compact text form of `recent` for the state table: `ts:level:score;…`.
    var recentText: String {
        recent.map { "\($0.timestamp):\($0.level.rawValue):\($0.score)" }.joined(separator: ";")
    }

    static func parseRecent(_ text: String) -> [Sample] {
        text.split(separator: ";").compactMap { part in
            let f = part.split(separator: ":")
            guard f.count == 3, let ts = Int64(f[0]), let l = Int(f[1]), let level = HistoryLevel(rawValue: l),
                  let score = Double(f[2]) else { return nil }
            return Sample(timestamp: ts, level: level, score: score)
        }
    }
}
