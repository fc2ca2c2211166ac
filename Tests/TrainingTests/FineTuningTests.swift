import Foundation
import Testing
import TFTCore
@testable import Training

/// Fine-tuning safeguards (docs/training.md, "Fine-tuning on real data"): the starting weights compete with
/// every epoch, small validation periods use every start step, and warm starts refit the shrinkage with
/// every horizon step relative to persistence and refit the band width.
@Suite(.serialized) struct FineTuningTests {
    /// The guard must not depend on floating-point luck: a learning rate of 10⁴ makes Adam's first step move every
    /// weight with a gradient by about 10⁴ (its step is lr · m̂/√v̂ ≈ lr · sign(g), whatever the gradient's scale), so
    /// no epoch can come near the parent's validation loss on any CPU, thread split or code path. Whether those
    /// epochs end huge or NaN depends on the CPU's BLAS kernels (NaN with OPENBLAS_CORETYPE=Haswell or Sandybridge,
    /// ~10¹⁰ on AVX-512); the test holds either way.
    @Test func startingWeightsAreKeptWhenNoEpochImprovesOnThem() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let (base, _, _) = try TrainingFixtures.run(epochs: 2).run(outDirectory: out)
        let parent = try ModelFolder.load(base).model.parameters.values
        var run = TrainingFixtures.run(epochs: 2)
        run.from = base
        run.options.learningRate = 1e4
        run.options.fitPersistenceBlend = false
        let (folder, result, _) = try run.run(outDirectory: out)
        #expect(result.epochs.count == 2)
        #expect(result.epochs.allSatisfy { !($0.validationLoss < result.initialValidationLoss) },
                "\(result.epochs.map(\.validationLoss)) vs \(result.initialValidationLoss)")
        #expect(result.bestEpoch == 0 && result.stopReason.contains("starting weights"))
        #expect(result.bestValidationLoss == result.initialValidationLoss)
        #expect(try ModelFolder.load(folder).model.parameters.values == parent)
        // Without the guard the last epoch's weights would ship. Read raw: they may be NaN, which the verified
        // loader refuses.
        run.options.keepStartingWeightsIfBest = false
        let (other, _, _) = try run.run(outDirectory: out)
        func weights(_ folder: URL) throws -> [String: NamedTensor] {
            try SafeTensors.read(contentsOf: folder.appendingPathComponent("model.safetensors")).tensors
        }
        #expect(try weights(folder) == weights(base))
        #expect(try weights(other) != weights(base))
    }

    /// A run that diverges (every epoch's validation loss NaN, whatever the CPU: an infinite learning rate turns
    /// every weight with a gradient into ±inf or NaN) still ships: the starting weights are kept and the folder,
    /// NaN losses included, is written and loads back.
    @Test func divergedRunKeepsAndSavesTheStartingWeights() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let (base, _, _) = try TrainingFixtures.run(epochs: 1).run(outDirectory: out)
        let parent = try ModelFolder.load(base).model.parameters.values
        var run = TrainingFixtures.run(epochs: 2)
        run.from = base
        run.options.learningRate = .infinity
        run.options.fitPersistenceBlend = false
        let (folder, result, _) = try run.run(outDirectory: out)
        #expect(result.epochs.count == 2 && result.epochs.allSatisfy { $0.validationLoss.isNaN }, "\(result.epochs.map(\.validationLoss))")
        #expect(result.bestEpoch == 0 && result.bestValidationLoss == result.initialValidationLoss)
        let loaded = try ModelFolder.load(folder)
        #expect(loaded.model.parameters.values == parent)
        let info = try #require(loaded.info, "training_info.json of a diverged run does not decode")
        #expect(info.epochs.count == 2 && info.epochs.allSatisfy { $0.validationLoss.isNaN })
    }

    @Test func smallValidationPeriodsUseEveryStartStep() throws {
        let spec = TrainingFixtures.spec
        var o = WindowOptions(maxEncoderLength: 48, minEncoderLength: 12, horizon: 12, validationStride: 6)
        let dense = try FleetDataset(spec: spec, series: TrainingFixtures.series, options: o)
        o.denseValidationBelow = 0
        let sparse = try FleetDataset(spec: spec, series: TrainingFixtures.series, options: o)
        #expect(sparse.validationWindows.count < 256)
        #expect(dense.validationWindows.count > 5 * sparse.validationWindows.count)
        #expect(Set(sparse.validationWindows.map { "\($0.series)/\($0.start)" }).isSubset(of: Set(dense.validationWindows.map { "\($0.series)/\($0.start)" })))
        #expect(dense.trainWindows == sparse.trainWindows)
        // Enough windows at the configured stride: unchanged.
        o.denseValidationBelow = 1
        #expect(try FleetDataset(spec: spec, series: TrainingFixtures.series, options: o).validationWindows == sparse.validationWindows)
    }

    @Test func bandScaleFoldMultipliesEveryOffsetFromTheMedian() throws {
        let (model, builder, dataset) = try PersistenceAnchorTests.fixture()
        model.initialise(seed: 5)
        let windows = Array(dataset.validationWindows.prefix(3))
        let before = try PersistenceAnchorTests.forecast(model, builder, dataset, windows)
        let nT = model.config.targets.count
        let scale = (0..<nT).map { 0.5 + Double($0) * 0.5 }   // 0.5 … 3
        PersistenceOutput.foldBandScale(model, scale: scale)
        let after = try PersistenceAnchorTests.forecast(model, builder, dataset, windows)
        let Td = model.config.maxPredictionLength, Q = model.config.quantiles.count
        for i in before.p50Offset.indices { #expect(abs(after.p50Offset[i] - before.p50Offset[i]) <= 1e-3 * max(1, abs(before.p50Offset[i]))) }
        for i in before.spread.indices {
            let t = (i / (Q * Td)) % nT
            #expect(abs(after.spread[i] - Float(scale[t]) * before.spread[i]) <= 2e-3 * max(1, abs(before.spread[i])))
        }
    }

    @Test func fittedBandScaleNeverRaisesTheValidationQuantileLoss() throws {
        let (model, builder, dataset) = try PersistenceAnchorTests.fixture()
        model.initialise(seed: 9)
        let windows = Array(dataset.validationWindows.prefix(24))
        for relative in [false, true] {
            let blend = try PersistenceOutput.fitAndFold(model: model, builder: builder, series: dataset.series, windows: windows,
                                                         encoderLength: model.config.maxEncoderLength, batchSize: 8, perStepRelative: relative)
            #expect(blend.allSatisfy { (0...1).contains($0.alpha) })
            let fits = try PersistenceOutput.fitAndFoldBandScale(model: model, builder: builder, series: dataset.series, windows: windows,
                                                                 encoderLength: model.config.maxEncoderLength, batchSize: 8,
                                                                 fits: blend, perStepRelative: relative)
            for f in fits {
                let s = try #require(f.bandScale)
                #expect(PersistenceOutput.bandScaleGrid.contains(s))
                if !relative { #expect(try #require(f.quantileLossAfter) <= #require(f.quantileLossBefore) + 1e-9) }
                #expect((0...1).contains(try #require(f.coverageAfter)))
            }
        }
    }

    /// A target the last value predicts exactly (swap at 0 throughout, as on most real servers and the /proc
    /// recordings) takes the floor weight instead of dominating the mean: before, a fine-tune on real /proc data
    /// weighed swap 5.96 and pushed the five targets with something to learn to the floor, 0.1.
    @Test func exactlyPersistentTargetDoesNotDominateTheLossWeights() throws {
        var run = TrainingFixtures.run()
        let t = try #require(run.spec.targets.firstIndex(of: "swap_used_pct"))
        let swap = run.spec.targetMetricIndices[t]
        run.series = run.series.map { s in
            var s = s
            for i in 0..<s.count { s.values[swap * s.count + i] = 0 }
            return s
        }
        let (model, _, dataset, _) = try run.prepare()
        let weights = try Trainer(model: model, dataset: dataset, options: run.options).targetWeights
        #expect(weights[t] == 0.1)
        let others = weights.indices.filter { $0 != t }.map { weights[$0] }
        #expect(others.allSatisfy { $0 > 0.1 }, "\(weights)")
        #expect(abs(others.reduce(0, +) / Float(others.count) - 1) < 1e-3, "\(weights)")
    }

    @Test func warmStartsRefitBandsFreshRunsDoNot() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let (base, fresh, _) = try TrainingFixtures.run(epochs: 1).run(outDirectory: out)
        #expect(fresh.persistenceBlend.allSatisfy { $0.bandScale == nil })
        var more = TrainingFixtures.run(epochs: 1)
        more.from = base
        let (folder, warm, _) = try more.run(outDirectory: out)
        #expect(warm.persistenceBlend.count == 6 && warm.persistenceBlend.allSatisfy { $0.bandScale != nil && $0.coverageBefore != nil })
        let info = try #require(try ModelFolder.load(folder).info)
        #expect(info.persistenceBlend?.allSatisfy { $0.bandScale != nil } == true)
        // Older training_info.json files (no band fields) still decode.
        let old = #"{"target":"cpu_pct","alpha":0.5,"persistence_mae":1,"model_mae":2,"blended_mae":0.9}"#
        #expect(try JSONDecoder().decode(PersistenceBlend.self, from: Data(old.utf8)).bandScale == nil)
    }
}
