import Foundation
import TFTCore
import Training

/// `argusd evaluate`: scores a model folder on held-out data next to the last-value and
/// same-time-yesterday baselines, plus incident lead times on simulated data.
enum EvaluateCommand: Command {
    static let name = "evaluate"
    static let summary = "Score a model against held-out data and baselines"
    static let usage = "argusd evaluate --model DIR (--data FILE | --simulate [--servers N --days D --seed S]) [--json FILE]"
    static let options = [
        OptionSpec("model", value: "DIR", "Model folder, or a folder of them (the newest is used). Required."),
    ] + TrainingData.options(defaultSeed: "2") + [
        OptionSpec("truth", value: "FILE", "Incident ground truth (argusd simulate --incidents-out) for --data, for lead times."),
        OptionSpec("stride", value: "STEPS", default: "12", "Steps between scored forecast windows."),
        OptionSpec("json", value: "FILE", "Also write the report as JSON."),
        OptionSpec("threads", value: "N", default: "2", "Worker threads."),
        OptionSpec("quiet", "No progress lines."),
    ]
    static let discussion = """
    Per target: P50 MAE and quantile loss at 30 min (step 6) and 8 h (step 96), coverage of the 10–90 %
    band (nominal 80 %), next to two baselines: the last observed value and the value 24 h earlier.
    With simulated data (or --truth) it reports, for every incident, how long before the real critical
    crossing a forecast's P50 / P90 first reached the critical level. Use a different --seed than the
    model was trained on (default 2) so the data is held out.
    """
    static let examples = [
        "argusd evaluate --model models/ --simulate --servers 45 --days 7 --seed 2",
        "argusd evaluate --model models/tft_model_20250101_000000 --data fleet.jsonl --truth truth.json",
    ]

    static func run(_ o: ParsedOptions) throws -> Int32 {
        let quiet = o.flag("quiet")
        var url = URL(fileURLWithPath: try o.required("model"))
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("manifest.json").path), let newest = ModelFolder.newest(in: url) {
            url = newest
        }
        let loaded = try ModelFolder.load(url)
        loaded.model.threads = try o.int("threads", default: 2, in: 1...64)
        if !quiet { Console.error("model \(url.lastPathComponent): \(loaded.model.parameterCount) parameters, manifest verified") }
        var data = try TrainingData.load(o, command: name, spec: loaded.spec, defaultSeed: 2, quiet: quiet)
        if let truthPath = o.string("truth") {
            do {
                data.truth = try JSONDecoder().decode(FleetGroundTruth.self, from: Data(contentsOf: URL(fileURLWithPath: truthPath)))
            } catch { throw TrainingError.io("cannot read ground truth \(truthPath): \(error)") }
        }
        var evaluator = Evaluator(model: loaded.model, builder: loaded.builder)
        evaluator.stride = try o.int("stride", default: 12, in: 1...100_000)
        let t0 = Date()
        let report = try evaluator.evaluate(series: data.series, truth: data.truth)
        print(report.table(), terminator: "")
        if !quiet { Console.error(String(format: "evaluated in %.1f s", Date().timeIntervalSince(t0))) }
        if let path = o.string("json") {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            try e.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return 0
    }
}
