import Dispatch
import Foundation
import TFTCore
import Training

/// `argusd train`: trains a TFT on a feed file or a simulated fleet and writes a model folder atomically.
enum TrainCommand: Command {
    static let name = "train"
    static let summary = "Train a model on a data file or a simulated fleet"
    static let usage = "argusd train (--data FILE | --simulate [--servers N --days D --seed S]) --epochs N --out models/ [--from MODEL] [options]"
    static let options = TrainingData.options(defaultSeed: "1") + [
        OptionSpec("epochs", value: "N", "Epochs to train (with --from: N more epochs). Required."),
        OptionSpec("out", value: "DIR", "Folder that receives tft_model_YYYYMMDD_HHMMSS/. Required."),
        OptionSpec("from", value: "MODEL", "Warm-start from this model folder (its config and normalizers are kept)."),
        OptionSpec("batch-size", value: "N", default: "64", "Windows per step."),
        OptionSpec("lr", value: "X", default: "0.003", "Initial learning rate (Adam)."),
        OptionSpec("weight-decay", value: "X", default: "0", "AdamW decoupled weight decay."),
        OptionSpec("clip", value: "X", default: "1.0", "Global gradient-norm clip."),
        OptionSpec("hidden", value: "N", default: "32", "hidden_size (new models)."),
        OptionSpec("heads", value: "N", default: "4", "attention_head_size (new models)."),
        OptionSpec("hidden-continuous", value: "N", default: "8", "hidden_continuous_size (new models)."),
        OptionSpec("dropout", value: "X", default: "0.1", "Dropout (new models)."),
        OptionSpec("encoder", value: "STEPS", default: "288", "max_encoder_length (new models)."),
        OptionSpec("horizon", value: "STEPS", default: "96", "max_prediction_length (new models)."),
        OptionSpec("max-batches", value: "N", "At most N batches per epoch (a fresh random subset each epoch)."),
        OptionSpec("val-fraction", value: "X", default: "0.2", "Latest share of the time span used for validation."),
        OptionSpec("patience", value: "N", default: "3", "Early stopping: epochs without validation improvement."),
        OptionSpec("max-minutes", value: "M", "Stop after M minutes of training (the best epoch is kept)."),
        OptionSpec("train-seed", value: "N", default: "42", "Seed of weights, shuffling and dropout."),
        OptionSpec("threads", value: "N", default: "2", "Worker threads."),
        OptionSpec("checkpoint-dir", value: "DIR", "Write weights + optimizer state here after every epoch."),
        OptionSpec("quiet", "No progress line."),
    ]
    static let discussion = """
    Inputs, normalisation (deviations from the recent level, robust per-window scale), windows, the time
    split, the schedule and the model folder are described in docs/training.md. Progress (epoch, step,
    loss, validation loss, samples/s, ETA) goes to stderr; Ctrl-C cancels within one step and leaves no
    folder. The folder appears only when training succeeded (temporary folder, then rename).
    """
    static let examples = [
        "argusd train --simulate --servers 45 --days 14 --seed 1 --epochs 10 --out models/",
        "argusd train --data fleet.jsonl --epochs 5 --out models/ --from models/tft_model_20250101_000000",
    ]

    static func run(_ o: ParsedOptions) throws -> Int32 {
        let quiet = o.flag("quiet")
        let epochs = try o.int("epochs", default: -1, in: -1...100_000)
        guard epochs >= 1 else { throw CLIError.missingRequired("epochs N (≥ 1)", command: name) }
        let out = URL(fileURLWithPath: try o.required("out"))
        var spec = FeatureSpec.standard
        let from = o.string("from").map { URL(fileURLWithPath: $0) }
        if let from { spec = try ModelFolder.load(from).spec }
        let data = try TrainingData.load(o, command: name, spec: spec, defaultSeed: 1, quiet: quiet)
        var run = TrainingRun(series: data.series, dataSource: data.description)
        run.spec = spec
        run.from = from
        run.shape.hiddenSize = try o.int("hidden", default: 32, in: 1...1024)
        run.shape.attentionHeads = try o.int("heads", default: 4, in: 1...64)
        run.shape.hiddenContinuousSize = try o.int("hidden-continuous", default: 8, in: 1...1024)
        run.shape.dropout = Float(try o.double("dropout", default: 0.1, in: 0...0.9))
        run.shape.encoderLength = try o.int("encoder", default: 288, in: 1...10_000)
        run.shape.horizon = try o.int("horizon", default: 96, in: 1...10_000)
        run.options.epochs = epochs
        run.options.batchSize = try o.int("batch-size", default: 64, in: 1...4096)
        run.options.learningRate = Float(try o.double("lr", default: 0.003, in: 1e-7...1))
        run.options.weightDecay = Float(try o.double("weight-decay", default: 0, in: 0...1))
        run.options.gradientClip = Float(try o.double("clip", default: 1, in: 1e-6...1e6))
        if o.string("max-batches") != nil { run.options.maxBatchesPerEpoch = try o.int("max-batches", default: 0, in: 1...10_000_000) }
        run.windows.validationFraction = try o.double("val-fraction", default: 0.2, in: 0.01...0.9)
        run.options.earlyStoppingPatience = try o.int("patience", default: 3, in: 1...1000)
        if o.string("max-minutes") != nil { run.options.timeBudgetSeconds = 60 * (try o.double("max-minutes", default: 0, in: 0.01...100_000)) }
        run.options.seed = try o.uint64("train-seed", default: 42)
        run.options.threads = try o.int("threads", default: 2, in: 1...64)
        run.options.checkpointDirectory = o.string("checkpoint-dir").map { URL(fileURLWithPath: $0) }

        // Ctrl-C / SIGTERM cancel cooperatively: the run stops within one step and writes nothing.
        let token = CancellationToken()
        signal(SIGINT, SIG_IGN); signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { token.cancel() }
            s.resume()
            return s
        }
        defer { sources.forEach { $0.cancel() } }

        let (_, _, dataset, _) = try run.prepare()
        if !quiet {
            Console.error(String(format: "dataset: %d series, %d train / %d validation windows (views), cut at %@, %.1f MB",
                                 dataset.series.count, dataset.trainWindows.count, dataset.validationWindows.count,
                                 FleetTimestamp.format(dataset.cutoffEpoch), Double(dataset.memoryBytes) / 1e6))
        }
        let tty = isatty(2) != 0
        var lastPrint = Date.distantPast
        let progress: (TrainingProgress) -> Void = { p in
            guard !quiet else { return }
            let now = Date()
            let end = p.phase == .epochEnd
            guard end || now.timeIntervalSince(lastPrint) >= (tty ? 0.5 : 10) else { return }
            lastPrint = now
            let val = p.validationLoss.map { String(format: "%.4f", $0) } ?? "—"
            let line = String(format: "epoch %d/%d  step %d/%d  loss %.4f  val %@  lr %.2g  %.0f samples/s  ETA %@",
                              p.epoch, p.epochs, p.step, p.stepsPerEpoch, p.loss, val, Double(p.learningRate),
                              p.samplesPerSecond, TrainingData.duration(p.etaSeconds))
            if tty { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (end ? "\n" : "")).utf8)) }
            else { Console.error(line) }
        }
        do {
            let (folder, result, _) = try run.run(outDirectory: out, progress: progress, cancel: token)
            if !quiet {
                Console.error(String(format: "%@; best epoch %d, val loss %.4f (start %.4f); %.0f samples/s, data pipeline %.1f %% of step time; %@",
                                     result.stopReason, result.bestEpoch, result.bestValidationLoss, result.initialValidationLoss,
                                     result.samplesPerSecond, 100 * result.pipelineShare, TrainingData.duration(result.seconds)))
            }
            print(folder.path)
            return 0
        } catch TrainingError.cancelled {
            if tty && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
            Console.error("argusd train: cancelled; no model folder was written")
            return 130
        }
    }
}
