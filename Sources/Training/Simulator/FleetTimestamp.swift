/// ISO 8601 timestamps of the feed, `YYYY-MM-DDTHH:MM:SS`, without a zone (read as UTC), converted to
/// and from Unix seconds without DateFormatter (fast, and identical on every platform).
public enum FleetTimestamp {
    /// Formats Unix seconds (UTC) as `YYYY-MM-DDTHH:MM:SS`.
    public static func format(_ epochSeconds: Int64) -> String {
        let days = floorDiv(epochSeconds, 86_400)
        let secs = Int(epochSeconds - days * 86_400)
        let (y, m, d) = civil(fromDays: days)
        var bytes = [UInt8](repeating: 0, count: 19)
        func put(_ value: Int, _ at: Int, _ width: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) {
                bytes[i] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        put(Int(y), 0, 4); bytes[4] = 45
        put(m, 5, 2); bytes[7] = 45
        put(d, 8, 2); bytes[10] = 84
        put(secs / 3600, 11, 2); bytes[13] = 58
        put(secs / 60 % 60, 14, 2); bytes[16] = 58
        put(secs % 60, 17, 2)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` (also `YYYY-MM-DD`, a space instead of `T`, fractional seconds, and
    /// a trailing `Z` or `±HH:MM` offset, which is applied) into Unix seconds. `nil` if malformed.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 10, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y) else { return nil }
        var seconds = 0
        var i = 10
        if b.count > 10 {
            guard b[10] == 84 || b[10] == 32, let h = num(11, 2), b.count > 13, b[13] == 58, let mi = num(14, 2)
            else { return nil }
            var s = 0
            i = 16
            if b.count > 16, b[16] == 58 {
                guard let sv = num(17, 2) else { return nil }
                s = sv
                i = 19
            }
            guard h < 24, mi < 60, s < 61 else { return nil }
            seconds = h * 3600 + mi * 60 + s
            if i < b.count, b[i] == 46 {  // fractional seconds: ignored
                i += 1
                while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            }
            if i < b.count {
                if b[i] == 90 {  // Z
                    i += 1
                } else if b[i] == 43 || b[i] == 45 {  // +HH:MM, -HH:MM, +HHMM, +HH
                    let sign = b[i] == 43 ? 1 : -1
                    guard let oh = num(i + 1, 2) else { return nil }
                    var om = 0
                    if i + 3 < b.count, b[i + 3] == 58 {
                        guard let m = num(i + 4, 2) else { return nil }
                        om = m
                        i += 6
                    } else if let m = num(i + 3, 2) {
                        om = m
                        i += 5
                    } else {
                        i += 3
                    }
                    seconds -= sign * (oh * 3600 + om * 60)
                } else {
                    return nil
                }
            }
            guard i == b.count else { return nil }
        }
        return days(fromCivil: Int64(y), mo, d) * 86_400 + Int64(seconds)
    }

    /// Seconds since midnight (UTC) of a Unix time.
    @inline(__always)
    public static func secondOfDay(_ epochSeconds: Int64) -> Int {
        Int(epochSeconds - floorDiv(epochSeconds, 86_400) * 86_400)
    }

    /// Day of week, Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
    @inline(__always)
    public static func weekday(_ epochSeconds: Int64) -> Int {
        Int((floorDiv(epochSeconds, 86_400) + 3) % 7 + 7) % 7
    }

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func days(fromCivil year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
