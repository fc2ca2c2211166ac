import Foundation
import Testing
import TFTCore
@testable import Training

@Suite(.serialized) struct TrainerAndModelFolderTests {
    @Test func trainsWritesAndLoadsAVerifiedFolder() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        var seen: [TrainingProgress] = []
        let (folder, result, _) = try TrainingFixtures.run(epochs: 2).run(outDirectory: out, progress: { seen.append($0) })
        #expect(folder.lastPathComponent.hasPrefix("tft_model_"))
        #expect(TrainingFixtures.contents(out) == [folder.lastPathComponent])   // no temporary folder left
        #expect(TrainingFixtures.contents(folder) == ["config.json", "manifest.json", "model.safetensors", "normalizers.json", "training_info.json"])
        #expect(result.epochs.count == 2 && result.samples == 2 * 3 * 16)
        #expect(seen.contains { $0.phase == .training && $0.samplesPerSecond > 0 && $0.etaSeconds >= 0 })
        #expect(seen.filter { $0.phase == .epochEnd }.count == 2)
        let loaded = try ModelFolder.load(folder)
        #expect(loaded.info?.epochsRun == 2 && loaded.info?.totalEpochs == 2 && loaded.info?.parentModel == nil)
        #expect(loaded.spec == TrainingFixtures.spec)
        #expect(loaded.manifest.files.count == 4)
    }

    @Test func sameSeedGivesSameWeights() throws {
        let a = TrainingFixtures.tempDir(), b = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let fa = try TrainingFixtures.run(seed: 3).run(outDirectory: a).folder
        let fb = try TrainingFixtures.run(seed: 3).run(outDirectory: b).folder
        let wa = try ModelFolder.load(fa).model.parameters.values, wb = try ModelFolder.load(fb).model.parameters.values
        #expect(wa == wb)
    }

    @Test func cancellationStopsWithinOneStepAndLeavesNoFolder() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let token = CancellationToken()
        var steps: [Int] = []
        var run = TrainingFixtures.run(epochs: 3)
        run.options.maxBatchesPerEpoch = 10
        #expect(throws: TrainingError.cancelled) {
            try run.run(outDirectory: out, progress: { p in
                if p.phase == .training {
                    steps.append(p.step)
                    if p.step == 2 { token.cancel() }   // cancel during step 2
                }
            }, cancel: token)
        }
        #expect(steps == [1, 2])            // step 3 never started
        #expect(TrainingFixtures.contents(out).isEmpty)   // no folder, no temporary folder
    }

    @Test func failedOrCancelledRunLeavesPreviousModelUntouched() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let first = try TrainingFixtures.run().run(outDirectory: out).folder
        let before = try Data(contentsOf: first.appendingPathComponent("model.safetensors"))
        let token = CancellationToken()
        token.cancel()
        #expect(throws: TrainingError.cancelled) { try TrainingFixtures.run().run(outDirectory: out, cancel: token) }
        #expect(TrainingFixtures.contents(out) == [first.lastPathComponent])
        #expect(try Data(contentsOf: first.appendingPathComponent("model.safetensors")) == before)
    }

    @Test func incrementalTrainingContinuesFromTheOldWeights() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let (base, baseResult, _) = try TrainingFixtures.run(epochs: 1).run(outDirectory: out)
        let baseWeights = try ModelFolder.load(base).model.parameters.values
        var more = TrainingFixtures.run(epochs: 2)
        more.from = base
        let (next, nextResult, _) = try more.run(outDirectory: out)
        #expect(next != base)
        let loaded = try ModelFolder.load(next)
        // It started from the old weights: the initial validation loss of the second run is the first run's final one.
        #expect(abs(nextResult.initialValidationLoss - baseResult.bestValidationLoss) < 1e-6 * max(1, baseResult.bestValidationLoss))
        // And it really trained two more epochs, changing the weights.
        #expect(nextResult.epochs.count == 2)
        #expect(loaded.model.parameters.values != baseWeights)
        #expect(loaded.info?.parentModel == base.lastPathComponent)
        #expect(loaded.info?.totalEpochs == 3)
        // A fresh model with the same seed is far from either (warm start ≠ re-initialisation).
        let fresh = try TFTModel(config: loaded.model.config, seed: 7).parameters.values
        let dBase = zip(loaded.model.parameters.values, baseWeights).map { abs($0 - $1) }.reduce(0, +)
        let dFresh = zip(loaded.model.parameters.values, fresh).map { abs($0 - $1) }.reduce(0, +)
        #expect(dBase < dFresh)
    }

    @Test func manifestRejectsATamperedFile() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let folder = try TrainingFixtures.run().run(outDirectory: out).folder
        let weights = folder.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: weights)
        data[data.count - 3] ^= 0x01
        try data.write(to: weights)
        do {
            _ = try ModelFolder.load(folder)
            Issue.record("tampered folder loaded")
        } catch let TrainingError.modelFolder(file, problem) {
            #expect(file.hasSuffix("model.safetensors"))
            #expect(problem.contains("SHA-256"))
        }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("normalizers.json"))
        #expect(throws: TrainingError.self) { try ModelFolder.load(folder) }
    }

    @Test func refusesTooLittleDataSayingHowMuchIsNeeded() throws {
        let short = TrainingFixtures.series.map { s -> ServerSeries in
            var t = s
            let n = 40
            t.values = (0..<s.values.count / s.count).flatMap { m in s.values[(m * s.count)..<(m * s.count + n)] }
            t.status = Array(s.status[0..<n]); t.count = n
            return t
        }
        var run = TrainingRun(series: short, dataSource: "short")
        run.spec = TrainingFixtures.spec
        run.shape.encoderLength = 48; run.shape.horizon = 12
        do {
            _ = try run.prepare()
            Issue.record("too little data accepted")
        } catch let TrainingError.insufficientData(message) {
            let need = WindowOptions(maxEncoderLength: 48, minEncoderLength: 12, horizon: 12).requiredSteps
            #expect(message.contains("need at least \(need) steps"))
            #expect(message.contains("the longest series has 40 steps"))
        }
    }

    @Test func cliRefusesTooLittleData() throws {
        // The argusd binary sits next to the test bundle when SwiftPM built it.
        let dir = Bundle.main.bundleURL.deletingLastPathComponent()
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [exe, Bundle.main.bundleURL, dir, Bundle(for: Marker.self).bundleURL.deletingLastPathComponent()]
        // `swift test` builds every product, argusd included; a missing binary is a failure, not a pass.
        let bin = try #require(candidates.map { $0.appendingPathComponent("argusd") }.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                               "argusd not found next to the test bundle (\(exe.path)): build it with `swift build` first")
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = bin
        p.arguments = ["train", "--simulate", "--servers", "2", "--days", "0.5", "--epochs", "1", "--out", out.path, "--quiet"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1)
        #expect(text.contains("not enough data: need at least 481 steps (40.1 h at 300 s)"))
        #expect(TrainingFixtures.contents(out).isEmpty)
    }

    @Test func evaluationScoresModelAndBaselines() throws {
        let out = TrainingFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let folder = try TrainingFixtures.run().run(outDirectory: out).folder
        let loaded = try ModelFolder.load(folder)
        var e = Evaluator(model: loaded.model, builder: loaded.builder)
        e.horizons = [6, 12]
        e.stride = 24
        var config = FleetSimulatorConfig(servers: 7, days: 2, seed: 99, incidentRate: 1)
        config.stepSeconds = 300
        let (series, truth) = try FleetDataset.simulate(config, spec: loaded.spec)
        let report = try e.evaluate(series: series, truth: truth)
        #expect(report.targets.count == 6 && report.targets[0].horizons.map(\.horizonSteps) == [6, 12])
        let h = report.targets[1].horizons[0]
        #expect(h.count == report.windows && h.lastValueMAE >= 0 && h.yesterdayMAE > 0 && (0...1).contains(h.coverage80))
        #expect(report.incidents.count == truth.incidents.filter { $0.criticalStep != nil && $0.metric != .loadPerCore }.count)
        #expect(report.table().contains("cpu_pct"))
        // Paired standard error of P50 − last value, clustered by series (7 series here).
        #expect(report.targets.allSatisfy { $0.horizons.allSatisfy { ($0.vsLastValueSE ?? -1) >= 0 } })
        let one = try e.evaluate(series: [series[0]])
        #expect(one.targets[0].horizons[0].vsLastValueSE == nil)   // one series: no spread to estimate
    }
}

private final class Marker {}
