import Foundation
import TFTCore

/// The feed's 14 numeric metrics, in the order of `POST /feed/data` (spec/argus-api.md). A
/// ``ServerWindow`` carries them metric-major in this order — the same order as the daemon's ring buffer.
public enum FeedMetric: Int, CaseIterable, Sendable {
    case cpuUserPct, cpuSysPct, cpuIowaitPct, cpuIdlePct, javaCpuPct, memUsedPct, swapUsedPct, diskUsagePct
    case netInMBs, netOutMBs, backCloseWait, frontCloseWait, loadAverage, uptimeDays

    public static let count = 14
    public static let names: [String] = [
        "cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct", "java_cpu_pct", "mem_used_pct",
        "swap_used_pct", "disk_usage_pct", "net_in_mb_s", "net_out_mb_s", "back_close_wait", "front_close_wait",
        "load_average", "uptime_days",
    ]
    public var name: String { FeedMetric.names[rawValue] }
}

/// How one model metric is derived from the feed and normalised.
public struct MetricFeature: Codable, Sendable, Equatable {
    /// Name in the model (`cpu_pct`, `mem_used_pct`, ...). Targets use the same name.
    public var name: String
    /// Feed field it is read from.
    public var source: String
    /// `identity` (the field as is) or `complement100` (100 − field: CPU busy from `cpu_idle_pct`).
    public var transform: String
    /// Smallest scale the normaliser may use (feed units). Keeps flat series from exploding.
    public var scaleFloor: Float
    /// Fixed reference that divides the center when it is fed as a static real.
    public var reference: Float
    /// Lowest and highest physically possible value (forecasts are clamped to this range).
    public var lower: Float
    public var upper: Float?

    public init(name: String, source: String, transform: String = "identity", scaleFloor: Float, reference: Float,
                lower: Float = 0, upper: Float? = nil) {
        self.name = name; self.source = source; self.transform = transform; self.scaleFloor = scaleFloor
        self.reference = reference; self.lower = lower; self.upper = upper
    }

    enum CodingKeys: String, CodingKey {
        case name, source, transform, reference, lower, upper
        case scaleFloor = "scale_floor"
    }
}

/// Everything that turns a server's series into model inputs: the metric list and order, targets,
/// known calendar features, categoricals and the normaliser rule with its constants. Stored as the model
/// folder's `normalizers.json`; training and the daemon's live inference both build inputs from it
/// through ``FeatureBuilder`` (one code path).
///
/// **Normaliser rule** (per window, per metric m, encoder steps e₁…e_L, L ≥ 1):
/// - `center_m = mean(last min(centerSteps, L) encoder values)` — the recent level, "now";
/// - `scale_m = max(scaleFloor_m, 1.2533 · mean|e_i − mean(e)|)` over the whole encoder (mean absolute
///   deviation, ×√(π/2) so it equals σ for Gaussian noise);
/// - inputs: `(x − center_m) / scale_m`, clipped to ±``inputClip``; targets: `(y − center)/scale`;
///   predictions: `ŷ · scale + center`, clamped to the metric's physical range;
/// - static reals per target: `<t>_center = center / reference_t`, `<t>_scale = ln(scale / scaleFloor_t)`.
/// The model therefore forecasts deviations from the last level it saw, in units of the window's own
/// variability: a zero forecast *is* persistence, so the model starts where persistence is and only
/// moves away from it when the data pays for it.
public struct FeatureSpec: Codable, Sendable, Equatable {
    public var version: Int = 1
    /// Unknown (observed) metrics, in the order of the model's encoder reals.
    public var metrics: [MetricFeature]
    /// Names of the forecast targets (a subset of ``metrics``), in output order.
    public var targets: [String]
    /// Known calendar features, in order (each is computed from the step's UTC time).
    public var known: [String]
    /// Encoder steps averaged for the center.
    public var centerSteps: Int
    /// Normalised inputs are clipped to ±inputClip (offline zeros, restarts).
    public var inputClip: Float
    /// Smallest encoder a window may have (steps); shorter series are not forecast.
    public var minEncoderLength: Int
    public var stepSeconds: Int
    public var rule: String

    enum CodingKeys: String, CodingKey {
        case version, metrics, targets, known, rule
        case centerSteps = "center_steps", inputClip = "input_clip", minEncoderLength = "min_encoder_length"
        case stepSeconds = "step_seconds"
    }

    public static let ruleText = "center = mean of the last center_steps encoder values; scale = max(scale_floor, 1.2533 * mean absolute deviation of the encoder values); input = clip((x - center) / scale, ±input_clip); target = (y - center) / scale; prediction = yhat * scale + center clamped to [lower, upper]; static reals <t>_center = center / reference, <t>_scale = ln(scale / scale_floor)"

    public static let knownFeatures = ["hour_sin", "hour_cos", "dow_sin", "dow_cos", "is_weekend", "relative_time_idx"]

    /// Argus's default features: six targets a risk score needs plus network and back-end CLOSE_WAIT.
    public static let standard = FeatureSpec(
        metrics: [
            MetricFeature(name: "cpu_pct", source: "cpu_idle_pct", transform: "complement100", scaleFloor: 1, reference: 100, upper: 100),
            MetricFeature(name: "mem_used_pct", source: "mem_used_pct", scaleFloor: 0.5, reference: 100, upper: 100),
            MetricFeature(name: "cpu_iowait_pct", source: "cpu_iowait_pct", scaleFloor: 0.5, reference: 100, upper: 100),
            MetricFeature(name: "swap_used_pct", source: "swap_used_pct", scaleFloor: 0.5, reference: 100, upper: 100),
            MetricFeature(name: "disk_usage_pct", source: "disk_usage_pct", scaleFloor: 0.25, reference: 100, upper: 100),
            MetricFeature(name: "load_average", source: "load_average", scaleFloor: 0.1, reference: 10),
            MetricFeature(name: "net_in_mb_s", source: "net_in_mb_s", scaleFloor: 1, reference: 100),
            MetricFeature(name: "net_out_mb_s", source: "net_out_mb_s", scaleFloor: 1, reference: 100),
            MetricFeature(name: "back_close_wait", source: "back_close_wait", scaleFloor: 1, reference: 20),
        ],
        targets: ["cpu_pct", "mem_used_pct", "cpu_iowait_pct", "swap_used_pct", "disk_usage_pct", "load_average"],
        known: knownFeatures, centerSteps: 1, inputClip: 30, minEncoderLength: 36, stepSeconds: 300,
        rule: ruleText)

    public init(metrics: [MetricFeature], targets: [String], known: [String], centerSteps: Int, inputClip: Float,
                minEncoderLength: Int, stepSeconds: Int, rule: String = FeatureSpec.ruleText) {
        self.metrics = metrics; self.targets = targets; self.known = known; self.centerSteps = centerSteps
        self.inputClip = inputClip; self.minEncoderLength = minEncoderLength; self.stepSeconds = stepSeconds
        self.rule = rule
    }

    /// Index of each target in ``metrics``.
    public var targetMetricIndices: [Int] { targets.map { t in metrics.firstIndex { $0.name == t }! } }

    /// Static reals, in order: `<target>_center`, `<target>_scale` for each target.
    public var staticReals: [String] { targets.flatMap { ["\($0)_center", "\($0)_scale"] } }

    /// Column order of the continuous tensor: static reals, metrics, known features.
    public var reals: [String] { staticReals + metrics.map(\.name) + known }

    public static let categoricals = ["profile", "status"]

    /// Checks internal consistency; throws naming the problem.
    public func validate() throws {
        func fail(_ p: String) -> TrainingError { .invalidFeatures(p) }
        guard !metrics.isEmpty else { throw fail("no metrics") }
        guard Set(metrics.map(\.name)).count == metrics.count else { throw fail("duplicate metric names") }
        for m in metrics {
            guard FeedMetric.names.contains(m.source) else { throw fail("metric \(m.name): unknown feed field \(m.source)") }
            guard m.transform == "identity" || m.transform == "complement100" else { throw fail("metric \(m.name): unknown transform \(m.transform)") }
            guard m.scaleFloor > 0, m.reference > 0 else { throw fail("metric \(m.name): scale_floor and reference must be positive") }
        }
        guard !targets.isEmpty else { throw fail("no targets") }
        for t in targets where !metrics.contains(where: { $0.name == t }) { throw fail("target \(t) is not a metric") }
        for k in known where !FeatureSpec.knownFeatures.contains(k) { throw fail("unknown known feature \(k)") }
        guard !known.isEmpty else { throw fail("the decoder needs at least one known feature") }
        guard centerSteps >= 1, inputClip > 0, minEncoderLength >= 1, stepSeconds >= 1 else {
            throw fail("center_steps, input_clip, min_encoder_length and step_seconds must be positive")
        }
    }

    /// A TFT config whose inputs are this spec's features.
    public func makeConfig(hiddenSize: Int = 32, attentionHeads: Int = 4, hiddenContinuousSize: Int = 8,
                           dropout: Float = 0.1, encoderLength: Int = 288, predictionLength: Int = 96,
                           quantiles: [Float] = TFTConfig.defaultQuantiles,
                           profileEmbedding: Int = 4, statusEmbedding: Int = 4) -> TFTConfig {
        TFTConfig(
            hiddenSize: hiddenSize, attentionHeads: attentionHeads, hiddenContinuousSize: hiddenContinuousSize,
            dropout: dropout, quantiles: quantiles, targets: targets,
            maxEncoderLength: encoderLength, maxPredictionLength: predictionLength,
            reals: reals, categoricals: FeatureSpec.categoricals,
            staticCategoricals: ["profile"], staticReals: staticReals,
            encoderCategoricals: ["status"], encoderReals: metrics.map(\.name) + known,
            decoderCategoricals: [], decoderReals: known,
            embeddingSizes: ["profile": .init(cardinality: ServerProfile.count, dimension: profileEmbedding),
                             "status": .init(cardinality: ServerStatus.count, dimension: statusEmbedding)],
            stepSeconds: stepSeconds)
    }

    /// Throws unless `config` takes exactly this spec's inputs in this order.
    public func check(_ config: TFTConfig) throws {
        func fail(_ p: String) -> TrainingError { .invalidFeatures("model config does not match normalizers.json: \(p)") }
        guard config.targets == targets else { throw fail("targets \(config.targets) vs \(targets)") }
        guard config.reals == reals else { throw fail("x_reals differ") }
        guard config.categoricals == FeatureSpec.categoricals else { throw fail("x_categoricals differ") }
        guard config.staticReals == staticReals, config.staticCategoricals == ["profile"] else { throw fail("static inputs differ") }
        guard config.encoderReals == metrics.map(\.name) + known, config.encoderCategoricals == ["status"] else { throw fail("encoder inputs differ") }
        guard config.decoderReals == known, config.decoderCategoricals.isEmpty else { throw fail("decoder inputs differ") }
        if let s = config.stepSeconds, s != stepSeconds { throw fail("step_seconds \(s) vs \(stepSeconds)") }
    }
}

/// Errors of the training library. Every case says what is wrong and, where it applies, what is needed.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidFeatures(String)
    case invalidInput(String)
    case insufficientData(String)
    case malformedLine(line: Int, reason: String)
    case cancelled
    case modelFolder(file: String, problem: String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidFeatures(let p): "features: \(p)"
        case .invalidInput(let p): "invalid input: \(p)"
        case .insufficientData(let p): "not enough data: \(p)"
        case .malformedLine(let line, let reason): "line \(line): \(reason)"
        case .cancelled: "training was cancelled"
        case .modelFolder(let file, let problem): "model folder: \(file): \(problem)"
        case .io(let p): p
        }
    }
}
