import Foundation
import Testing
import TFTCore
@testable import Training

/// The persistence anchor (docs/training.md): output heads initialised to the last value, the
/// persistence-relative loss weights, and the shrinkage toward persistence folded into the weights.
@Suite(.serialized) struct PersistenceAnchorTests {
    static func fixture() throws -> (model: TFTModel, builder: FeatureBuilder, dataset: FleetDataset) {
        let (model, spec, dataset, _) = try TrainingFixtures.run().prepare()
        return (model, try FeatureBuilder(spec: spec, config: model.config), dataset)
    }

    /// P50 − center and every quantile's offset from P50, per (sample, target, step).
    static func forecast(_ model: TFTModel, _ builder: FeatureBuilder, _ dataset: FleetDataset, _ windows: [WindowRef])
        throws -> (p50Offset: [Float], spread: [Float]) {
        let assembler = BatchAssembler(builder: builder, batchSize: windows.count, encoderLength: model.config.maxEncoderLength)
        let out = try model.forward(assembler.assemble(windows, series: dataset.series, mode: .raw, withTargets: false), include: [])
        let Q = model.config.quantiles.count, q50 = model.config.quantiles.firstIndex(of: 0.5)!
        var offset: [Float] = [], spread: [Float] = []
        for b in windows.indices {
            for t in model.config.targets.indices {
                let c = assembler.normalizations[b].center[t]
                for k in 0..<out.decoderLength {
                    let p50 = out.value(sample: b, target: t, step: k, quantile: q50)
                    offset.append(p50 - c)
                    for q in 0..<Q { spread.append(out.value(sample: b, target: t, step: k, quantile: q) - p50) }
                }
            }
        }
        return (offset, spread)
    }

    @Test func freshModelForecastsTheLastValue() throws {
        let (model, builder, dataset) = try Self.fixture()
        let windows = Array(dataset.validationWindows.prefix(4))
        let f = try Self.forecast(model, builder, dataset, windows)
        #expect(f.p50Offset.allSatisfy { $0 == 0 } && f.spread.allSatisfy { $0 == 0 })
        // The last value is what center_steps = 1 centres on.
        #expect(builder.spec.centerSteps == 1)
    }

    @Test func foldShiftsEveryQuantileByTheShrunkMedian() throws {
        let (model, builder, dataset) = try Self.fixture()
        model.initialise(seed: 5)   // non-zero heads
        let windows = Array(dataset.validationWindows.prefix(3))
        let before = try Self.forecast(model, builder, dataset, windows)
        let nT = model.config.targets.count
        let alpha = (0..<nT).map { Double($0) / Double(nT - 1) }   // 0 … 1
        PersistenceOutput.fold(model, alpha: alpha)
        let after = try Self.forecast(model, builder, dataset, windows)
        let Td = model.config.maxPredictionLength
        for i in before.p50Offset.indices {
            let t = (i / Td) % nT
            #expect(abs(after.p50Offset[i] - Float(alpha[t]) * before.p50Offset[i]) <= 1e-3 * max(1, abs(before.p50Offset[i])))
        }
        for i in before.spread.indices { #expect(abs(after.spread[i] - before.spread[i]) <= 1e-3 * max(1, abs(before.spread[i]))) }
        // α = 0: the median is exactly the last value.
        #expect((0..<(before.p50Offset.count)).filter { ($0 / Td) % nT == 0 }.allSatisfy { abs(after.p50Offset[$0]) < 1e-3 })
    }

    @Test func fittedBlendIsNeverWorseThanEitherSideOnItsWindows() throws {
        let (model, builder, dataset) = try Self.fixture()
        model.initialise(seed: 9)
        let windows = Array(dataset.validationWindows.prefix(24))
        let fits = try PersistenceOutput.fitAndFold(model: model, builder: builder, series: dataset.series, windows: windows,
                                                    encoderLength: model.config.maxEncoderLength, batchSize: 8)
        #expect(fits.map(\.target) == model.config.targets)
        for f in fits {
            #expect(f.alpha >= 0 && f.alpha <= 1)
            #expect(f.blendedMAE <= f.persistenceMAE + 1e-9 && f.blendedMAE <= f.modelMAE + 1e-9)
        }
        // Refitting the folded model finds (about) nothing left to shrink.
        let again = try PersistenceOutput.fitAndFold(model: model, builder: builder, series: dataset.series, windows: windows,
                                                     encoderLength: model.config.maxEncoderLength, batchSize: 8)
        for (a, b) in zip(fits, again) { #expect(abs(a.blendedMAE - b.blendedMAE) <= 1e-3 * max(1, a.blendedMAE)) }
    }

    @Test func lossWeightsScaleNormalisedTargetsOnly() throws {
        let (model, builder, dataset) = try Self.fixture()
        let windows = Array(dataset.trainWindows.prefix(2))
        let a = BatchAssembler(builder: builder, batchSize: 2, encoderLength: model.config.maxEncoderLength)
        let plain = a.assemble(windows, series: dataset.series, mode: .normalised)
        let plainTarget = plain.target!
        let w: [Float] = [1, 2, 0.5, 3, 4, 0.25]
        a.targetWeights = w
        let weighted = a.assemble(windows, series: dataset.series, mode: .normalised)
        let nT = w.count, Td = weighted.decoderLength
        for b in 0..<2 {
            for t in 0..<nT {
                #expect(weighted.targetScale[(b * nT + t) * 2] == 0 && weighted.targetScale[(b * nT + t) * 2 + 1] == w[t])
                for k in 0..<Td {
                    let i = (b * nT + t) * Td + k
                    #expect(abs(weighted.target![i] - w[t] * plainTarget[i]) <= 1e-5 * max(1, abs(plainTarget[i])))
                }
            }
        }
        // Raw batches (forecasts, evaluation) are untouched by the weights.
        a.targetWeights = nil
        let raw1 = a.assemble(windows, series: dataset.series, mode: .raw).targetScale
        a.targetWeights = w
        #expect(a.assemble(windows, series: dataset.series, mode: .raw).targetScale == raw1)
    }

    @Test func trainerRecordsWeightsAndBlend() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let (folder, result, _) = try TrainingFixtures.run().run(outDirectory: out)
        #expect(result.targetWeights.count == 6 && result.targetWeights.allSatisfy { $0 >= 0.1 && $0 <= 10 })
        let mean = result.targetWeights.reduce(0, +) / 6
        #expect(abs(mean - 1) < 1e-3 || result.targetWeights.contains { $0 == 0.1 || $0 == 10 })
        let info = try ModelFolder.load(folder).info!
        #expect(info.persistenceBlend?.count == 6 && info.targetLossWeights?.count == 6)
    }
}
