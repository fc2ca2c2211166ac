import Foundation
import TFTCore

/// The persistence anchor of the output heads (docs/training.md, "Persistence anchor").
///
/// With Argus's normaliser a normalised output of 0 *is* the last observed value. Two things keep the
/// model from losing to it on near-flat targets (disk, swap), where the last value is almost exact:
///
/// 1. **Initialised to persistence**: a fresh model's `output_layer.<t>` weights and biases start at zero,
///    so before the first step every quantile of every target is the last value, and training moves away
///    from persistence only as far as the loss pays for it.
/// 2. **Learned shrinkage toward persistence** (fitted after training on the validation windows, never
///    on evaluation data): per target, the median's departure from the last value `δ = P50 − last` is
///    scaled by `α_t ∈ [0, 1]`, the value on a 0.02 grid with the lowest validation P50 MAE (feed units,
///    all horizon steps). All quantiles move by the same `−(1 − α_t)·δ`, so the band keeps its width and
///    order. Because the output head is linear and shared by all horizon steps, this is folded exactly
///    into the weights (`W_q ← W_q − (1 − α)·W_50`, same for the bias): the daemon, the explain engine
///    and the evaluator all serve the same, anchored model with no extra code path.
public struct PersistenceBlend: Codable, Sendable, Equatable {
    public var target: String
    /// Share of the model's median departure from the last value that is kept (1 = model as trained).
    public var alpha: Double
    /// Validation P50 MAE (feed units, mean over all horizon steps) of persistence, of the trained model
    /// and of the blended (shipped) model.
    public var persistenceMAE: Double
    public var modelMAE: Double
    public var blendedMAE: Double
    /// Band width factor fitted after the shrinkage (``PersistenceOutput/fitAndFoldBandScale``; nil when not
    /// fitted): every quantile's distance from the median is multiplied by it. With the validation coverage
    /// of the 10–90 % band before and after, and the validation quantile loss (feed units) before and after.
    public var bandScale: Double? = nil
    public var coverageBefore: Double? = nil
    public var coverageAfter: Double? = nil
    public var quantileLossBefore: Double? = nil
    public var quantileLossAfter: Double? = nil
    enum CodingKeys: String, CodingKey {
        case target, alpha
        case persistenceMAE = "persistence_mae", modelMAE = "model_mae", blendedMAE = "blended_mae"
        case bandScale = "band_scale", coverageBefore = "coverage_10_90_before", coverageAfter = "coverage_10_90_after"
        case quantileLossBefore = "quantile_loss_before", quantileLossAfter = "quantile_loss_after"
    }
    public init(target: String, alpha: Double, persistenceMAE: Double, modelMAE: Double, blendedMAE: Double) {
        self.target = target; self.alpha = alpha
        self.persistenceMAE = persistenceMAE; self.modelMAE = modelMAE; self.blendedMAE = blendedMAE
    }
}

public enum PersistenceOutput {
    static func outputEntries(_ model: TFTModel, target t: Int) -> (weight: ParameterLayout.Entry, bias: ParameterLayout.Entry)? {
        let name = model.config.targets.count == 1 ? "output_layer" : "output_layer.\(t)"
        guard let w = model.layout.entry(named: name + ".weight"), let b = model.layout.entry(named: name + ".bias") else { return nil }
        return (w, b)
    }

    /// Zeroes every output head: every quantile of every target forecasts the last value.
    public static func initialiseToPersistence(_ model: TFTModel) {
        for t in model.config.targets.indices {
            guard let (w, b) = outputEntries(model, target: t) else { continue }
            (model.parameters.pointer + w.offset).update(repeating: 0, count: w.count)
            (model.parameters.pointer + b.offset).update(repeating: 0, count: b.count)
        }
    }

    /// Folds `alpha[t]` into target t's output head: every quantile row minus `(1 − α)` × the median row.
    public static func fold(_ model: TFTModel, alpha: [Double]) {
        let Q = model.config.quantiles
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        for (t, a) in alpha.enumerated() where a != 1 {
            guard let (w, b) = outputEntries(model, target: t) else { continue }
            let H = w.shape[1], k = Float(1 - a)
            let W = model.parameters.pointer + w.offset, B = model.parameters.pointer + b.offset
            let row50 = Array(UnsafeBufferPointer(start: W + q50 * H, count: H)), b50 = B[q50]
            for q in Q.indices {
                for i in 0..<H { W[q * H + i] -= k * row50[i] }
                B[q] -= k * b50
            }
        }
    }

    /// Fits `α_t` on `windows` (feed units, all horizon steps) and folds it into the model.
    ///
    /// `perStepRelative`: instead of the MAE over all horizon steps, minimise the sum over horizon steps of
    /// (the blend's MAE at that step / persistence's MAE at that step) — every step counts relative to
    /// what the last value scores there, so a model that gains at long horizons cannot buy that with
    /// losses at short ones where the last value is nearly exact (used for warm starts, see
    /// ``TrainingOptions/persistenceRelativeBlend``).
    public static func fitAndFold(model: TFTModel, builder: FeatureBuilder, series: [ServerSeries], windows: [WindowRef],
                                  encoderLength: Int, batchSize: Int, perStepRelative: Bool = false,
                                  cancel: CancellationToken? = nil) throws -> [PersistenceBlend] {
        let cfg = model.config, nT = cfg.targets.count, Q = cfg.quantiles, Td = cfg.maxPredictionLength
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        let grid = (0...50).map { Double($0) / 50 }
        var err = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: nT)
        // Per (target, step): Σ |error| for every α (only for perStepRelative).
        var stepErr = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: grid.count),
                                                           count: perStepRelative ? Td : 0), count: nT)
        let n = try forEachForecast(model: model, builder: builder, series: series, windows: windows, encoderLength: encoderLength,
                                    batchSize: batchSize, cancel: cancel) { out, b, target, norm in
            for t in 0..<nT {
                let c = Double(norm.center[t])
                for k in 0..<Td {
                    let r = Double(target[(b * nT + t) * Td + k]) - c
                    let d = Double(out.value(sample: b, target: t, step: k, quantile: q50)) - c
                    for (g, a) in grid.enumerated() { err[t][g] += abs(r - a * d) }
                    if perStepRelative { for (g, a) in grid.enumerated() { stepErr[t][k][g] += abs(r - a * d) } }
                }
            }
        }
        guard n > 0 else { return [] }
        var alphas: [Double] = []
        var fits: [PersistenceBlend] = []
        for t in 0..<nT {
            var objective = err[t]
            if perStepRelative {
                // A step where persistence is exact on every window (a constant series) makes any departure
                // infinitely worse; the floor keeps the ratio finite and still forces α = 0 there.
                let floor = 1e-9 * Double(max(1, n / Td))
                objective = grid.indices.map { g in (0..<Td).reduce(0.0) { $0 + stepErr[t][$1][g] / max(floor, stepErr[t][$1][0]) } }
            }
            let best = objective.indices.min { objective[$0] < objective[$1] }!
            alphas.append(grid[best])
            fits.append(PersistenceBlend(target: cfg.targets[t], alpha: grid[best], persistenceMAE: err[t][0] / Double(n),
                                         modelMAE: err[t][grid.count - 1] / Double(n), blendedMAE: err[t][best] / Double(n)))
        }
        fold(model, alpha: alphas)
        return fits
    }

    /// Runs `model` over `windows` in batches (raw feed units) and hands `visit` each sample's forecast,
    /// target and normalisation; returns the number of (sample, horizon step) pairs seen.
    private static func forEachForecast(model: TFTModel, builder: FeatureBuilder, series: [ServerSeries], windows: [WindowRef],
                                        encoderLength: Int, batchSize: Int, cancel: CancellationToken?,
                                        _ visit: (TFTOutput, Int, [Float], WindowNormalization) -> Void) throws -> Int {
        let assembler = BatchAssembler(builder: builder, batchSize: batchSize, encoderLength: encoderLength)
        var n = 0, i = 0
        while i < windows.count {
            if cancel?.isCancelled == true { throw TrainingError.cancelled }
            let chunk = windows[i..<min(windows.count, i + batchSize)]
            let batch = assembler.assemble(chunk, series: series, mode: .raw)
            let out = try model.forward(batch, include: [])
            let target = batch.target!
            for b in 0..<chunk.count {
                visit(out, b, target, assembler.normalizations[b])
                n += batch.decoderLength
            }
            i += batchSize
        }
        return n
    }

    /// Band widths: grid of factors for every quantile's distance from the median (1 = as trained).
    static let bandScaleGrid: [Double] = (5...80).map { Double($0) / 20 }   // 0.25 … 4.0

    /// Multiplies target t's quantile offsets from the median by `scale[t]`, exactly, in the weights:
    /// `W_q ← W_50 + s·(W_q − W_50)`, same for the bias (the median row is unchanged).
    public static func foldBandScale(_ model: TFTModel, scale: [Double]) {
        let Q = model.config.quantiles
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        for (t, f) in scale.enumerated() where f != 1 {
            guard let (w, b) = outputEntries(model, target: t) else { continue }
            let H = w.shape[1], k = Float(f)
            let W = model.parameters.pointer + w.offset, B = model.parameters.pointer + b.offset
            let row50 = Array(UnsafeBufferPointer(start: W + q50 * H, count: H)), b50 = B[q50]
            for q in Q.indices where q != q50 {
                for i in 0..<H { W[q * H + i] = row50[i] + k * (W[q * H + i] - row50[i]) }
                B[q] = b50 + k * (B[q] - b50)
            }
        }
    }

    /// Fits a band width factor per target on `windows` — the grid value with the lowest quantile loss
    /// (PTF's 2·pinball, feed units, forecasts clamped to the metric's range as served, all horizon steps,
    /// the median excluded since it does not move) — and folds it into the model. A proper scoring rule,
    /// so the bands widen where the validation data is noisier than what the weights learned and narrow
    /// where it is quieter; the median (and the fitted shrinkage) is untouched. `fits` gets the factor,
    /// the 10–90 % coverage and the quantile loss (all quantiles) before and after; returned updated.
    public static func fitAndFoldBandScale(model: TFTModel, builder: FeatureBuilder, series: [ServerSeries], windows: [WindowRef],
                                           encoderLength: Int, batchSize: Int, fits: [PersistenceBlend],
                                           perStepRelative: Bool = false,
                                           cancel: CancellationToken? = nil) throws -> [PersistenceBlend] {
        let cfg = model.config, nT = cfg.targets.count, Q = cfg.quantiles.map(Double.init), nQ = Q.count
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        let q10 = Q.indices.min { abs(Q[$0] - 0.1) < abs(Q[$1] - 0.1) }!
        let q90 = Q.indices.min { abs(Q[$0] - 0.9) < abs(Q[$1] - 0.9) }!
        let grid = bandScaleGrid, one = grid.firstIndex(of: 1)!
        var loss = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: nT)
        var covered = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: nT)
        var medianLoss = [Double](repeating: 0, count: nT)
        // perStepRelative: per (target, step) the loss for every factor and persistence's Σ |error|.
        let Td = cfg.maxPredictionLength
        var stepLoss = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: grid.count),
                                                            count: perStepRelative ? Td : 0), count: nT)
        var stepPersistence = [[Double]](repeating: [Double](repeating: 0, count: perStepRelative ? Td : 0), count: nT)
        func pinball(_ y: Double, _ p: Double, _ q: Double) -> Double { let e = y - p; return 2 * max((q - 1) * e, q * e) }
        let n = try forEachForecast(model: model, builder: builder, series: series, windows: windows, encoderLength: encoderLength,
                                    batchSize: batchSize, cancel: cancel) { out, b, target, norm in
            for t in 0..<nT {
                let c = Double(norm.center[t])
                for k in 0..<Td {
                    let y = Double(target[(b * nT + t) * Td + k])
                    let p50 = Double(out.value(sample: b, target: t, step: k, quantile: q50))
                    medianLoss[t] += pinball(y, Double(builder.clamp(Float(p50), target: t)), Q[q50])
                    if perStepRelative { stepPersistence[t][k] += abs(y - c) }
                    for q in 0..<nQ where q != q50 {
                        let d = Double(out.value(sample: b, target: t, step: k, quantile: q)) - p50
                        for (g, f) in grid.enumerated() {
                            let l = pinball(y, Double(builder.clamp(Float(p50 + f * d), target: t)), Q[q])
                            loss[t][g] += l
                            if perStepRelative { stepLoss[t][k][g] += l }
                        }
                    }
                    let lo = Double(out.value(sample: b, target: t, step: k, quantile: q10)) - p50
                    let hi = Double(out.value(sample: b, target: t, step: k, quantile: q90)) - p50
                    for (g, f) in grid.enumerated() {
                        let l = Double(builder.clamp(Float(p50 + f * lo), target: t)), h = Double(builder.clamp(Float(p50 + f * hi), target: t))
                        if y >= l && y <= h { covered[t][g] += 1 }
                    }
                }
            }
        }
        guard n > 0 else { return fits }
        var scales: [Double] = []
        var updated = fits
        for t in 0..<nT {
            var objective = loss[t]
            if perStepRelative {
                let floor = 1e-9 * Double(max(1, n / Td))
                objective = grid.indices.map { g in (0..<Td).reduce(0.0) { $0 + stepLoss[t][$1][g] / max(floor, stepPersistence[t][$1]) } }
            }
            // Lowest loss; ties (flat targets where every width scores the same) keep the trained width.
            var best = one
            for g in grid.indices where objective[g] < objective[best] * (1 - 1e-9) { best = g }
            scales.append(grid[best])
            if t < updated.count {
                let N = Double(n)
                updated[t].bandScale = grid[best]
                updated[t].coverageBefore = covered[t][one] / N
                updated[t].coverageAfter = covered[t][best] / N
                updated[t].quantileLossBefore = (loss[t][one] + medianLoss[t]) / N / Double(nQ)
                updated[t].quantileLossAfter = (loss[t][best] + medianLoss[t]) / N / Double(nQ)
            }
        }
        foldBandScale(model, scale: scales)
        return updated
    }
}
