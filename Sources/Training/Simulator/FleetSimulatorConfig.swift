import TFTCore

/// Parameters of a simulated fleet. Everything that shapes the output is here, so a config plus its
/// seed reproduces a data set exactly.
public struct FleetSimulatorConfig: Sendable, Equatable {
    /// Number of servers (names are generated, see ``FleetLayout``). Ignored when ``serverNames`` is set.
    public var servers: Int = 45
    /// Explicit server names; profiles are inferred with ``ServerProfile/infer(serverName:)``.
    public var serverNames: [String]? = nil
    /// Simulated span in days; `nil` streams without end (live demo).
    public var days: Double? = 14
    /// Seconds between ticks (the model's step).
    public var stepSeconds: Int = 300
    /// First tick, Unix seconds (UTC). Default 2025-01-01T00:00:00.
    public var startEpoch: Int64 = 1_735_689_600
    /// Seed of every random choice.
    public var seed: UInt64 = 1
    /// Expected slow-burn incidents per server per day (Poisson rate).
    public var incidentRate: Double = 0.1
    /// Probability that an incident on a database/conductor/ETL server cascades to its dependents.
    public var cascadeProbability: Double = 0.8
    /// Emit records for offline servers (zeros, status `offline`). Live feeds usually omit them.
    public var emitOfflineRecords: Bool = true

    public init(servers: Int = 45, days: Double? = 14, stepSeconds: Int = 300, startEpoch: Int64 = 1_735_689_600,
                seed: UInt64 = 1, incidentRate: Double = 0.1) {
        self.servers = servers
        self.days = days
        self.stepSeconds = stepSeconds
        self.startEpoch = startEpoch
        self.seed = seed
        self.incidentRate = incidentRate
    }

    /// Number of ticks, or `nil` for an endless stream.
    public var totalSteps: Int? {
        guard let days else { return nil }
        return Int((days * 86_400 / Double(stepSeconds)).rounded(.down))
    }

    /// Throws a ``FleetSimulatorError`` describing the first invalid field.
    public func validate() throws {
        if let names = serverNames {
            if names.isEmpty { throw FleetSimulatorError.invalidConfig("serverNames is empty") }
            if Set(names).count != names.count { throw FleetSimulatorError.invalidConfig("serverNames has duplicates") }
        } else if servers < 1 || servers > 100_000 {
            throw FleetSimulatorError.invalidConfig("servers must be 1…100000, got \(servers)")
        }
        if let days, !(days > 0) || days > 3_650 {
            throw FleetSimulatorError.invalidConfig("days must be > 0 and ≤ 3650, got \(days)")
        }
        if stepSeconds < 1 || stepSeconds > 86_400 {
            throw FleetSimulatorError.invalidConfig("step must be 1…86400 seconds, got \(stepSeconds)")
        }
        if !(incidentRate >= 0) || incidentRate > 24 {
            throw FleetSimulatorError.invalidConfig("incident rate must be 0…24 per server-day, got \(incidentRate)")
        }
        if !(0...1).contains(cascadeProbability) {
            throw FleetSimulatorError.invalidConfig("cascade probability must be 0…1, got \(cascadeProbability)")
        }
    }
}

/// Errors of the simulator and its writers.
public enum FleetSimulatorError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case malformedRecord(line: Int, reason: String)
    case cannotWrite(path: String)

    public var description: String {
        switch self {
        case .invalidConfig(let why): "invalid simulator config: \(why)"
        case .malformedRecord(let line, let why): "line \(line): \(why)"
        case .cannotWrite(let path): "cannot create \(path) (does its folder exist and is it writable?)"
        }
    }
}
