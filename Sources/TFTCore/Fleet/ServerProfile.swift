// The one table that maps servers to workload profiles. The simulator, the dataset, the model's static
// categorical embedding and the daemon's risk scorer all go through this type; the Python original had
// four divergent copies of this mapping (research/argus-original.md §3.2).

/// The workload profile of a server: the model's static categorical input and the key of the risk
/// thresholds (``ProfileThresholds``).
///
/// Raw values are the original's snake_case names (what a feed's `profile` field and the simulator's
/// records carry); ``displayName`` is what the API shows (`"Database"`, `"Web API"`, ...).
public enum ServerProfile: String, CaseIterable, Codable, Sendable {
    case mlCompute = "ml_compute"
    case database = "database"
    case webAPI = "web_api"
    case conductor = "conductor_mgmt"
    case etlIngest = "data_ingest"
    case riskAnalytics = "risk_analytics"
    case generic = "generic"

    /// Human-readable name used in API responses.
    public var displayName: String {
        switch self {
        case .mlCompute: "ML Compute"
        case .database: "Database"
        case .webAPI: "Web API"
        case .conductor: "Conductor Mgmt"
        case .etlIngest: "ETL/Ingest"
        case .riskAnalytics: "Risk Analytics"
        case .generic: "Generic"
        }
    }

    /// Stable integer index (0 ..< 7) for the model's embedding table. Never reorder: a trained model's
    /// embedding rows are addressed by these numbers.
    public var index: Int {
        switch self {
        case .mlCompute: 0
        case .database: 1
        case .webAPI: 2
        case .conductor: 3
        case .etlIngest: 4
        case .riskAnalytics: 5
        case .generic: 6
        }
    }

    /// Number of profiles (size of the embedding table).
    public static let count = 7

    /// The profile with the given ``index``, or `nil` when out of range.
    public init?(index: Int) {
        guard let profile = ServerProfile.allCases.first(where: { $0.index == index }) else { return nil }
        self = profile
    }

    /// Conventional server-name prefix the simulator uses for this profile (`ppdb001`, ...).
    public var namePrefix: String {
        switch self {
        case .mlCompute: "ppml"
        case .database: "ppdb"
        case .webAPI: "ppweb"
        case .conductor: "ppcon"
        case .etlIngest: "ppetl"
        case .riskAnalytics: "pprisk"
        case .generic: "ppgen"
        }
    }

    /// Nominal CPU core count assumed for the profile. The feed carries no core count, so
    /// `load_average / nominalCores` is the "load per core" that ``ProfileThresholds`` grades.
    public var nominalCores: Int {
        switch self {
        case .mlCompute: 16
        case .database: 8
        case .webAPI: 8
        case .conductor: 8
        case .etlIngest: 16
        case .riskAnalytics: 16
        case .generic: 4
        }
    }

    /// Parses an explicit profile, e.g. the feed's optional `profile` field.
    ///
    /// Accepts the raw value (`"database"`, `"web_api"`), the display name (`"Database"`, `"Web API"`,
    /// `"ETL/Ingest"`), and a few short aliases (`"db"`, `"web"`, `"api"`, `"ml"`, `"etl"`, `"ingest"`,
    /// `"risk"`, `"conductor"`); case, spaces, `_`, `-` and `/` are ignored. Returns `nil` for anything
    /// else, so callers can fall back to ``infer(serverName:)``.
    public static func parse(_ text: String) -> ServerProfile? {
        let key = String(text.lowercased().unicodeScalars.filter { FleetASCII.isAlphanumeric($0) })
        if key.isEmpty { return nil }
        for profile in allCases {
            if key == normalized(profile.rawValue) || key == normalized(profile.displayName) { return profile }
        }
        return aliases[key]
    }

    /// The profile of a server: a parseable `override` (the feed's `profile` field) wins, otherwise the
    /// profile is inferred from the name.
    public static func resolve(serverName: String, override: String?) -> ServerProfile {
        if let override, let profile = parse(override) { return profile }
        return infer(serverName: serverName)
    }

    private static func normalized(_ s: String) -> String {
        String(s.lowercased().unicodeScalars.filter { FleetASCII.isAlphanumeric($0) })
    }

    private static let aliases: [String: ServerProfile] = [
        "ml": .mlCompute, "mlcompute": .mlCompute, "gpu": .mlCompute,
        "db": .database, "databases": .database,
        "web": .webAPI, "api": .webAPI, "webapi": .webAPI,
        "conductor": .conductor, "conductormanagement": .conductor,
        "etl": .etlIngest, "ingest": .etlIngest, "etlingest": .etlIngest, "dataingest": .etlIngest,
        "risk": .riskAnalytics, "riskanalytics": .riskAnalytics,
        "gen": .generic,
    ]
}

/// ASCII helpers for the profile rules (kept local so this file needs no Foundation).
enum FleetASCII {
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: false
        }
    }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A: true
        default: false
        }
    }
}
