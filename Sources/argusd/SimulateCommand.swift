import Foundation
import TFTCore
import Training

/// `argusd simulate`: writes a simulated fleet's feed (JSONL or CSV) and, optionally, its incident
/// ground truth.
enum SimulateCommand: Command {
    static let name = "simulate"
    static let summary = "Generate a simulated fleet's metrics feed and its incident ground truth"
    static let usage = "argusd simulate --out FILE [--servers 45] [--days 14] [--seed 1] [--format jsonl|csv] [options]"
    static let options = [
        OptionSpec("out", value: "FILE", "Where to write records; '-' for standard output. Required."),
        OptionSpec("servers", value: "N", default: "45", "Number of servers (named ppml0001, ppdb001, ppweb001, ...)."),
        OptionSpec("days", value: "D", default: "14", "Simulated days (fractions allowed, e.g. 0.5)."),
        OptionSpec("seed", value: "N", default: "1", "Random seed; the same seed gives byte-identical output."),
        OptionSpec("format", value: "jsonl|csv", "Output format (default: from the file extension, else jsonl)."),
        OptionSpec("step", value: "SECONDS", default: "300", "Seconds between records of a server."),
        OptionSpec("start", value: "TIME", default: "2025-01-01T00:00:00", "First timestamp (ISO 8601, UTC)."),
        OptionSpec("incidents-out", value: "FILE", "Write incident and cascade ground truth (JSON) here."),
        OptionSpec("incident-rate", value: "R", default: "0.1", "Slow-burn incidents per server per day."),
        OptionSpec("omit-offline", "Leave out records of offline servers (as a live feed would)."),
        OptionSpec("quiet", "No progress lines on standard error."),
    ]
    static let discussion = """
    Each record carries the 16 feed fields of POST /feed/data plus 'status' and 'profile'.
    Incidents (memory leak, disk filling, iowait climb, CPU saturation) ramp for hours before they
    cross their profile's critical level; database/conductor/ETL incidents cascade to dependent
    servers. The ground truth lists each incident's ramp start, warning and critical crossings and
    end, and each cascade. Details: docs/simulator.md.
    """
    static let examples = [
        "argusd simulate --servers 45 --days 14 --seed 1 --out fleet.jsonl --incidents-out truth.json",
        "argusd simulate --days 30 --out fleet.csv",
        "argusd simulate --servers 5 --days 0.25 --out - | head",
    ]

    static func run(_ options: ParsedOptions) throws -> Int32 {
        let out = try options.required("out")
        let format: FleetFileFormat
        if let text = options.string("format") {
            guard let f = FleetFileFormat(rawValue: text.lowercased()) else {
                throw CLIError.invalidValue(option: "format", command: name, value: text, expected: "jsonl or csv")
            }
            format = f
        } else {
            format = FleetFileFormat.infer(fromPath: out) ?? .jsonl
        }
        var config = FleetSimulatorConfig()
        config.servers = try options.int("servers", default: 45, in: 1...100_000)
        config.days = try options.double("days", default: 14, in: 0.001...3_650)
        config.seed = try options.uint64("seed", default: 1)
        config.stepSeconds = try options.int("step", default: 300, in: 1...86_400)
        config.incidentRate = try options.double("incident-rate", default: 0.1, in: 0...24)
        config.emitOfflineRecords = !options.flag("omit-offline")
        if let text = options.string("start") {
            guard let epoch = FleetTimestamp.parse(text) else {
                throw CLIError.invalidValue(option: "start", command: name, value: text,
                                            expected: "an ISO 8601 time such as 2025-01-01T00:00:00")
            }
            config.startEpoch = epoch
        }
        let quiet = options.flag("quiet")
        let truthPath = options.string("incidents-out")

        var sim = try FleetSimulator(config: config)
        let total = sim.totalSteps ?? 0
        guard total > 0 else {
            throw CLIError.invalidValue(option: "days", command: name, value: String(config.days ?? 0),
                                        expected: "at least one step (days × 86400 ≥ step)")
        }
        let writer = try FleetRecordWriter(path: out, format: format)
        let started = Date()
        if !quiet {
            Console.error("simulate: \(sim.servers.count) servers × \(pretty(config.days ?? 0)) days at \(config.stepSeconds) s "
                + "= \(total) steps, seed \(config.seed) → \(out) (\(format.rawValue))")
        }
        var lastReported = -1
        while let tick = sim.next() {
            try writer.write(tick.records)
            let tenth = (tick.index + 1) * 10 / total
            if !quiet, tenth != lastReported, tenth > 0, tenth < 10 {
                lastReported = tenth
                Console.error("  \(tenth * 10)%  \(tick.timestamp)  \(writer.recordsWritten) records")
            }
        }
        try writer.close()
        let truth = sim.groundTruth
        if let truthPath {
            try truth.jsonData().write(to: URL(fileURLWithPath: truthPath), options: .atomic)
        }
        if !quiet {
            let seconds = Date().timeIntervalSince(started)
            let mb = Double(writer.bytesWritten) / 1_048_576
            let crossed = truth.incidents.filter { $0.criticalAt != nil }.count
            Console.error("wrote \(writer.recordsWritten) records (\(pretty(mb)) MB) in \(pretty(seconds)) s; "
                + "\(truth.incidents.count) incidents (\(crossed) crossed critical), \(truth.cascades.count) cascade edges")
            if let truthPath {
                Console.error("ground truth → \(truthPath)")
            } else {
                Console.error("ground truth not written (add --incidents-out FILE to score forecasts)")
            }
        }
        return 0
    }

    private static func pretty(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(format: "%.2f", x)
    }
}
