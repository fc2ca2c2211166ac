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
    enum CodingKeys: String, CodingKey {
        case target, alpha
        case persistenceMAE = "persistence_mae", modelMAE = "model_mae", blendedMAE = "blended_mae"
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
    public static func fitAndFold(model: TFTModel, builder: FeatureBuilder, series: [ServerSeries], windows: [WindowRef],
                                  encoderLength: Int, batchSize: Int, cancel: CancellationToken? = nil) throws -> [PersistenceBlend] {
        let cfg = model.config, nT = cfg.targets.count, Q = cfg.quantiles
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        let grid = (0...50).map { Double($0) / 50 }
        var err = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: nT)
        var n = 0
        let assembler = BatchAssembler(builder: builder, batchSize: batchSize, encoderLength: encoderLength)
        var i = 0
        while i < windows.count {
            if cancel?.isCancelled == true { throw TrainingError.cancelled }
            let chunk = windows[i..<min(windows.count, i + batchSize)]
            let batch = assembler.assemble(chunk, series: series, mode: .raw)
            let out = try model.forward(batch, include: [])
            let target = batch.target!, Td = batch.decoderLength
            for b in 0..<chunk.count {
                let norm = assembler.normalizations[b]
                for t in 0..<nT {
                    let c = Double(norm.center[t])
                    for k in 0..<Td {
                        let r = Double(target[(b * nT + t) * Td + k]) - c
                        let d = Double(out.value(sample: b, target: t, step: k, quantile: q50)) - c
                        for (g, a) in grid.enumerated() { err[t][g] += abs(r - a * d) }
                    }
                }
                n += Td
            }
            i += batchSize
        }
        guard n > 0 else { return [] }
        var alphas: [Double] = []
        var fits: [PersistenceBlend] = []
        for t in 0..<nT {
            let best = err[t].indices.min { err[t][$0] < err[t][$1] }!
            alphas.append(grid[best])
            fits.append(PersistenceBlend(target: cfg.targets[t], alpha: grid[best], persistenceMAE: err[t][0] / Double(n),
                                         modelMAE: err[t][grid.count - 1] / Double(n), blendedMAE: err[t][best] / Double(n)))
        }
        fold(model, alpha: alphas)
        return fits
    }
}
