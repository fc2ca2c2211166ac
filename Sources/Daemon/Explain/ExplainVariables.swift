import Training

/// Human names and units of the model's input variables (docs/explain.md).
enum ExplainVariables {
    /// A name an SRE reads ("Memory used") for a feed field, or the field itself.
    static func humanName(source: String, transform: String = "identity") -> String {
        switch source {
        case "cpu_idle_pct": transform == "complement100" ? "CPU busy" : "CPU idle"
        case "cpu_user_pct": "CPU user"
        case "cpu_sys_pct": "CPU system"
        case "cpu_iowait_pct": "CPU iowait"
        case "java_cpu_pct": "Java CPU"
        case "mem_used_pct": "Memory used"
        case "swap_used_pct": "Swap used"
        case "disk_usage_pct": "Disk used"
        case "net_in_mb_s": "Network in"
        case "net_out_mb_s": "Network out"
        case "back_close_wait": "Backend CLOSE_WAIT"
        case "front_close_wait": "Frontend CLOSE_WAIT"
        case "load_average": "Load average"
        case "uptime_days": "Uptime"
        default: source
        }
    }

    static func unit(source: String) -> String {
        if source.hasSuffix("_pct") { return "%" }
        if source.hasSuffix("_mb_s") { return " MB/s" }
        if source.hasSuffix("close_wait") { return " sockets" }
        if source == "uptime_days" { return " days" }
        return ""
    }

    /// Human name of any model variable (metrics by their spec entry, calendar features, categoricals).
    static func humanName(variable: String, spec: FeatureSpec) -> String {
        if let m = spec.metrics.first(where: { $0.name == variable }) { return humanName(source: m.source, transform: m.transform) }
        switch variable {
        case "status": return "Reported status"
        case "profile": return "Server profile"
        case "hour_sin", "hour_cos": return "Time of day"
        case "dow_sin", "dow_cos": return "Day of week"
        case "is_weekend": return "Weekend"
        case "relative_time_idx": return "Position in window"
        default:
            for suffix in ["_center", "_scale"] where variable.hasSuffix(suffix) {
                let base = String(variable.dropLast(suffix.count))
                if let m = spec.metrics.first(where: { $0.name == base }) {
                    return humanName(source: m.source, transform: m.transform) + (suffix == "_center" ? " (level)" : " (variability)")
                }
            }
            return variable
        }
    }

    /// `★★★★☆` for 4 of 5.
    static func stars(_ n: Int) -> String {
        let k = min(5, max(0, n))
        return String(repeating: "★", count: k) + String(repeating: "☆", count: 5 - k)
    }

    static func format(_ value: Double, source: String) -> String {
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return text + unit(source: source)
    }
}

/// The model-space series of the Training library (the Daemon module has its own `ServerSeries`).
typealias ExplainSeries = Training.ServerSeries
