import Foundation

/// Online calibration of one series' forecasts from its own recent errors: which median to serve and the
/// bands' width (adaptive conformal inference, Gibbs & Candès 2021), one choice of each per scored horizon.
///
/// **Median selection** (an online choice among simple forecasters next to the model): a candidate median
/// is either the model's median shrunk toward the last value, `last + α · (P50 − last)` with α ∈
/// ``shrinkCandidates`` (α = 1: the model as it is, the choice until scores say otherwise; α = 0:
/// persistence), or one of the other ``MedianAnchor``s as it is: three exponentially smoothed levels (fast,
/// medium, slow: simple exponential smoothing) or the median of the last ``medianWindow`` values (the robust
/// level of a bursty series, which still follows a level shift once it has lasted half the window), or a
/// damped trend from the last value (Holt's forecast: the running one-step change, ``trendRate``, carried
/// ahead with damping ``trendDamping``; the momentum of a smoothed metric such as the load average).
/// For each scored horizon the recent
/// mean absolute error (EWMA, weight ``shrinkDecays``: longer memory for longer horizons, whose errors are
/// strongly correlated from one step to the next) of every candidate is kept, and the lowest wins; at 2 h and
/// 8 h (from ``scaledHorizonsFrom``) each error enters that memory divided by the series' running mean
/// one-step change (``spread``), so a quiet present weighs as much as a busy past in the choice; the
/// forecast's quantiles are all shifted so its P50 becomes the winner (interpolated between horizons like
/// the factors). A series where the model's departures do not pay gets persistence or a level, one where
/// they pay keeps them; the real-data benchmark (models/README.md) measures the choice.
///
/// **Persistence guard** at every horizon, the last value being the forecast to beat: persistence is served
/// unless the short memory's winner also beats it by ``guardMargin`` over the guard's memory (``guardDecay``,
/// about a day of steps) of this series' errors. At 5 and 30 minutes a winner of the last hour alone is too
/// often the previous regime's (a build that just started or stopped); at 8 hours, where the short memory is
/// days long, the guard asks the winner to hold over the last day too. A fresh series serves persistence
/// until a candidate has proven itself on both memories.
///
/// Every tick: ``observe(step:actual:)`` moves the levels and scores the forecasts issued `h` steps earlier
/// for the step that just closed (P10/P50/P90 kept for each of ``horizons``), then the new forecast is
/// shifted to the chosen median, kept for scoring later, and its quantiles are widened or narrowed around
/// its P50 by the factors — ``update(lastStep:actual:forecast:quantiles:shrinkMedian:range:)``, one pass.
/// Users are served the band around the chosen median. Risk and alerts grade, where the chosen median is not
/// the model's, the union of that band with the same band around the model's median
/// (``ServerForecast/riskValues(_:)``): the tails keep the model's forecast rise or fall (the alert
/// evaluation lost most of its critical lead when the whole band moved with the median). Until 2026-12-07 the
/// users' band was that union too, which over-covered wherever the two medians parted (models/README.md).
/// A forecast is inside the raw band if the actual value fell within the P10–P90 around its served P50 at
/// factor 1; a miss is a value outside the served band (at the factor it used). Each score
/// moves `ln factor` by `rate · (miss − 0.2)`: the long-run miss rate of the served band goes to 0.2
/// (coverage 0.8) whatever the model's noise assumption was, within factors 1/32 … 32. The rate starts at
/// ``rate`` and falls to ``rateFloor`` as the series' scores accumulate (``adaptiveRate(scores:)``). Each score also
/// moves the served median's own error memory (``servedErrors``): next to the last value's, the series' live skill
/// (``errorVsLastValue``), which `/predictions/calibration` and the dashboard report. Cost per series per
/// tick: 10 candidates' errors into two memories per scored horizon, a multiply-add per served value and one
/// value in and out of the median's sorted window; memory: 192 pending forecasts and twice 48 values.
public struct BandCalibration: Codable, Sendable, Equatable {
    /// The scored horizons (steps): every factor and median choice is fitted here and interpolated in `ln k`
    /// between them. Seven since 2026-12-07 (four before, ``reportedHorizons``): the steps between 5 min, 30 min,
    /// 2 h and 8 h are calibrated too, so the band around the chosen median can be served on its own
    /// (models/README.md, "Seven horizons"). 13 and 49 rather than 12 and 48: off the 30-minute grid. A quarter
    /// of the real series repeat every 30 or 60 minutes (cron), and at a multiple of the period the last value
    /// is in phase, right there and wrong in between: with 12 and 48 the bands between were too narrow
    /// (coverage 0.33 on one AWS series; the 12 AWS series' pinball loss 4 % higher).
    public static let horizons = [1, 3, 6, 13, 24, 49, 96]
    /// The horizons the API, `/metrics` and the dashboard report (5 min, 30 min, 2 h, 8 h at 5-minute steps), and
    /// the ones a state saved before the seven horizons was scored at.
    public static let reportedHorizons = [1, 6, 24, 96]
    /// Index in ``horizons`` of each of ``reportedHorizons``.
    public static let reportedIndices = reportedHorizons.map { horizons.firstIndex(of: $0)! }
    public static let targetCoverage: Float = 0.8
    /// The width factor's adaptive rate: ``rate`` for a new series, falling as `rate · n₀ / (n₀ + n)` with `n`
    /// scores per horizon (``rateScores`` = n₀) to ``rateFloor``, reached after 300. A fixed 0.05 (until
    /// 2026-12-06) let `ln factor` swing by ±0.5 around its level: bands too wide half the time and too
    /// narrow the other half. Settled at ¼ of it, the pinball loss fell 1–16 % on every real-data set at the
    /// same coverage, while a new server still finds its width within a day (models/README.md, "Adaptive rate").
    public static let rate: Float = 0.05
    public static let rateFloor: Float = 0.0125
    public static let rateScores = 100
    /// Bounds of `ln factor`, symmetric: the miss rate goes to 0.2 only while the factor is free to move, and a
    /// floor of ¼ (until 2026-12-05) held quantised idle series at 0.98 coverage (models/README.md).
    public static let logFactorRange: ClosedRange<Float> = log(1.0 / 32)...log(32)

    /// What a served median is built on: the last value (with the model's departure from it, shrunk), a
    /// level, or the last value plus a damped trend.
    public enum MedianAnchor: Int, CaseIterable, Sendable {
        case last, fastLevel, level, slowLevel, runningMedian, dampedTrend

        public var name: String {
            switch self {
            case .last: "last_value"
            case .fastLevel: "fast_level"
            case .level: "level"
            case .slowLevel: "slow_level"
            case .runningMedian: "running_median"
            case .dampedTrend: "damped_trend"
            }
        }
    }
    /// Smoothing weights of the fast, medium and slow levels (per step).
    public static let levelRates: SIMD3<Float> = [0.5, 0.2, 0.05]
    /// Values the rolling median is taken over: 4 hours of 5-minute steps. A burst moves it only once it
    /// has lasted 2 hours (half the window); a level shift is followed after 2 hours.
    public static let medianWindow = 48

    /// `ln` of the width factor per horizon in ``horizons``: of the band around the chosen median.
    public var logFactors: [Float]
    /// `ln` of the width factor of the **union band** per horizon: the band around the chosen median spanning the
    /// same band around the model's median (what risk and alerts grade; what users were served until 2026-12-07).
    /// Calibrated by its own misses like ``logFactors``; the two are equal wherever the median is the model's.
    public var unionLogFactors: [Float]
    /// Per horizon: the recent interval score (at 80 %: the width, plus 10 × the distance of a value outside) of
    /// the band around the chosen median and of the union band (lanes 0 and 1), each at its own factor (EWMA,
    /// weight ``guardDecay``: about a day; in the units of ``shrinkErrors``). The lower one is served
    /// (``servesUnion``): the union where the model's median, though not chosen, still marks where values go (a
    /// fine-tuned model: the served pinball loss on the AWS series rose 5 % without it), the chosen median's
    /// own band where the model's median is far off (zero-shot on a quiet series: the union over-covered).
    public internal(set) var bandScores: [SIMD2<Float>]
    public static let shrinkCandidates: [Float] = [0, 0.25, 0.5, 0.75, 1]
    /// Candidate medians per horizon: the shrunk model per α (in ``shrinkCandidates`` order), each level,
    /// then the damped trend.
    public static let candidateCount = shrinkCandidates.count + MedianAnchor.allCases.count - 1
    /// Index of the damped trend among the candidates (the last; a state saved before it had one fewer).
    public static let trendCandidate = candidateCount - 1
    /// EWMA weight of ``slope`` (per step) and the damping of the trend: `k` steps ahead the trend adds
    /// `slope · (φ + φ² + … + φᵏ)`, at most 4 × the slope for φ = 0.8. On recorded load averages (a smoothed
    /// metric) it cut the 30-minute error by 10–37 % on seven of nine (one unchanged, one 0.5 % worse); the
    /// guard never let it be chosen on the 13 real 5-minute series (models/README.md, "A damped trend").
    public static let trendRate: Float = 0.5
    public static let trendDamping: Float = 0.8
    /// The damped trend is a candidate at the first this-many horizons (5 min … 2 h). At 8 h its offset
    /// (at most 4 × a 5-minute slope) is noise next to the error: chosen there by chance, it cost 5 % on a
    /// recording's load average (models/README.md, "A damped trend").
    public static let trendHorizons = 5
    /// Running mean signed one-step change of the observed values (0 before the second): the trend's slope.
    public internal(set) var slope: Float = 0
    /// The model as it is (α = 1): the choice while no candidate has scored better.
    public static let modelCandidate = shrinkCandidates.count - 1
    /// EWMA weight of the candidates' errors per horizon in ``horizons``.
    public static let shrinkDecays: [Float] = [0.05, 0.05, 0.05, 0.01, 0.005, 0.002, 0.001]
    /// Per horizon, per candidate (``candidateCount``): recent mean absolute error of that median (from
    /// ``scaledHorizonsFrom`` on, in units of the ``spread`` at each scoring).
    public var shrinkErrors: [[Float]]
    /// The first horizon index (2 h) whose errors are scored in units of the running one-step change: a
    /// busy regime's large errors no longer outvote a quiet one's at the horizons with the longest memory
    /// (on recording e, busy history and quiet scored part, 8 h went 5.31 -> 3.83; models/README.md).
    public static let scaledHorizonsFrom = 4
    /// EWMA weight of ``spread``, and its floor when scaling (feed units: a flat series must not divide by 0).
    public static let spreadRate: Float = 0.05
    public static let spreadFloor: Float = 1e-4
    /// Running mean absolute one-step change of the observed values (0 before the second).
    public internal(set) var spread: Float = 0
    /// Every horizon is guarded (since 2026-12-06; 5 and 30 minutes only before): persistence is served unless
    /// the winner also beats it over the guard's memory. A saved state had this many rows of guard errors, or
    /// one per reported horizon (before the seven horizons), or 2 (before every horizon was guarded).
    public static let guardedHorizons = horizons.count
    /// EWMA weight of the guard's memory, and how much lower (relative) the winner's error must be there.
    public static let guardDecay: Float = 0.005
    public static let guardMargin: Float = 0.05
    /// Per guarded horizon, per candidate: mean absolute error over the guard's memory (in the units of
    /// ``shrinkErrors``).
    public var guardErrors: [[Float]]
    /// Index of persistence (the model shrunk all the way to the last value, α = 0) among the candidates.
    public static let persistenceCandidate = 0
    /// Per horizon: the served median's mean absolute error over the guard's memory (about a day), in the units
    /// of ``guardErrors``. Next to the last value's error there it is this series' live skill
    /// (``errorVsLastValue``): what issue 11's benchmark measures offline, on the user's own fleet. A SIMD8, one
    /// lane per scored horizon (the eighth unused): moved at every score, it must not cost an array's uniqueness check.
    public internal(set) var servedErrors = SIMD8<Float>(repeating: 0)
    /// Fast, medium and slow smoothed levels and the rolling median of the observed values (NaN before the first).
    public var levels = SIMD4<Float>(repeating: .nan)
    /// The newest step whose value moved the levels (a tick without a new step must not move them twice,
    /// nor the first tick after a restart, which sees the same newest step again: persisted).
    public internal(set) var levelStep: Int64 = .min
    /// The last ``medianWindow`` observed values, oldest first (persisted), and the same values sorted.
    public internal(set) var recent: [Float] = []
    var recentSorted: [Float] = []
    /// Forecasts scored, inside the raw band, inside the served (calibrated) band.
    public var scored = 0
    public var insideRaw = 0
    public var insideServed = 0
    /// The model whose forecasts this series was last calibrated for (nil before the first, or when the caller
    /// does not name it), and that forecast's raw P10–P90 width per horizon in ``horizons`` (NaN before
    /// the first). A factor fits one model's bands: when another model's forecast arrives (a fine-tune or a
    /// reload swapped in), each factor is moved by the ratio of the two raw widths, so the served band keeps
    /// its width across the swap and adapts from there (a fine-tune's narrower raw bands under the previous
    /// model's factors covered 0.745 on the AWS series; models/README.md, "Width handover").
    public internal(set) var model: String?
    public internal(set) var rawWidths = [Float](repeating: .nan, count: horizons.count)

    /// A forecast kept for scoring: the shifted band, and what every candidate median is made of.
    struct Pending: Sendable, Equatable {
        var due: Int64 = .min
        var low: Float = 0, mid: Float = 0, high: Float = 0
        var rawMid: Float = 0, last: Float = 0
        /// The damped trend's offset from the last value at the scored step.
        var trend: Float = 0
        /// The levels when the forecast was issued (the anchors other than the last value).
        var levels = SIMD4<Float>(repeating: 0)
        /// The width factors of the chosen median's band and of the union band at this step (ACI scores each
        /// band's misses against its own), and which of the two was served.
        var factor: Float = 1, unionFactor: Float = 1
        var union = false
    }
    /// Per horizon `h`, a ring of `h` slots indexed by `due mod h` (not persisted: a restart only delays scoring).
    var pending: [[Pending]]

    enum CodingKeys: String, CodingKey {
        case logFactors = "log_factors", shrinkErrors = "shrink_errors", scored, insideRaw = "inside_raw", insideServed = "inside_served"
        case levels, recent, levelStep = "level_step", guardErrors = "guard_errors", spread, slope
        case model, rawWidths = "raw_widths", servedErrors = "served_errors"
        case unionLogFactors = "union_log_factors", bandScores = "band_scores"
    }

    public init() {
        logFactors = [Float](repeating: 0, count: Self.horizons.count)
        unionLogFactors = logFactors
        bandScores = [SIMD2<Float>](repeating: .zero, count: Self.horizons.count)
        shrinkErrors = Self.horizons.map { _ in [Float](repeating: 0, count: Self.candidateCount) }
        guardErrors = (0..<Self.guardedHorizons).map { _ in [Float](repeating: 0, count: Self.candidateCount) }
        pending = Self.horizons.map { [Pending](repeating: Pending(), count: $0) }
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        restoreLogFactors(try c.decode([Float].self, forKey: .logFactors),
                          union: try c.decodeIfPresent([Float].self, forKey: .unionLogFactors))
        restoreBandScores(try c.decodeIfPresent([[Float]].self, forKey: .bandScores) ?? [])
        if let errors = try c.decodeIfPresent([[Float]].self, forKey: .shrinkErrors) { restoreErrors(errors) }
        if let errors = try c.decodeIfPresent([[Float]].self, forKey: .guardErrors) { restoreGuardErrors(errors) }
        if let values = try c.decodeIfPresent([Float].self, forKey: .levels) {
            restoreLevels(values, step: try c.decodeIfPresent(Int64.self, forKey: .levelStep),
                          recent: try c.decodeIfPresent([Float].self, forKey: .recent) ?? [])
        }
        let spread = try c.decodeIfPresent(Float.self, forKey: .spread)
        restoreSpread(spread ?? 0, errorsScaled: spread != nil)
        restoreSlope(try c.decodeIfPresent(Float.self, forKey: .slope))
        restoreWidths(try c.decodeIfPresent([Float?].self, forKey: .rawWidths) ?? [], model: try c.decodeIfPresent(String.self, forKey: .model))
        restoreServedErrors(try c.decodeIfPresent([Float].self, forKey: .servedErrors))
        scored = try c.decode(Int.self, forKey: .scored)
        insideRaw = try c.decode(Int.self, forKey: .insideRaw)
        insideServed = try c.decode(Int.self, forKey: .insideServed)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(logFactors, forKey: .logFactors)
        try c.encode(unionLogFactors, forKey: .unionLogFactors)
        try c.encode(bandScores.map { [$0[0], $0[1]] }, forKey: .bandScores)
        try c.encode(shrinkErrors, forKey: .shrinkErrors)
        try c.encode(guardErrors, forKey: .guardErrors)
        // NaN (nothing observed yet) has no JSON form: the levels are left out until there is a value.
        if !levels[3].isNaN { try c.encode((0..<4).map { levels[$0] }, forKey: .levels) }
        if levelStep != .min { try c.encode(levelStep, forKey: .levelStep) }
        if !recent.isEmpty { try c.encode(recent, forKey: .recent) }
        try c.encode(spread, forKey: .spread)
        try c.encode(slope, forKey: .slope)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encode(rawWidths.map { $0.isFinite ? $0 : nil }, forKey: .rawWidths)      // JSON has no NaN
        try c.encode(Self.horizons.indices.map { servedErrors[$0] }, forKey: .servedErrors)
        try c.encode(scored, forKey: .scored)
        try c.encode(insideRaw, forKey: .insideRaw)
        try c.encode(insideServed, forKey: .insideServed)
    }

    /// Takes persisted `ln` width factors, one per scored horizon, or one per reported horizon as saved before
    /// the seven horizons (the steps between get what was served there: the factor interpolated in `ln k`), and
    /// the union band's (a state saved before they were apart: the same, which were the union's).
    public mutating func restoreLogFactors(_ saved: [Float], union: [Float]? = nil) {
        if let factors = Self.perHorizonInterpolated(saved) { logFactors = factors.map(Self.clampedLog) }
        unionLogFactors = union.flatMap { Self.perHorizonInterpolated($0) }.map { $0.map(Self.clampedLog) } ?? logFactors
    }

    /// Takes the persisted band scores (one pair per scored horizon; anything else starts both at 0: the band
    /// around the chosen median is served until the union has scored better).
    public mutating func restoreBandScores(_ saved: [[Float]]) {
        guard saved.count == Self.horizons.count, saved.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isFinite) }) else { return }
        bandScores = saved.map { SIMD2($0[0], $0[1]) }
    }

    /// Whether the union band is served at scored horizon `i` (its recent interval score is the lower).
    @inline(__always)
    public func servesUnion(at i: Int) -> Bool { bandScores[i][1] < bandScores[i][0] }

    /// Per scored horizon: ``servesUnion(at:)``.
    public var servesUnion: [Bool] { Self.horizons.indices.map(servesUnion(at:)) }

    /// Per reported horizon: the band served, `chosen_median` (its own band) or `union`.
    public var servedBands: [String] { Self.reportedIndices.map { servesUnion(at: $0) ? "union" : "chosen_median" } }

    /// `ln factor` held within ``logFactorRange``.
    @inline(__always)
    static func clampedLog(_ value: Float) -> Float { min(max(value, logFactorRange.lowerBound), logFactorRange.upperBound) }

    /// The interval score of a central 80 % band `low…high` for `actual` (Gneiting & Raftery 2007): its width
    /// plus 2 / 0.2 times the distance of a value outside. Lower is better; it rewards coverage and narrowness.
    @inline(__always)
    static func intervalScore(low: Float, high: Float, actual: Float) -> Float {
        let outside = max(low - actual, 0) + max(actual - high, 0)
        return (high - low) + 2 / (1 - targetCoverage) * outside
    }

    /// `saved` as one value per scored horizon: as it is, or, saved at the ``reportedHorizons`` (before the seven
    /// horizons), each horizon between them taking the value of the reported horizon below it (errors: 1 h must
    /// not take 2 h's, which is in units of the spread); nil for any other count.
    static func perHorizon<T>(_ saved: [T]) -> [T]? {
        if saved.count == horizons.count { return saved }
        guard saved.count == reportedHorizons.count else { return nil }
        return horizons.map { h in saved[reportedHorizons.lastIndex { $0 <= h }!] }
    }

    /// The same for factors and widths, interpolated in `ln k` between the reported horizons (what was served).
    static func perHorizonInterpolated(_ saved: [Float]) -> [Float]? {
        if saved.count == horizons.count { return saved }
        guard saved.count == reportedHorizons.count else { return nil }
        return horizons.map { interpolate(saved, step: $0, over: reportedHorizons) }
    }

    /// Takes persisted candidate errors if they have today's shape (an older candidate set starts afresh).
    /// A state saved before the damped trend gives it the largest error of its row: it is chosen only once
    /// its own scores have proven it.
    public mutating func restoreErrors(_ errors: [[Float]]) {
        if let rows = Self.withTrendColumn(errors), let all = Self.perHorizon(rows) { shrinkErrors = all }
    }

    /// `rows` with today's candidate count: as they are, or, saved before the damped trend, with each row's
    /// largest error appended for it; nil for any other shape.
    static func withTrendColumn(_ rows: [[Float]]) -> [[Float]]? {
        if rows.allSatisfy({ $0.count == candidateCount }) { return rows }
        guard rows.allSatisfy({ $0.count == candidateCount - 1 }) else { return nil }
        return rows.map { $0 + [$0.max() ?? 0] }
    }

    /// Takes persisted guard errors if they have today's shape (after the short memory's errors). A state
    /// saved when only 5 and 30 minutes were guarded keeps those rows and starts the others from the short
    /// memory's errors, the best estimate there is.
    public mutating func restoreGuardErrors(_ errors: [[Float]]) {
        guard var rows = Self.withTrendColumn(errors) else { return }
        if rows.count == 2 { rows += Self.reportedIndices[2...].map { shrinkErrors[$0] } }
        if let all = Self.perHorizon(rows) { guardErrors = all }
    }

    /// Takes persisted levels (four values, NaN = not yet observed), the step that last moved them and the
    /// values the rolling median is taken over; the next newer observed step continues from them. A state
    /// saved before the rolling median (no values) starts its window from the saved median.
    public mutating func restoreLevels(_ values: [Float], step: Int64? = nil, recent: [Float] = []) {
        guard values.count == 4 else { return }
        levels = SIMD4(values)
        if let step { levelStep = step }
        self.recent = Array(recent.filter(\.isFinite).suffix(Self.medianWindow))
        if self.recent.isEmpty, levels[3].isFinite { self.recent = [levels[3]] }
        recentSorted = self.recent.sorted()
    }

    /// Takes the persisted ``spread`` (after the errors and the levels). A state saved before the long
    /// horizons' errors were scaled (`errorsScaled` false) holds absolute errors there: the spread starts from
    /// the saved one (schema 4's running median kept the same mean) or else the window's mean one-step change,
    /// and those errors are divided by it, which keeps their ranking and puts them in the units of new scores.
    public mutating func restoreSpread(_ saved: Float, errorsScaled: Bool) {
        spread = saved.isFinite && saved > 0 ? saved : 0
        guard !errorsScaled else { return }
        if spread == 0, recent.count > 1 {
            spread = zip(recent.dropFirst(), recent).map { abs($0 - $1) }.reduce(0, +) / Float(recent.count - 1)
        }
        guard spread > 0 else { return }     // nothing to convert by: the old errors blend in as they are
        let scale = max(spread, Self.spreadFloor)
        for i in Self.scaledHorizonsFrom..<Self.horizons.count {
            shrinkErrors[i] = shrinkErrors[i].map { $0 / scale }
            guardErrors[i] = guardErrors[i].map { $0 / scale }
        }
    }

    /// Takes the persisted ``slope`` (after the levels); a state saved before the damped trend (nil) starts it
    /// from the saved window's one-step changes, as if it had been running (its memory is a few steps).
    public mutating func restoreSlope(_ saved: Float?) {
        if let saved, saved.isFinite { slope = saved; return }
        slope = 0
        for (new, old) in zip(recent.dropFirst(), recent) { slope += Self.trendRate * ((new - old) - slope) }
    }

    /// Takes the persisted raw widths (one per horizon; anything else leaves them unknown) and the model
    /// they came from: a restart with another model hands the widths over too.
    public mutating func restoreWidths(_ widths: [Float?], model: String?) {
        if let all = Self.perHorizonInterpolated(widths.map { $0 ?? .nan }) { rawWidths = all }
        self.model = model
    }

    /// Takes the persisted served errors (one per horizon; last, after the guard errors and the spread). A state
    /// saved before they were kept starts each from the guard's error of the candidate it serves now, the best
    /// estimate of what was served over that memory.
    public mutating func restoreServedErrors(_ saved: [Float]?) {
        servedErrors = SIMD8(repeating: 0)
        if let saved, let all = Self.perHorizon(saved), all.allSatisfy({ $0.isFinite && $0 >= 0 }) {
            for (i, e) in all.enumerated() { servedErrors[i] = e }
            return
        }
        for (i, c) in chosenCandidates.enumerated() { servedErrors[i] = guardErrors[i][c] }
    }

    /// Per reported horizon (``reportedHorizons``): the served median's error over about the last day relative to
    /// the last value's (below 1: the served forecast beats persistence on this series; exactly 1: persistence is
    /// what is served). nil before the first score at that horizon, or where the last value was never wrong.
    public var errorVsLastValue: [Float?] {
        Self.reportedIndices.map { Self.ratio(servedErrors[$0], to: guardErrors[$0][Self.persistenceCandidate]) }
    }

    /// The same for the model's own median (α = 1): whether the model alone would beat the last value here.
    public var modelErrorVsLastValue: [Float?] {
        Self.reportedIndices.map { Self.ratio(guardErrors[$0][Self.modelCandidate], to: guardErrors[$0][Self.persistenceCandidate]) }
    }

    static func ratio(_ error: Float, to reference: Float) -> Float? { reference > 1e-12 ? error / reference : nil }

    /// Moves horizon `i`'s factor by the ratio of the previous model's raw width to the new model's, where
    /// both are known: the served width is the one that was calibrated.
    mutating func handOver(horizon i: Int, from old: Float, to new: Float) {
        guard old.isFinite, new.isFinite else { return }
        let ratio = log(old / new)
        logFactors[i] = Self.clampedLog(logFactors[i] + ratio)
        unionLogFactors[i] = Self.clampedLog(unionLogFactors[i] + ratio)
    }

    /// Adds an observed value to the rolling median's window (the oldest leaves a full one) and returns the
    /// window's median (the mean of the two middle values of an even count).
    mutating func pushRecent(_ value: Float) -> Float {
        if recent.count >= Self.medianWindow {
            let oldest = recent.removeFirst()
            recentSorted.remove(at: Self.lowerBound(of: oldest, in: recentSorted))
        }
        recent.append(value)
        recentSorted.insert(value, at: Self.lowerBound(of: value, in: recentSorted))
        let n = recentSorted.count
        return n % 2 == 1 ? recentSorted[n / 2] : (recentSorted[n / 2 - 1] + recentSorted[n / 2]) / 2
    }

    /// The first index of `sorted` whose value is not below `value`.
    static func lowerBound(of value: Float, in sorted: [Float]) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Width factor per reported horizon (``reportedHorizons``).
    public var factors: [Float] { Self.reportedIndices.map { exp(logFactors[$0]) } }

    /// Width factor for forecast step `k` (1-based): linear in `ln k` between the scored horizons.
    public func factor(step k: Int) -> Float { exp(Self.interpolate(logFactors, step: k)) }

    /// The chosen candidate per scored horizon (``horizons``): the lowest recent error (ties keep the model as it is; the
    /// damped trend only below ``trendHorizons``), if it also beats persistence by the margin over the guard's
    /// memory; else persistence.
    public var chosenCandidates: [Int] {
        shrinkErrors.indices.map { i in
            let errors = shrinkErrors[i]
            let candidates = i < Self.trendHorizons ? Self.candidateCount : Self.trendCandidate
            var best = Self.modelCandidate
            for j in 0..<candidates where errors[j] < errors[best] { best = j }
            guard best != Self.persistenceCandidate else { return best }
            let p = Self.persistenceCandidate, long = guardErrors[i]
            let proven = errors[best] < errors[p] && long[best] < long[p] * (1 - Self.guardMargin)
            return proven ? best : p
        }
    }

    /// The chosen α per reported horizon (1 = the model's median as is; 0 for persistence and for a level).
    public var shrinkAlphas: [Float] {
        let chosen = chosenCandidates
        return Self.reportedIndices.map { chosen[$0] < Self.shrinkCandidates.count ? Self.shrinkCandidates[chosen[$0]] : 0 }
    }

    /// The chosen anchor per reported horizon.
    public var medianAnchors: [MedianAnchor] {
        let chosen = chosenCandidates
        return Self.reportedIndices.map { MedianAnchor(rawValue: max(0, chosen[$0] - Self.shrinkCandidates.count + 1))! }
    }

    /// `values` (one per horizon in `hs`) at forecast step `k`: linear in `ln k` between the horizons.
    static func interpolate(_ values: [Float], step k: Int, over hs: [Int] = horizons) -> Float {
        if k <= hs[0] { return values[0] }
        for i in 1..<hs.count where k <= hs[i] {
            let w = (log(Float(k)) - log(Float(hs[i - 1]))) / (log(Float(hs[i])) - log(Float(hs[i - 1])))
            return values[i - 1] + w * (values[i] - values[i - 1])
        }
        return values[hs.count - 1]
    }

    /// Candidate `c`'s median for a forecast issued from `last` with the given levels, raw median and the
    /// damped trend's offset at that step.
    @inline(__always)
    static func candidate(_ c: Int, last: Float, levels: SIMD4<Float>, rawMid: Float, trend: Float) -> Float {
        if c < shrinkCandidates.count { return last + shrinkCandidates[c] * (rawMid - last) }
        return c == trendCandidate ? last + trend : levels[c - shrinkCandidates.count]
    }

    /// Per forecast step `k` (0-based): `φ + φ² + … + φᵏ⁺¹`, the damped trend's multiple of the slope.
    static let trendSteps: [Float] = (1...1_024).map { k in
        let phi = trendDamping
        return phi * (1 - pow(phi, Float(k))) / (1 - phi)
    }

    /// Moves the levels with the value observed at `step` (once per step).
    mutating func moveLevels(step: Int64, actual: Float) {
        guard step > levelStep else { return }
        levelStep = step
        if levels[0].isNaN || levels[3].isNaN {
            levels = SIMD4(repeating: actual)
            recent = []; recentSorted = []
            _ = pushRecent(actual)
        } else {
            let r = Self.levelRates
            levels[0] += r[0] * (actual - levels[0])
            levels[1] += r[1] * (actual - levels[1])
            levels[2] += r[2] * (actual - levels[2])
            if let previous = recent.last {
                spread += Self.spreadRate * (abs(actual - previous) - spread)
                slope += Self.trendRate * ((actual - previous) - slope)
            }
            levels[3] = pushRecent(actual)
        }
    }

    /// Scores the forecasts that were due at `step` (absolute step number: epoch / step seconds).
    public mutating func observe(step: Int64, actual: Float) {
        guard actual.isFinite else { return }
        moveLevels(step: step, actual: actual)
        for (i, h) in Self.horizons.enumerated() {
            let slot = Int(step % Int64(h))
            let p = pending[i][slot]
            guard p.due == step else { continue }
            pending[i][slot].due = .min
            let r: Float
            if actual >= p.mid { r = p.high > p.mid ? (actual - p.mid) / (p.high - p.mid) : (actual == p.mid ? 0 : .infinity) }
            else { r = p.mid > p.low ? (p.mid - actual) / (p.mid - p.low) : .infinity }
            let decay = Self.shrinkDecays[i]
            let scale = i >= Self.scaledHorizonsFrom ? max(spread, Self.spreadFloor) : 1
            servedErrors[i] += Self.guardDecay * (abs(actual - p.mid) / scale - servedErrors[i])
            shrinkErrors[i].withUnsafeMutableBufferPointer { short in
                guardErrors[i].withUnsafeMutableBufferPointer { long in
                    Self.scoreCandidates(p, actual: actual, short: short, decay: decay, long: long, scale: scale)
                }
            }
            // Both bands at the factors they were issued with: around the chosen median, and the union.
            let low = p.mid + p.factor * (p.low - p.mid), high = p.mid + p.factor * (p.high - p.mid)
            let unionLow = min(p.mid, p.rawMid) + p.unionFactor * (p.low - p.mid)
            let unionHigh = max(p.mid, p.rawMid) + p.unionFactor * (p.high - p.mid)
            let miss = !(low <= actual && actual <= high), unionMiss = !(unionLow <= actual && actual <= unionHigh)
            let scores = SIMD2(Self.intervalScore(low: low, high: high, actual: actual),
                               Self.intervalScore(low: unionLow, high: unionHigh, actual: actual))
            bandScores[i] += Self.guardDecay * (scores / scale - bandScores[i])
            let rate = Self.adaptiveRate(scores: scored / Self.horizons.count)
            scored += 1
            if r <= 1 { insideRaw += 1 }
            if !(p.union ? unionMiss : miss) { insideServed += 1 }
            let target = 1 - Self.targetCoverage
            logFactors[i] = Self.clampedLog(logFactors[i] + rate * ((miss ? 1 : 0) - target))
            unionLogFactors[i] = Self.clampedLog(unionLogFactors[i] + rate * ((unionMiss ? 1 : 0) - target))
        }
    }

    /// The width factor's rate after `n` scores per horizon (the series' ``scored`` over all horizons / 4).
    public static func adaptiveRate(scores n: Int) -> Float {
        max(rateFloor, rate * Float(rateScores) / Float(rateScores + n))
    }

    /// Moves each candidate's error memories toward its error on `actual` (in units of `scale`), computed
    /// once: the short memory and the persistence guard's.
    static func scoreCandidates(_ p: Pending, actual: Float, short: UnsafeMutableBufferPointer<Float>, decay: Float,
                                long: UnsafeMutableBufferPointer<Float>, scale: Float) {
        for c in 0..<candidateCount {
            let e = abs(actual - candidate(c, last: p.last, levels: p.levels, rawMid: p.rawMid, trend: p.trend))
            short[c] += decay * (e / scale - short[c])
            long[c] += guardDecay * (e / scale - long[c])
        }
    }

    /// Keeps the (shifted, unscaled) band of a forecast issued after `lastStep` (`low/mid/high[k]` = step
    /// `lastStep + k + 1`), its raw median and the last value it was issued from.
    public mutating func record(lastStep: Int64, low: [Float], mid: [Float], high: [Float], rawMid: [Float]? = nil, last: Float = 0) {
        for (i, h) in Self.horizons.enumerated() where h <= mid.count {
            let due = lastStep + Int64(h)
            pending[i][Int(due % Int64(h))] = Pending(due: due, low: low[h - 1], mid: mid[h - 1], high: high[h - 1],
                                                      rawMid: (rawMid ?? mid)[h - 1], last: last, levels: SIMD4(repeating: last),
                                                      factor: exp(logFactors[i]), unionFactor: exp(unionLogFactors[i]))
        }
    }

    /// Index of the quantile nearest `level`.
    public static func row(_ level: Float, in quantiles: [Float]) -> Int {
        quantiles.indices.min { abs(quantiles[$0] - level) < abs(quantiles[$1] - level) } ?? 0
    }

    /// The whole tick for one series: scores what was due at `lastStep` against `actual` (the value
    /// observed there), moves the new forecast's median to the chosen candidate (when `shrinkMedian`), keeps
    /// it for scoring, and returns it with calibrated widths (before clamping to the metric's range).
    public mutating func update(lastStep: Int64, actual: Float, forecast values: [[Float]], quantiles: [Float],
                                shrinkMedian: Bool = true, model: String? = nil) -> [[Float]] {
        var out = values
        update(lastStep: lastStep, actual: actual, forecast: &out, quantiles: quantiles, shrinkMedian: shrinkMedian,
               range: -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude, model: model)
        return out
    }

    /// The tick in place without the band for risk (the daemon's path is the overload below).
    public mutating func update(lastStep: Int64, actual: Float, forecast values: inout [[Float]], quantiles: [Float],
                                shrinkMedian: Bool, range: ClosedRange<Float>, model: String? = nil) {
        var unused: [[Float]] = []
        update(lastStep: lastStep, actual: actual, forecast: &values, quantiles: quantiles, shrinkMedian: shrinkMedian, range: range,
               model: model, riskBand: &unused)
    }

    /// The tick in place, in two passes over the forecast, per step and then per quantile pair (the daemon's path): `values[quantile][step]`
    /// becomes the shifted, rescaled forecast clamped to `range`. `model` names the model that made the
    /// forecast (nil: the same as before); a new name hands the widths over (``rawWidths``). Where the served
    /// median is not the model's, `riskBand` becomes what risk and alerts grade: the union band at its own
    /// factors with the model's median in the middle (else it is left empty: they grade `values`).
    public mutating func update(lastStep: Int64, actual: Float, forecast values: inout [[Float]], quantiles: [Float],
                                shrinkMedian: Bool, range: ClosedRange<Float>, model: String? = nil, riskBand: inout [[Float]]) {
        observe(step: lastStep, actual: actual)
        let lo = Self.row(0.1, in: quantiles), m = Self.row(0.5, in: quantiles), hi = Self.row(0.9, in: quantiles)
        // The pairing below needs a ladder symmetric around the median (the models' 7 quantiles are).
        guard m < values.count, m == values.count / 2, values.count % 2 == 1, !values[m].isEmpty,
              values.allSatisfy({ $0.count == values[m].count }) else { return }
        let swapped = model != nil && self.model != nil && model != self.model
        if let model { self.model = model }
        for (i, h) in Self.horizons.enumerated() where h <= values[m].count {
            // The band's size however its quantiles are ordered (an untrained model's may cross).
            let k = h - 1, mid = values[m][k], top = values.count - 1
            let size = abs(Self.offset(own: values[hi][k] - mid, mirror: mid - values[top - hi][k]))
                + abs(Self.offset(own: values[lo][k] - mid, mirror: mid - values[top - lo][k]))
            let width: Float = size > 0 ? size : .nan
            if swapped { handOver(horizon: i, from: rawWidths[i], to: width) }
            rawWidths[i] = width
        }
        let observed = actual.isFinite && !levels[3].isNaN
        let last = actual.isFinite ? actual : values[m][0]
        let anchors = observed ? levels : SIMD4(repeating: last)
        let chosen = shrinkMedian && observed ? chosenCandidates : nil
        let moves = chosen?.contains { $0 != Self.modelCandidate } ?? false
        let slope = observed ? self.slope : 0
        let steps = values[m].count, table = Self.stepTable
        // Per scored horizon, 1 where the union band is served: read once, not at every step.
        var unionShare = SIMD8<Float>(repeating: 0)
        for i in Self.horizons.indices where servesUnion(at: i) { unionShare[i] = 1 }
        func clamp(_ value: Float) -> Float { min(max(value, range.lowerBound), range.upperBound) }
        riskBand = moves ? [[Float]](repeating: [], count: values.count) : []
        withUnsafeTemporaryAllocation(of: Float.self, capacity: StepScratch.rows * steps) { memory in
            let scratch = StepScratch(memory.baseAddress!, steps: steps)
            // Pass 1, per step: the served median, both factors and the union's share (read by every quantile).
            var nextScored = 0
            for k in 0..<steps {
                let (i, w) = table[min(k, table.count - 1)]
                let j = min(i + 1, Self.horizons.count - 1)
                let rawMid = values[m][k]
                let trend = slope * Self.trendSteps[min(k, Self.trendSteps.count - 1)]
                var mid = rawMid
                if let chosen, moves {
                    let a = Self.candidate(chosen[i], last: last, levels: anchors, rawMid: rawMid, trend: trend)
                    let b = Self.candidate(chosen[j], last: last, levels: anchors, rawMid: rawMid, trend: trend)
                    mid = a + w * (b - a)
                }
                if nextScored < Self.horizons.count, k + 1 == Self.horizons[nextScored] {
                    func offset(_ q: Int) -> Float { Self.offset(own: values[q][k] - rawMid, mirror: rawMid - values[values.count - 1 - q][k]) }
                    let due = lastStep + Int64(k + 1), h = Self.horizons[nextScored]
                    pending[nextScored][Int(due % Int64(h))] = Pending(
                        due: due, low: mid + offset(lo), mid: mid, high: mid + offset(hi),
                        rawMid: rawMid, last: last, trend: trend, levels: anchors, factor: exp(logFactors[nextScored]),
                        unionFactor: exp(unionLogFactors[nextScored]), union: unionShare[nextScored] == 1)
                    nextScored += 1
                }
                scratch.mids[k] = mid
                scratch.factors[k] = exp(logFactors[i] + w * (logFactors[j] - logFactors[i]))
                scratch.unionFactors[k] = exp(unionLogFactors[i] + w * (unionLogFactors[j] - unionLogFactors[i]))
                // The share of the union band in the served one: 0 or 1 at a scored horizon, in between, between
                // two that differ (so the band moves continuously from one step to the next).
                scratch.shares[k] = unionShare[i] + w * (unionShare[j] - unionShare[i])
            }
            // Pass 2, per quantile pair (q, its mirror): the median row and both rows moved out of `values` (no
            // copy), rescaled in place and moved back, the median row last.
            var rawMids: [Float] = []
            swap(&rawMids, &values[m])
            for q in 0..<(values.count / 2) {
                let p = values.count - 1 - q
                var lower: [Float] = [], upper: [Float] = []
                swap(&lower, &values[q]); swap(&upper, &values[p])
                Self.rescale(lower: &lower, upper: &upper, rawMids: rawMids, scratch: scratch, clamp: clamp)
                swap(&lower, &values[q]); swap(&upper, &values[p])
                if moves {
                    riskBand[q] = (0..<steps).map { clamp(scratch.unionLows[$0]) }
                    riskBand[p] = (0..<steps).map { clamp(scratch.unionHighs[$0]) }
                }
            }
            if moves { riskBand[m] = rawMids.map(clamp) }
            for k in 0..<steps { rawMids[k] = clamp(scratch.mids[k]) }
            swap(&rawMids, &values[m])
        }
    }

    /// What pass 1 of ``update(lastStep:actual:forecast:quantiles:shrinkMedian:range:model:riskBand:)`` works out
    /// per step for every quantile, and where pass 2 leaves the union band for risk: rows of one scratch allocation.
    private struct StepScratch {
        static let rows = 6
        let mids, factors, unionFactors, shares, unionLows, unionHighs: UnsafeMutablePointer<Float>
        init(_ base: UnsafeMutablePointer<Float>, steps: Int) {
            (mids, factors, unionFactors) = (base, base + steps, base + 2 * steps)
            (shares, unionLows, unionHighs) = (base + 3 * steps, base + 4 * steps, base + 5 * steps)
        }
    }

    /// Pass 2 for one quantile pair: both rows rescaled around the served median in place (each step's pair read
    /// before either is written), the union band's sides left in `scratch` for risk.
    @inline(__always)
    private static func rescale(lower: inout [Float], upper: inout [Float], rawMids: [Float], scratch: StepScratch,
                                clamp: (Float) -> Float) {
        rawMids.withUnsafeBufferPointer { raw in
            lower.withUnsafeMutableBufferPointer { low in
                upper.withUnsafeMutableBufferPointer { high in
                    for k in raw.indices {
                        let rawMid = raw[k], mid = scratch.mids[k], factor = scratch.factors[k], share = scratch.shares[k]
                        let below = offset(own: low[k] - rawMid, mirror: rawMid - high[k])
                        let above = offset(own: high[k] - rawMid, mirror: rawMid - low[k])
                        let unionLow = min(mid, rawMid) + scratch.unionFactors[k] * below
                        let unionHigh = max(mid, rawMid) + scratch.unionFactors[k] * above
                        let servedLow = mid + factor * below, servedHigh = mid + factor * above
                        low[k] = clamp(servedLow + share * (unionLow - servedLow))
                        high[k] = clamp(servedHigh + share * (unionHigh - servedHigh))
                        scratch.unionLows[k] = unionLow; scratch.unionHighs[k] = unionHigh
                    }
                }
            }
        }
    }

    /// A quantile's distance from the median (`own`), or, where the range clamp collapsed that side (a median
    /// at 100 % shifted down to the last value), the mirrored quantile's distance (`mirror`).
    @inline(__always)
    static func offset(own: Float, mirror: Float) -> Float { abs(own) < 0.1 * abs(mirror) ? mirror : own }

    /// Per forecast step `k` (0-based): the scored horizon at or below it and the weight (linear in
    /// `ln(k + 1)`) of the next one — the interpolation of ``factor(step:)``, computed once.
    static let stepTable: [(Int, Float)] = (1...1_024).map { k in
        let hs = horizons
        if k <= hs[0] { return (0, 0) }
        for i in 1..<hs.count where k <= hs[i] {
            return (i - 1, (log(Float(k)) - log(Float(hs[i - 1]))) / (log(Float(hs[i])) - log(Float(hs[i - 1]))))
        }
        return (hs.count - 1, 0)
    }
}

extension FeatureSpec {
    /// The newest observed value of model metric `name` in `window` (feed units, the metric's transform
    /// applied; the last finite value, as the forward fill sees it), or nil if none is observed.
    public func lastValue(of name: String, in window: ServerWindow) -> Float? {
        guard let m = metrics.firstIndex(where: { $0.name == name }) else { return nil }
        let src = metricSources[m], base = src.feed * window.count
        for i in stride(from: window.count - 1, through: 0, by: -1) where window.feedValues[base + i].isFinite {
            return src.complement ? 100 - window.feedValues[base + i] : window.feedValues[base + i]
        }
        return nil
    }
}
