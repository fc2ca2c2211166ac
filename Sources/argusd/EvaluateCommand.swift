import Foundation
import TFTCore
import Training

/// `argusd evaluate`: scores a model folder on held-out data next to the last-value and
/// same-time-yesterday baselines, plus incident lead times on simulated data.
enum EvaluateCommand: Command {
    static let name = "evaluate"
    static let summary = "Score a model against held-out data and baselines"
    static let usage = """
    argusd evaluate --model DIR (--data FILE | --simulate [--servers N --days D --seed S]) [--json FILE]
           argusd evaluate --model DIR --origins FILE --forecasts-out FILE
    """
    static let options = [
        OptionSpec("model", value: "DIR", "Model folder, or a folder of them (the newest is used). Required."),
    ] + TrainingData.options(defaultSeed: "2") + [
        OptionSpec("truth", value: "FILE", "Incident ground truth (argusd simulate --incidents-out) for --data, for lead times."),
        OptionSpec("stride", value: "STEPS", default: "12", "Steps between scored forecast windows."),
        OptionSpec("json", value: "FILE", "Also write the report as JSON."),
        OptionSpec("threads", value: "N", default: "2", "Worker threads."),
        OptionSpec("quiet", "No progress lines."),
        OptionSpec("origins", value: "FILE", "Rolling-origin benchmark input (tools/realdata_eval.py): forecast each listed origin instead of scoring."),
        OptionSpec("forecasts-out", value: "FILE", "With --origins: where to write the forecasts (JSON lines)."),
        OptionSpec("widths-only", "With --calibrate: calibrate band widths only, no median shrinkage."),
        OptionSpec("calibrate", value: "STEPS", "With --origins: apply the daemon's online band calibration, ticking every step from STEPS before the first origin."),
        OptionSpec("warm-model", value: "DIR", "With --calibrate: the model that serves the warm-up ticks before the first origin (the daemon's model before a fine-tune); --model takes over at the first origin with the calibration state, as a hot swap does."),
        OptionSpec("raw-out", value: "DIR", "With --calibrate: also write every tick's raw forecast of the target (float32, quantile-major) to DIR, for tools/calibration_lab.py."),
    ]
    static let discussion = """
    Per target: P50 MAE and quantile loss at 30 min (step 6) and 8 h (step 96), coverage of the 10–90 %
    band (nominal 80 %), next to two baselines: the last observed value and the value 24 h earlier.
    With simulated data (or --truth) it reports, for every incident, how long before the real critical
    crossing a forecast's P50 / P90 first reached the critical level. Use a different --seed than the
    model was trained on (default 2) so the data is held out.

    With --origins, it forecasts the listed origins of each series through the daemon's tick code
    (window of the last encoder steps → features → forward → forecasts) and writes one JSON line per
    origin; tools/realdata_eval.py scores them next to statistical baselines on real data.
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
        if let origins = o.string("origins") {
            let warmup = o.string("calibrate") == nil ? nil : try o.int("calibrate", default: 0, in: 0...1_000_000)
            var warmModel: LoadedModel?
            if let path = o.string("warm-model") {
                guard warmup != nil else { throw TrainingError.invalidInput("--warm-model needs --calibrate STEPS (the warm-up it serves)") }
                warmModel = try ModelFolder.load(URL(fileURLWithPath: path))
                warmModel?.model.threads = loaded.model.threads
            }
            return try forecastOrigins(path: origins, out: try o.required("forecasts-out"), loaded: loaded, calibrationWarmup: warmup,
                                       shrinkMedian: !o.flag("widths-only"), warmModel: warmModel, rawOut: o.string("raw-out"), quiet: quiet)
        }
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

    /// `--origins`: forecasts every origin of every series and writes them as JSON lines.
    static func forecastOrigins(path: String, out: String, loaded: LoadedModel, calibrationWarmup: Int?, shrinkMedian: Bool,
                                warmModel: LoadedModel? = nil, rawOut: String? = nil, quiet: Bool) throws -> Int32 {
        let series: [OriginSeries]
        do {
            series = try JSONDecoder().decode([OriginSeries].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch { throw TrainingError.io("cannot read origins \(path): \(error)") }
        let forecaster = OriginForecaster(model: loaded.model, builder: loaded.builder, modelName: loaded.url.lastPathComponent)
        let warmForecaster = warmModel.map { OriginForecaster(model: $0.model, builder: $0.builder, modelName: $0.url.lastPathComponent) }
        let encoder = JSONEncoder()
        var lines = Data()
        let t0 = Date()
        var rawIndex: [[String: String]] = []
        for (n, s) in series.enumerated() {
            // Raw ticks of this series: one record per tick, its origin step then quantiles × horizon floats.
            var raw = Data()
            let forecasts = try calibrationWarmup.map {
                try forecaster.calibratedForecasts(s, warmup: $0, shrinkMedian: shrinkMedian, warmModel: warmForecaster, raw: rawOut == nil ? nil : { step, values in
                    var record = [Float(step)] + values.flatMap { $0 }
                    raw.append(Data(bytes: &record, count: record.count * MemoryLayout<Float>.size))
                })
            } ?? forecaster.forecasts(s)
            if let dir = rawOut {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try raw.write(to: URL(fileURLWithPath: dir).appendingPathComponent("\(n).f32"))
                rawIndex.append(["series": s.name, "file": "\(n).f32"])
            }
            for f in forecasts {
                lines.append(try encoder.encode(f))
                lines.append(0x0A)
            }
            if !quiet { Console.error(String(format: "%@: %d origins (%.1f s)", s.name, s.origins.count, Date().timeIntervalSince(t0))) }
        }
        try lines.write(to: URL(fileURLWithPath: out), options: .atomic)
        if let dir = rawOut {
            try JSONEncoder().encode(rawIndex).write(to: URL(fileURLWithPath: dir).appendingPathComponent("index.json"))
        }
        return 0
    }
}
