// The eight status values of the feed (spec/argus-api.md, "Valid Status Values").

/// Operational status of a server, as carried by a feed record's `status` field. The model takes it as a
/// time-varying unknown categorical input.
public enum ServerStatus: String, CaseIterable, Codable, Sendable {
    case healthy
    case criticalIssue = "critical_issue"
    case heavyLoad = "heavy_load"
    case idle
    case maintenance
    case morningSpike = "morning_spike"
    case offline
    case recovery

    /// Stable integer index (0 ..< 8), in the order the spec lists the values. Never reorder: a trained
    /// model's embedding rows are addressed by these numbers.
    public var index: Int {
        switch self {
        case .healthy: 0
        case .criticalIssue: 1
        case .heavyLoad: 2
        case .idle: 3
        case .maintenance: 4
        case .morningSpike: 5
        case .offline: 6
        case .recovery: 7
        }
    }

    /// Number of statuses (size of the embedding table).
    public static let count = 8

    /// The status with the given ``index``, or `nil` when out of range.
    public init?(index: Int) {
        guard let status = ServerStatus.allCases.first(where: { $0.index == index }) else { return nil }
        self = status
    }

    /// Parses a feed value; exact raw values only (the spec's enum is strict), after trimming spaces.
    public static func parse(_ text: String) -> ServerStatus? {
        ServerStatus(rawValue: text.trimmingSpaces().lowercased())
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
