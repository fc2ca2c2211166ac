import Foundation
import Testing
import TFTCore
import Training
@testable import Daemon

@Suite("Explain")
struct ExplainTests {
    // MARK: Shapley machinery

    @Test("exact Shapley values of a known game; sampling keeps efficiency and the ranking")
    func shapleyKnownGame() {
        // v(S) = 3·x0 + 2·x1·x2 + 0·x3  →  φ = (3, 1, 1, 0).
        func v(_ m: UInt64) -> Double {
            let x = (0..<4).map { m & (1 << UInt64($0)) != 0 ? 1.0 : 0.0 }
            return 3 * x[0] + 2 * x[1] * x[2]
        }
        let exact = ShapleySampler.attribute(players: 4, budget: 64, seed: 1) { $0.map(v) }
        #expect(exact.exact && exact.evaluations == 16)
        for (a, b) in zip(exact.values, [3.0, 1, 1, 0]) { #expect(abs(a - b) < 1e-12) }
        let sampled = ShapleySampler.attribute(players: 4, budget: 8, seed: 7) { $0.map(v) }
        #expect(!sampled.exact && sampled.evaluations <= 8 + 2)
        #expect(abs(sampled.values.reduce(0, +) - 5) < 1e-12)           // efficiency: v(all) − v(∅)
        #expect(sampled.values.indices.max { sampled.values[$0] < sampled.values[$1] } == 0)
        #expect(abs(sampled.values[3]) < 1e-12)                         // a dummy player gets nothing
    }

    /// A tiny TFT trained so that its forecast depends on one input only: y(future) = mean of the last
    /// three values of `x1`; `x0` and `x2` are noise the target ignores.
    static func trainedOneInputModel() throws -> TFTModel {
        let config = TFTConfig(hiddenSize: 8, attentionHeads: 2, hiddenContinuousSize: 4, dropout: 0, targets: ["y"],
                               maxEncoderLength: 8, maxPredictionLength: 2, reals: ["x0", "x1", "x2", "k"], categoricals: ["g"],
                               staticCategoricals: ["g"], staticReals: [], encoderCategoricals: [],
                               encoderReals: ["x0", "x1", "x2", "k"], decoderCategoricals: [], decoderReals: ["k"],
                               embeddingSizes: ["g": .init(cardinality: 1, dimension: 1)])
        let model = try TFTModel(config: config, seed: 3)
        let adam = AdamOptimizer(parameterCount: model.parameterCount, learningRate: 1e-2)
        var rng = RNG(seed: 11)
        func normal() -> Float { rng.normal() }
        for step in 0..<250 {
            let batch = oneInputBatch(size: 32, normal: normal)
            _ = try model.lossAndGradients(batch, training: false, seed: UInt64(step), include: [])
            GradientClipping.clipGlobalNorm(model.gradients, maxNorm: 1)
            adam.update(model.parameters, gradients: model.gradients)
        }
        return model
    }

    static func oneInputBatch(size B: Int, normal: () -> Float, fixed x1: [Float]? = nil) -> TFTBatch {
        let Te = 8, Td = 2, T = Te + Td
        var cont = [Float](repeating: 0, count: B * T * 4), target = [Float]()
        for b in 0..<B {
            var level = normal()
            for t in 0..<Te {
                level = 0.6 * level + 0.8 * normal()
                cont[(b * T + t) * 4 + 0] = normal()
                cont[(b * T + t) * 4 + 1] = x1?[t] ?? level
                cont[(b * T + t) * 4 + 2] = normal()
            }
            for t in 0..<T { cont[(b * T + t) * 4 + 3] = Float(t - Te) / 8 }
            let y = (5..<8).map { cont[(b * T + $0) * 4 + 1] }.reduce(0, +) / 3
            target += [y, y]
        }
        return TFTBatch(batchSize: B, encoderLength: Te, decoderLength: Td, continuous: cont,
                        categorical: [Int32](repeating: 0, count: B * T), encoderLengths: [Int](repeating: Te, count: B),
                        targetScale: [Float](repeating: 0, count: B) .flatMap { _ in [Float(0), 1] }, target: target)
    }

    @Test("a TFT whose target depends on one input: the Shapley attribution of its re-runs ranks that input first")
    func knownAnswerRanksTheInputFirst() throws {
        let model = try Self.trainedOneInputModel()
        var rng = RNG(seed: 99)
        func normal() -> Float { rng.normal() }
        // One window whose x1 ends far from its baseline (0), with noisy x0 and x2.
        let window = Self.oneInputBatch(size: 1, normal: normal, fixed: [0, 0.2, -0.1, 0.3, 0.5, 1.6, 1.8, 2.0])
        let Te = 8, T = 10
        let result = try ShapleySampler.attribute(players: 3, budget: 8, seed: 5) { masks in
            var batch = window
            batch.batchSize = masks.count
            batch.continuous = masks.flatMap { mask -> [Float] in
                var c = window.continuous
                for p in 0..<3 where mask & (1 << UInt64(p)) == 0 { for t in 0..<Te { c[t * 4 + p] = 0 } }
                return c
            }
            batch.categorical = [Int32](repeating: 0, count: masks.count * T)
            batch.encoderLengths = [Int](repeating: Te, count: masks.count)
            batch.targetScale = masks.flatMap { _ in [Float(0), 1] }
            batch.target = nil
            let out = try model.forward(batch, include: [])
            return (0..<masks.count).map { Double(out.value(sample: $0, target: 0, step: 0, quantile: 3)) }
        }
        #expect(result.exact)
        let order = result.values.indices.sorted { abs(result.values[$0]) > abs(result.values[$1]) }
        #expect(order.first == 1, "φ = \(result.values)")
        #expect(abs(result.values[1]) > 3 * max(abs(result.values[0]), abs(result.values[2])), "φ = \(result.values)")
        #expect(result.values[1] > 0.8, "x1 = 1.8 on average lately should raise the forecast: φ = \(result.values)")
    }

    // MARK: The daemon's explain path (FeatureBuilder + RiskScorer)

    static func engine(budget: Int = 96) throws -> ExplainEngine {
        let spec = TinyModel.spec
        let config = spec.makeConfig(hiddenSize: 8, attentionHeads: 2, hiddenContinuousSize: 4, dropout: 0,
                                     encoderLength: TinyModel.encoder, predictionLength: TinyModel.horizon,
                                     profileEmbedding: 2, statusEmbedding: 2)
        let model = try TFTModel(config: config, seed: 1)
        var settings = ExplainSettings()
        settings.shapleyBudget = budget
        return ExplainEngine(model: model, builder: try FeatureBuilder(spec: spec, config: config), settings: settings)
    }

    /// 48 steps of a generic server whose memory climbs to `peak` in the last hour.
    static func window(peak: Float = 93) -> ServerWindow {
        let n = 48
        var v = [Float](repeating: 0, count: FeedMetric.count * n)
        for i in 0..<n {
            func set(_ m: FeedMetric, _ x: Float) { v[m.rawValue * n + i] = x }
            let climb = i >= n - 12 ? Float(i - (n - 12)) / 11 : 0
            set(.cpuUserPct, 20 + Float(i % 5)); set(.cpuSysPct, 5); set(.cpuIowaitPct, 2 + Float(i % 3))
            set(.cpuIdlePct, 70 - Float(i % 5)); set(.javaCpuPct, 10); set(.memUsedPct, 60 + Float(i % 4) + climb * (peak - 63))
            set(.swapUsedPct, 4); set(.diskUsagePct, 40); set(.netInMBs, 10); set(.netOutMBs, 8)
            set(.backCloseWait, 3 + Float(i % 2)); set(.frontCloseWait, 2); set(.loadAverage, 1.2); set(.uptimeDays, 30)
        }
        return ServerWindow(serverName: "ppgen001", firstEpoch: 1_736_935_200, stepSeconds: 300, feedValues: v)
    }

    @Test("explain: risk matches the scorer, attributions are efficient, attention and importances are real")
    func explainShape() throws {
        let engine = try Self.engine()
        let e = try engine.explain(Self.window())
        #expect(e.risk.score >= 60, "the climbing memory should put the server in warning: \(e.risk.score)")
        // Σφ = risk(actual) − risk(baseline): every unit of risk is accounted for.
        #expect(abs(e.attributions.map(\.contribution).reduce(0, +) - (e.shapley.fullValue - e.shapley.baselineValue)) < 1e-6)
        #expect(abs(e.shapley.fullValue - e.risk.score) < 1e-9)
        #expect(e.attributions.first?.feature == "Memory used")
        // History attention (the rest of each row is on earlier forecast steps).
        #expect(e.attention.count == TinyModel.encoder && e.attention.reduce(0, +) > 0.05 && e.attention.reduce(0, +) <= 1.001)
        #expect(!e.encoderImportance.isEmpty && abs(e.encoderImportance.map(\.1).reduce(0, +) - 1) < 1e-3)
        let json = e.json(snapshotRisk: nil, snapshotLevel: nil, tick: 7, model: "m", cached: false)
        guard case .array(let features)? = json["shap"]?["top_features"], case .object(let top)? = features.first else {
            Issue.record("no features"); return
        }
        #expect(top.first?.0 == "feature" && json["shap"]?["top_features"] != nil)
        if case .string(let stars)? = features.first?["stars"] { #expect(stars == "★★★★★") }
        if case .double(let imp)? = features.first?["importance"] { #expect(imp > 0 && imp <= 1) }
        #expect(json["prediction"]?["alert_level"] != nil && json["attention"]?["analysis"] != nil)
        #expect(e.evaluations <= 1 + 96 + 2 + 5 + 29 + 8)
    }

    @Test("counterfactuals: re-running each claimed change gives the claimed risk, drops are real, the search crosses warning")
    func counterfactualsAreReal() throws {
        let engine = try Self.engine()
        let window = Self.window()
        let e = try engine.explain(window)
        let before = e.risk.score
        let search = try #require(e.counterfactuals.first { $0.foundBy == "search" })
        #expect(search.riskAfter < 60 && before >= 60, "search: \(search.impact)")
        let reduction = try #require(search.reduction)
        #expect(reduction > 0 && reduction < 0.9)

        // Re-apply the search's change independently and re-run the model.
        let series = ExplainEngine.suffix(try engine.spec.series(from: window), TinyModel.encoder)
        let m = engine.spec.metrics.firstIndex { $0.name == search.metric }!
        let changed = engine.modified(series, [(m, { $0 * Float(1 - reduction) })], steps: engine.settings.actionSteps)
        let rerun = try engine.run([changed], window: window).risks[0].score
        #expect(abs(rerun - search.riskAfter) < 1e-9)
        #expect(rerun < 60)

        // Every fixed scenario's claim, re-run on its own.
        for sc in engine.scenarios(actual: series, history: series) {
            let claimed = try #require(e.counterfactuals.first { $0.scenario == sc.scenario })
            let risk = try engine.run([engine.modified(series, sc.changes, steps: engine.settings.actionSteps)], window: window).risks[0].score
            #expect(abs(risk - claimed.riskAfter) < 1e-9, "\(sc.scenario)")
            if claimed.impact.hasPrefix("Risk drops") { #expect(risk < before) }
        }
        let memory = try #require(e.counterfactuals.first { $0.scenario == "Reduce memory by 15%" })
        #expect(memory.riskAfter < before && memory.impact.hasPrefix("Risk drops from"))
    }

    @Test("focus periods in human words")
    func focusWords() {
        #expect(ExplainAttention.label(ageMinutes: 10) == "Last 30 minutes")
        #expect(ExplainAttention.label(ageMinutes: 120) == "2 hours ago")
        #expect(ExplainAttention.label(ageMinutes: 24 * 60) == "Same time yesterday (24 hours ago)")
        var a = [Double](repeating: 0.01, count: 288)
        for i in 282..<288 { a[i] = 0.2 }          // the last 30 minutes
        for i in 262...264 { a[i] = 0.1 }          // ~2 hours ago
        let f = ExplainAttention.focusPeriods(a, stepSeconds: 300)
        #expect(f.map(\.label).prefix(2) == ["Last 30 minutes", "2 hours ago"])
        #expect(ExplainAttention.focusPeriods([Double](repeating: 1, count: 100), stepSeconds: 300).isEmpty)
    }

    @Test("a window shorter than the model's minimum is a warm-up error")
    func warmingUp() throws {
        let engine = try Self.engine()
        var w = Self.window()
        let n = 4
        w = ServerWindow(serverName: w.serverName, firstEpoch: w.firstEpoch, stepSeconds: 300,
                         feedValues: (0..<FeedMetric.count).flatMap { m in Array(w.feedValues[(m * 48)..<(m * 48 + n)]) })
        #expect(throws: ExplainError.self) { try engine.explain(w) }
    }
}
