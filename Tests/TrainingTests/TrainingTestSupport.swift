import Foundation
import TFTCore
@testable import Training

/// Tiny fixtures: a small simulated fleet and a small model so the suite stays fast in debug builds.
enum TrainingFixtures {
    static let series: [ServerSeries] = {
        var config = FleetSimulatorConfig(servers: 7, days: 2, seed: 11, incidentRate: 0.5)
        config.stepSeconds = 300
        return try! FleetDataset.simulate(config, spec: spec).series
    }()

    static var spec: FeatureSpec {
        var s = FeatureSpec.standard
        s.minEncoderLength = 12
        return s
    }

    static func run(epochs: Int = 1, seed: UInt64 = 7) -> TrainingRun {
        var run = TrainingRun(series: series, dataSource: "test fleet")
        run.spec = spec
        run.shape.hiddenSize = 8
        run.shape.attentionHeads = 2
        run.shape.hiddenContinuousSize = 4
        run.shape.encoderLength = 48
        run.shape.horizon = 12
        run.options.epochs = epochs
        run.options.batchSize = 16
        run.options.maxBatchesPerEpoch = 3
        run.options.maxValidationWindows = 32
        run.options.seed = seed
        run.windows.validationStride = 6
        return run
    }

    static func tempDir(_ name: String = #function) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("argus-training-tests-\(getpid())-\(name.filter { $0.isLetter })-\(UInt32.random(in: 0...UInt32.max))")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func contents(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }
}
