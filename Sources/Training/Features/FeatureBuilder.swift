import Foundation
import TFTCore

/// A training/evaluation window: a view into a ``ServerSeries`` (never a copy). The encoder is steps
/// `start − encoderLength ..< start`, the decoder `start ..< start + horizon`.
public struct WindowRef: Sendable, Equatable, Hashable {
    public var series: Int32
    /// First decoder step (the step after the last observation).
    public var start: Int32
    public var encoderLength: Int32
    public init(series: Int, start: Int, encoderLength: Int) {
        self.series = Int32(series); self.start = Int32(start); self.encoderLength = Int32(encoderLength)
    }
}

/// Center and scale of every target of one window (feed units).
public struct WindowNormalization: Sendable, Equatable {
    public var center: [Float]
    public var scale: [Float]
}

/// How targets are written into a batch.
public enum TargetMode: Sendable {
    /// Training: targets and predictions in normalised units (`targetScale` = (0, 1)), so every target
    /// and server weighs the same in the loss.
    case normalised
    /// Forecasting/evaluation: `targetScale` = (center, scale), predictions and targets in feed units.
    case raw
}

/// The one place that turns series into model inputs (training, evaluation and the daemon's inference).
public struct FeatureBuilder: Sendable {
    public let spec: FeatureSpec
    public let config: TFTConfig
    let targetIdx: [Int]
    let knownIdx: [Int]   // index into FeatureSpec.knownFeatures for each known column

    public init(spec: FeatureSpec, config: TFTConfig) throws {
        try spec.validate()
        try config.validate()
        try spec.check(config)
        self.spec = spec
        self.config = config
        targetIdx = spec.targetMetricIndices
        knownIdx = spec.known.map { FeatureSpec.knownFeatures.firstIndex(of: $0)! }
    }

    /// Center and scale of every metric of a window (the normaliser rule of ``FeatureSpec``).
    public func normalization(_ s: ServerSeries, start t0: Int, encoderLength L: Int) -> (center: [Float], scale: [Float]) {
        let nM = spec.metrics.count
        var center = [Float](repeating: 0, count: nM), scale = [Float](repeating: 1, count: nM)
        let k = min(spec.centerSteps, L)
        s.values.withUnsafeBufferPointer { v in
            for m in 0..<nM {
                let p = v.baseAddress! + m * s.count + (t0 - L)
                var sum: Float = 0
                for i in 0..<L { sum += p[i] }
                let mean = sum / Float(L)
                var dev: Float = 0
                for i in 0..<L { dev += abs(p[i] - mean) }
                var c: Float = 0
                for i in (L - k)..<L { c += p[i] }
                center[m] = c / Float(k)
                scale[m] = max(spec.metrics[m].scaleFloor, 1.2533 * dev / Float(L))
            }
        }
        return (center, scale)
    }

    /// Writes sample `b` of a batch whose rows hold `Te + Td` steps. Decoder steps past the end of the
    /// series get calendar features only (the true future); targets are written when `target` is given and
    /// the series covers the decoder.
    @discardableResult
    func fillRow(_ b: Int, series s: ServerSeries, start t0: Int, encoderLength L: Int, Te: Int, Td: Int,
                 continuous: UnsafeMutablePointer<Float>, categorical: UnsafeMutablePointer<Int32>,
                 targetScale: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>?,
                 mode: TargetMode, targetWeights: [Float]? = nil) -> WindowNormalization {
        let nM = spec.metrics.count, nT = targetIdx.count, nK = knownIdx.count
        let nS = 2 * nT, nR = nS + nM + nK, T = Te + Td
        let (center, scale) = normalization(s, start: t0, encoderLength: L)
        let rowBase = continuous + b * T * nR
        rowBase.update(repeating: 0, count: T * nR)
        let catBase = categorical + b * T * 2
        catBase.update(repeating: 0, count: T * 2)
        // Static reals (repeated on every row, as pytorch-forecasting's collate does).
        var statics = [Float](repeating: 0, count: nS)
        for (j, m) in targetIdx.enumerated() {
            statics[2 * j] = center[m] / spec.metrics[m].reference
            statics[2 * j + 1] = log(scale[m] / spec.metrics[m].scaleFloor)
        }
        let clip = spec.inputClip
        let profile = Int32(s.profile.index)
        let step = Double(s.stepSeconds), maxEnc = Float(config.maxEncoderLength)
        s.values.withUnsafeBufferPointer { v in
            for row in 0..<T {
                let isEncoder = row < Te
                if isEncoder && row >= L { continue }   // right padding
                let i = isEncoder ? t0 - L + row : t0 + (row - Te)
                let r = rowBase + row * nR
                for j in 0..<nS { r[j] = statics[j] }
                catBase[row * 2] = profile
                if isEncoder {
                    for m in 0..<nM {
                        let x = (v[m * s.count + i] - center[m]) / scale[m]
                        r[nS + m] = min(clip, max(-clip, x))
                    }
                    catBase[row * 2 + 1] = Int32(s.status[i])
                }
                let epoch = s.startEpoch + Int64(i) * Int64(s.stepSeconds)
                let sod = Double(FleetTimestamp.secondOfDay(epoch)), wd = FleetTimestamp.weekday(epoch)
                let day = 2 * Double.pi * sod / 86_400
                let week = 2 * Double.pi * (Double(wd) + sod / 86_400) / 7
                for (c, kf) in knownIdx.enumerated() {
                    let value: Double
                    switch kf {
                    case 0: value = sin(day)
                    case 1: value = cos(day)
                    case 2: value = sin(week)
                    case 3: value = cos(week)
                    case 4: value = wd >= 5 ? 1 : 0
                    default: value = Double(i - t0) / Double(maxEnc)
                    }
                    r[nS + nM + c] = Float(value)
                }
                _ = step
            }
            for (j, m) in targetIdx.enumerated() {
                let ts = targetScale + (b * nT + j) * 2
                // Training: targetScale (0, w) with targets w·(y − center)/scale weighs target j by w in the
                // quantile loss (the network's normalised output is the same; w only scales output and target).
                let w: Float = mode == .normalised ? (targetWeights?[j] ?? 1) : 1
                switch mode {
                case .normalised: ts[0] = 0; ts[1] = w
                case .raw: ts[0] = center[m]; ts[1] = scale[m]
                }
                if let target {
                    let out = target + (b * nT + j) * Td
                    for k in 0..<Td {
                        let i = t0 + k
                        let y = i < s.count ? v[m * s.count + i] : center[m]
                        out[k] = mode == .normalised ? w * (y - center[m]) / scale[m] : y
                    }
                }
            }
        }
        return WindowNormalization(center: targetIdx.map { center[$0] }, scale: targetIdx.map { scale[$0] })
    }

    /// Clamps a forecast value of target `t` to the metric's physical range.
    public func clamp(_ value: Float, target t: Int) -> Float {
        let m = spec.metrics[targetIdx[t]]
        var v = max(m.lower, value)
        if let u = m.upper { v = min(u, v) }
        return v
    }
}

/// Assembles batches of windows into buffers it owns and reuses (allocated once per batch shape).
public final class BatchAssembler {
    public let builder: FeatureBuilder
    public let encoderLength: Int
    public let decoderLength: Int
    public private(set) var batch: TFTBatch
    public private(set) var normalizations: [WindowNormalization] = []
    /// Per-target loss weights for ``TargetMode/normalised`` batches (nil = all 1); see `Trainer`.
    public var targetWeights: [Float]? = nil

    public init(builder: FeatureBuilder, batchSize: Int, encoderLength: Int? = nil) {
        self.builder = builder
        let c = builder.config
        self.encoderLength = encoderLength ?? c.maxEncoderLength
        self.decoderLength = c.maxPredictionLength
        batch = TFTBatch(batchSize: 0, encoderLength: self.encoderLength, decoderLength: decoderLength,
                         continuous: [], categorical: [], encoderLengths: [], targetScale: [], target: [])
        resize(batchSize)
    }

    private func resize(_ B: Int) {
        guard B != batch.batchSize else { return }
        let c = builder.config, T = encoderLength + decoderLength, nT = c.targets.count
        batch.batchSize = B
        batch.continuous = [Float](repeating: 0, count: B * T * c.reals.count)
        batch.categorical = [Int32](repeating: 0, count: B * T * c.categoricals.count)
        batch.encoderLengths = [Int](repeating: 1, count: B)
        batch.targetScale = [Float](repeating: 0, count: B * nT * 2)
        batch.target = [Float](repeating: 0, count: B * nT * decoderLength)
        normalizations.reserveCapacity(B)
    }

    /// Fills the batch with `windows` (views into `series`) and returns it. The arrays are reused: the
    /// returned value shares storage with the assembler until the next call.
    public func assemble<C: Collection>(_ windows: C, series: [ServerSeries], mode: TargetMode,
                                        withTargets: Bool = true) -> TFTBatch where C.Element == WindowRef {
        resize(windows.count)
        normalizations.removeAll(keepingCapacity: true)
        let Te = encoderLength, Td = decoderLength
        var cont = batch.continuous, cat = batch.categorical, ts = batch.targetScale, tgt = batch.target ?? []
        batch.continuous = []; batch.categorical = []; batch.targetScale = []; batch.target = nil   // keep unique
        cont.withUnsafeMutableBufferPointer { cp in
        cat.withUnsafeMutableBufferPointer { kp in
        ts.withUnsafeMutableBufferPointer { sp in
        tgt.withUnsafeMutableBufferPointer { tp in
            for (b, w) in windows.enumerated() {
                let L = min(Int(w.encoderLength), Te)
                batch.encoderLengths[b] = L
                let n = builder.fillRow(b, series: series[Int(w.series)], start: Int(w.start), encoderLength: L,
                                        Te: Te, Td: Td, continuous: cp.baseAddress!, categorical: kp.baseAddress!,
                                        targetScale: sp.baseAddress!, target: withTargets ? tp.baseAddress! : nil,
                                        mode: mode, targetWeights: targetWeights)
                normalizations.append(n)
            }
        }}}}
        batch.continuous = cont; batch.categorical = cat; batch.targetScale = ts; batch.target = tgt
        var out = batch
        if !withTargets { out.target = nil }
        return out
    }
}

/// The model inputs for a live forecast of several servers, and what is needed to read the output.
public struct InferenceBatch: Sendable {
    public var batch: TFTBatch
    public var servers: [String]
    /// UTC seconds of each server's first forecast step (last observation + one step).
    public var firstForecastEpoch: [Int64]
    public var normalizations: [WindowNormalization]
}

/// One server's forecast: per target, `quantiles × horizon` values in feed units, clamped to the metric's range.
public struct ServerForecast: Sendable {
    public var serverName: String
    public var firstEpoch: Int64
    public var stepSeconds: Int
    public var quantiles: [Float]
    /// target name → `[quantile][step]`.
    public var values: [String: [[Float]]]
    /// target name → what risk and alerts grade, where calibration serves a median other than the model's:
    /// the union band (the band around the served median spanning the same band around the model's) with the
    /// model's own median in the middle (``BandCalibration/update(lastStep:actual:forecast:quantiles:shrinkMedian:range:model:riskBand:)``).
    /// The model's trajectory is the early warning; responses serve the chosen median and its band.
    public var riskBands: [String: [[Float]]] = [:]

    public init(serverName: String, firstEpoch: Int64, stepSeconds: Int, quantiles: [Float], values: [String: [[Float]]]) {
        self.serverName = serverName; self.firstEpoch = firstEpoch; self.stepSeconds = stepSeconds
        self.quantiles = quantiles; self.values = values
    }

    /// What risk grades for `target`: ``riskBands`` where calibration keeps one, else the served quantiles;
    /// nil when the target was not forecast.
    public func riskValues(_ target: String) -> [[Float]]? { riskBands[target] ?? values[target] }
}

extension FeatureBuilder {
    /// Inputs for forecasting the **true future** of each window: the encoder is the window's last
    /// `min(count, maxEncoderLength)` steps; the decoder rows are the next `horizon` steps after the last
    /// observation and carry known calendar features only. Windows shorter than the spec's
    /// `min_encoder_length` are refused (the daemon keeps those servers in warm-up).
    public func inferenceBatch(for windows: [ServerWindow]) throws -> InferenceBatch {
        guard !windows.isEmpty else { throw TrainingError.invalidInput("no windows") }
        var series: [ServerSeries] = []
        var refs: [WindowRef] = []
        for w in windows {
            guard w.count >= spec.minEncoderLength else {
                throw TrainingError.insufficientData("server \(w.serverName) has \(w.count) steps; the model needs at least \(spec.minEncoderLength) (\(spec.minEncoderLength * spec.stepSeconds / 60) min)")
            }
            let s = try spec.series(from: w)
            refs.append(WindowRef(series: series.count, start: s.count, encoderLength: min(s.count, config.maxEncoderLength)))
            series.append(s)
        }
        let Te = refs.map { Int($0.encoderLength) }.max()!
        let assembler = BatchAssembler(builder: self, batchSize: refs.count, encoderLength: Te)
        let batch = assembler.assemble(refs, series: series, mode: .raw, withTargets: false)
        return InferenceBatch(batch: batch, servers: windows.map(\.serverName),
                              firstForecastEpoch: series.map { $0.epoch(ofStep: $0.count) },
                              normalizations: assembler.normalizations)
    }

    /// Reads a forward pass of ``inferenceBatch(for:)`` into per-server forecasts (feed units, clamped).
    public func forecasts(_ output: TFTOutput, for input: InferenceBatch) -> [ServerForecast] {
        let Q = output.quantiles.count, Td = output.decoderLength
        return input.servers.enumerated().map { b, name in
            var values: [String: [[Float]]] = [:]
            for (t, target) in spec.targets.enumerated() {
                values[target] = (0..<Q).map { q in
                    (0..<Td).map { k in clamp(output.value(sample: b, target: t, step: k, quantile: q), target: t) }
                }
            }
            return ServerForecast(serverName: name, firstEpoch: input.firstForecastEpoch[b], stepSeconds: spec.stepSeconds,
                                  quantiles: output.quantiles, values: values)
        }
    }
}
