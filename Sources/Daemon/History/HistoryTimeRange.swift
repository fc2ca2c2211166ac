import HTTPServer

/// The `time_range` query values of the `/historical/*` routes. `1M` is 30 days (as the original).
public enum HistoryTimeRange: String, Sendable, CaseIterable {
    case minutes30 = "30m", hour1 = "1h", hours8 = "8h", day1 = "1d", week1 = "1w", month1 = "1M"

    public var seconds: Int64 {
        switch self {
        case .minutes30: 1_800
        case .hour1: 3_600
        case .hours8: 28_800
        case .day1: 86_400
        case .week1: 604_800
        case .month1: 2_592_000
        }
    }

    /// Reads `time_range` from the query; absent → `defaultValue`; anything else → 422 with
    /// `loc: ["query", "time_range"]` (pydantic v2's `literal_error`, case-sensitive: `1m` is not `1M`).
    public static func parse(_ query: QueryParameters, default defaultValue: HistoryTimeRange) throws -> HistoryTimeRange {
        guard let raw = query["time_range"] else { return defaultValue }
        guard let range = HistoryTimeRange(rawValue: raw) else {
            throw ValidationError(location: ["query", "time_range"],
                                  message: "Input should be '30m', '1h', '8h', '1d', '1w' or '1M'", type: "literal_error")
        }
        return range
    }

    /// The half-open interval `(end − seconds, end]` the range covers.
    public func bounds(end: Int64) -> (from: Int64, to: Int64) { (end - seconds, end) }
}
