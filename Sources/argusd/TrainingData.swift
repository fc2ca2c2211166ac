import Foundation
import TFTCore
import Training

/// Data options shared by `train` and `evaluate`: a feed file or a freshly simulated fleet.
enum TrainingData {
    static func options(defaultSeed: String) -> [OptionSpec] {
        [
            OptionSpec("data", value: "FILE", "Feed records to use (JSONL or CSV, several samples per step are averaged)."),
            OptionSpec("format", value: "jsonl|csv", "Format of --data (default: from the extension)."),
            OptionSpec("on-bad-line", value: "skip|stop", default: "skip", "Malformed lines in --data: report and skip, or stop."),
            OptionSpec("simulate", "Use a freshly simulated fleet instead of --data."),
            OptionSpec("servers", value: "N", default: "45", "Simulated servers."),
            OptionSpec("days", value: "D", default: "14", "Simulated days."),
            OptionSpec("seed", value: "N", default: defaultSeed, "Simulator seed."),
            OptionSpec("incident-rate", value: "R", default: "0.1", "Simulated slow-burn incidents per server-day."),
        ]
    }

    struct Loaded {
        var series: [ServerSeries]
        var description: String
        var truth: FleetGroundTruth?
    }

    static func load(_ o: ParsedOptions, command: String, spec: FeatureSpec, defaultSeed: UInt64, quiet: Bool) throws -> Loaded {
        let hasData = o.string("data") != nil
        guard hasData != o.flag("simulate") else {
            throw CLIError.missingRequired("data FILE or --simulate (exactly one)", command: command)
        }
        if o.flag("simulate") {
            var config = FleetSimulatorConfig()
            config.servers = try o.int("servers", default: 45, in: 1...10_000)
            config.days = try o.double("days", default: 14, in: 0.01...3_650)
            config.seed = try o.uint64("seed", default: defaultSeed)
            config.incidentRate = try o.double("incident-rate", default: 0.1, in: 0...24)
            config.stepSeconds = spec.stepSeconds
            let t0 = Date()
            let (series, truth) = try FleetDataset.simulate(config, spec: spec)
            if !quiet {
                Console.error(String(format: "simulated %d servers × %.1f days (seed %llu, %d incidents) in %.1f s",
                                     config.servers, config.days ?? 0, config.seed, truth.incidents.count, Date().timeIntervalSince(t0)))
            }
            let desc = "simulated: servers=\(config.servers) days=\(config.days ?? 0) seed=\(config.seed) incident_rate=\(config.incidentRate)"
            return Loaded(series: series, description: desc, truth: truth)
        }
        let path = try o.required("data")
        var format: FleetFileFormat? = nil
        if let f = o.string("format") {
            guard let parsed = FleetFileFormat(rawValue: f.lowercased()) else {
                throw CLIError.invalidValue(option: "format", command: command, value: f, expected: "jsonl or csv")
            }
            format = parsed
        }
        let policyText = o.string("on-bad-line") ?? "skip"
        guard let policy = BadLinePolicy(rawValue: policyText) else {
            throw CLIError.invalidValue(option: "on-bad-line", command: command, value: policyText, expected: "skip or stop")
        }
        var acc = SeriesAccumulator(spec: spec)
        let result = try FeedFileReader.read(path: path, into: &acc, policy: policy, format: format)
        if !result.badLines.isEmpty {
            for bad in result.badLines.prefix(20) { Console.error("argusd \(command): \(path): \(bad) (skipped)") }
            if result.badLines.count > 20 { Console.error("argusd \(command): … \(result.badLines.count - 20) more malformed lines skipped") }
            Console.error("argusd \(command): \(result.badLines.count) malformed line(s) skipped, \(result.records) records read")
        }
        guard result.records > 0 else { throw TrainingError.insufficientData("\(path) has no readable records") }
        let series = acc.build()
        if !quiet { Console.error("read \(result.records) records of \(acc.serverCount) servers from \(path) (\(series.count) series on the \(spec.stepSeconds) s grid)") }
        return Loaded(series: series, description: "file: \(path) (\(result.records) records, \(result.badLines.count) bad lines skipped)", truth: nil)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
