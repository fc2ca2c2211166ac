import Foundation

/// ISO 8601 date-times as the feed sends them, without Foundation's formatters (fast, and strict).
///
/// Accepted: `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (a space may replace `T`; up to 9 fraction digits),
/// followed by nothing (⇒ UTC), `Z`/`z`, or an offset `±HH:MM` / `±HHMM` / `±HH`. Calendar fields are
/// range-checked (month 1–12, day valid for the month incl. leap years, hour 0–23, minute 0–59,
/// second 0–59), years 1970–9999.
public enum ISO8601Timestamp {
    /// Parses `text` into epoch seconds (UTC), or nil if it is not a valid ISO 8601 date-time.
    public static func parse(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let n = bytes.count

        func digits(_ count: Int) -> Int? {
            guard i + count <= n else { return nil }
            var value = 0
            for k in 0..<count {
                let c = bytes[i + k]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            i += count
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < n, bytes[i] == c else { return false }
            i += 1
            return true
        }

        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2) else {
            return nil
        }
        guard i < n, bytes[i] == 0x54 || bytes[i] == 0x74 || bytes[i] == 0x20 else { return nil }  // T, t, space
        i += 1
        guard let hour = digits(2), expect(0x3A), let minute = digits(2) else { return nil }
        var second = 0
        var fraction = 0.0
        if i < n, bytes[i] == 0x3A {
            i += 1
            guard let s = digits(2) else { return nil }
            second = s
            if i < n, bytes[i] == 0x2E || bytes[i] == 0x2C {  // . or ,
                i += 1
                var scale = 0.1
                var count = 0
                while i < n, bytes[i] >= 48, bytes[i] <= 57 {
                    count += 1
                    guard count <= 9 else { return nil }
                    fraction += Double(bytes[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard count > 0 else { return nil }
            }
        }
        var offsetSeconds = 0
        if i < n {
            let c = bytes[i]
            if c == 0x5A || c == 0x7A {  // Z z
                i += 1
            } else if c == 0x2B || c == 0x2D {  // + -
                let sign = c == 0x2B ? 1 : -1
                i += 1
                guard let oh = digits(2) else { return nil }
                var om = 0
                if i < n {
                    if bytes[i] == 0x3A { i += 1 }
                    guard let m = digits(2) else { return nil }
                    om = m
                }
                guard oh <= 23, om <= 59 else { return nil }
                offsetSeconds = sign * (oh * 3600 + om * 60)
            } else {
                return nil
            }
        }
        guard i == n else { return nil }
        guard year >= 1970, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Double(seconds) + fraction
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Formats whole epoch seconds as the spec's `2025-01-15T10:00:00` (UTC, no zone suffix).
    public static func format(_ epochSeconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        append(epochSeconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `format(epochSeconds)`'s UTF-8 bytes to `bytes` without building a `String` (the snapshot
    /// encoder writes ~100 of these per server and tick).
    public static func append(_ epochSeconds: Int64, to bytes: inout [UInt8]) {
        let days = Int(epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400)
        let secondsOfDay = Int(epochSeconds - Int64(days) * 86_400)
        // civil_from_days
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        @inline(__always) func two(_ v: Int) {
            bytes.append(UInt8(truncatingIfNeeded: 48 + v / 10))
            bytes.append(UInt8(truncatingIfNeeded: 48 + v % 10))
        }
        if (0...9999).contains(year) {
            two(year / 100)
            two(year % 100)
        } else {
            // Outside four digits: the plain decimal, zero-padded to four characters as before.
            let s = String(year)
            if s.utf8.count < 4 { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 4 - s.utf8.count)) }
            bytes.append(contentsOf: s.utf8)
        }
        bytes.append(UInt8(ascii: "-")); two(month)
        bytes.append(UInt8(ascii: "-")); two(day)
        bytes.append(UInt8(ascii: "T")); two(secondsOfDay / 3600)
        bytes.append(UInt8(ascii: ":")); two(secondsOfDay / 60 % 60)
        bytes.append(UInt8(ascii: ":")); two(secondsOfDay % 60)
    }
}
