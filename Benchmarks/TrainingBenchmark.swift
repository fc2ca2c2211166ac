import Foundation
import TFTCore
import Training

/// `Benchmarks training`: throughput of the real Trainer + data pipeline at config A's shape (hidden 32,
/// 4 heads, hidden_continuous 8, encoder 288, horizon 96, batch 64) on a simulated 45-server, 30-day
/// fleet; the data pipeline's share of the step time; the dataset's memory; and pytorch-forecasting's
/// training throughput measured in the same run (`Benchmarks/peer/ptf_tft_bench.py`).
enum TrainingBenchmark {
    static func run(_ args: [String]) throws {
        let quick = args.contains("--quick")
        let withPeer = !args.contains("--no-peer")
        let steps = args.firstIndex(of: "--steps").flatMap { Int(args[$0 + 1]) } ?? (quick ? 10 : 40)
        let days = args.firstIndex(of: "--days").flatMap { Double(args[$0 + 1]) } ?? 30
        // `--config-a`: the closest the feed can come to config A's inputs — 10 metrics + 4 known features
        // = 14 continuous encoder inputs, 4 known decoder inputs, one target (so the static inputs are the
        // profile plus the target's centre and scale); the encoder also sees `status`. The default is the
        // daemon's own feature set (6 targets, 15 + status encoder inputs, 6 known).
        let configA = args.contains("--config-a")
        var spec = FeatureSpec.standard
        if configA {
            spec.metrics.append(MetricFeature(name: "front_close_wait", source: "front_close_wait", scaleFloor: 1, reference: 20))
            spec.known = ["hour_sin", "hour_cos", "dow_sin", "dow_cos"]
            spec.targets = ["cpu_pct"]
        }
        print("Training benchmark: 45 servers × \(days) days simulated, \(configA ? "config A's inputs (14 encoder reals, 4 known, 1 target)" : "config A shape with Argus's features"), batch 64, \(steps) steps")

        // Dataset and its memory.
        let rss0 = Self.procKiB("VmRSS:")
        let t0 = Date()
        var config = FleetSimulatorConfig(servers: 45, days: days, seed: 1)
        config.stepSeconds = spec.stepSeconds
        let (series, _) = try FleetDataset.simulate(config, spec: spec)
        let simSeconds = Date().timeIntervalSince(t0)
        let t1 = Date()
        let dataset = try FleetDataset(spec: spec, series: series, options: WindowOptions())
        let windowSeconds = Date().timeIntervalSince(t1)
        let rss1 = Self.procKiB("VmRSS:")
        print(String(format: "dataset: %d steps, %d train + %d validation windows; simulate+grid %.1f s, windows %.2f s",
                     dataset.totalSteps, dataset.trainWindows.count, dataset.validationWindows.count, simSeconds, windowSeconds))
        print(String(format: "  memory: series %.1f MB + window views %.1f MB = %.1f MB (RSS grew %.1f MB incl. simulator scratch); materialised windows would be %.1f GB",
                     Double(dataset.seriesBytes) / 1e6, Double(dataset.windowBytes) / 1e6, Double(dataset.memoryBytes) / 1e6,
                     Double(rss1 - rss0) / 1024,
                     Double(dataset.trainWindows.count) * Double(384 * spec.reals.count * 4) / 1e9))

        // Real Trainer: one epoch of `steps` batches (+ a small validation).
        let modelConfig = spec.makeConfig()
        let model = try TFTModel(config: modelConfig, seed: 1)
        var options = TrainingOptions()
        options.epochs = 1
        options.maxBatchesPerEpoch = steps
        options.maxValidationWindows = 64
        options.threads = Int(ProcessInfo.processInfo.environment["ARGUS_THREADS"] ?? "") ?? 2
        let trainer = try Trainer(model: model, dataset: dataset, options: options)
        let result = try trainer.run()
        print(String(format: "argus Trainer: %.0f samples/s (%d samples, %.1f ms/step); data pipeline %.2f ms/batch = %.1f %% of step time; %d parameters",
                     result.samplesPerSecond, result.samples, 1e3 * Double(result.samples) / result.samplesPerSecond / Double(steps),
                     1e3 * result.pipelineSeconds / Double(steps), 100 * result.pipelineShare, model.parameterCount))

        guard withPeer else { return }
        let python = ProcessInfo.processInfo.environment["ARGUS_PEER_PYTHON"] ?? "/work/venv/ptf/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            print("peer: skipped — no Python with pytorch-forecasting at \(python) (set ARGUS_PEER_PYTHON)")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        var script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peer/ptf_tft_bench.py").path
        if !FileManager.default.fileExists(atPath: script) { script = "Benchmarks/peer/ptf_tft_bench.py" }
        p.arguments = [script, "--train-steps", quick ? "8" : "25", "--forward-runs", "1", "--forward-warmup", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }) ?? ""
        guard let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let peer = (json["train_samples_per_s"] as? Double) ?? (json["train_samples_per_s"] as? Int).map(Double.init) else {
            print("peer: failed (exit \(p.terminationStatus)); output: \(line.prefix(200))")
            return
        }
        print(String(format: "pytorch-forecasting (plain training loop, pre-collated batches, config A): %.0f samples/s", peer))
        print(String(format: "ratio: Argus Trainer + data pipeline is %.1f× pytorch-forecasting", result.samplesPerSecond / peer))
    }

    private static func procKiB(_ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
