/// Summarises the model's attention over the encoder history as focus periods in human words.
enum ExplainAttention {
    struct Focus: Sendable, Equatable {
        /// "Last 30 minutes", "2 hours ago", "Same time yesterday (24 hours ago)".
        var label: String
        /// Encoder steps [first, last] (indices into the history, oldest first).
        var first: Int
        var last: Int
        /// Share of the attention mass on these steps (0–1).
        var share: Double
        /// Age of the peak step in minutes (0 = the newest step).
        var peakAgeMinutes: Int
    }

    /// Label for a peak `ageMinutes` before the newest observation.
    static func label(ageMinutes m: Int) -> String {
        if m <= 30 { return "Last 30 minutes" }
        if m <= 60 { return "Last hour" }
        if m < 90 { return "1 hour ago" }
        if m >= 23 * 60 && m <= 25 * 60 { return "Same time yesterday (24 hours ago)" }
        return "\(Int((Double(m) / 60).rounded())) hours ago"
    }

    /// Up to `maxPeriods` focus periods: peaks of the (±1 step smoothed) attention, at least `separation`
    /// steps apart, each covering ±`halfWidth` steps, kept when they hold ≥ 1.5× their uniform share or
    /// ≥ 10 % of the mass. `attention` is over encoder steps, oldest first, newest last.
    static func focusPeriods(_ attention: [Double], stepSeconds: Int, maxPeriods: Int = 3, halfWidth: Int = 3,
                             separation: Int = 6) -> [Focus] {
        let n = attention.count
        guard n > 0 else { return [] }
        let total = attention.reduce(0, +)
        guard total > 0 else { return [] }
        let a = attention.map { $0 / total }
        let smooth = (0..<n).map { i in (max(0, i - 1)...min(n - 1, i + 1)).map { a[$0] }.reduce(0, +) }
        var used = [Bool](repeating: false, count: n)
        var out: [Focus] = []
        let stepMinutes = Double(stepSeconds) / 60
        for _ in 0..<maxPeriods {
            guard let peak = (0..<n).filter({ !used[$0] }).max(by: { smooth[$0] < smooth[$1] || (smooth[$0] == smooth[$1] && $0 < $1) }) else { break }
            var lo = max(0, peak - halfWidth), hi = min(n - 1, peak + halfWidth)
            // The newest steps are one period: extend a peak near the end to the end.
            if n - 1 - hi <= halfWidth { hi = n - 1 }
            while lo < hi && used[lo] { lo += 1 }
            while hi > lo && used[hi] { hi -= 1 }
            let share = (lo...hi).map { a[$0] }.reduce(0, +)
            let uniform = Double(hi - lo + 1) / Double(n)
            for i in max(0, peak - separation)...min(n - 1, peak + separation) { used[i] = true }
            guard share >= 0.10 || share >= 1.5 * uniform else { continue }
            let age = Int((Double(n - 1 - peak) * stepMinutes).rounded())
            out.append(Focus(label: label(ageMinutes: age), first: lo, last: hi, share: share, peakAgeMinutes: age))
        }
        // Merge duplicates of the same label (keep the larger share first).
        var seen = Set<String>()
        return out.filter { seen.insert($0.label).inserted }
    }
}
