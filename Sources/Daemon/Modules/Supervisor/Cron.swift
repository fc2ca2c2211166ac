import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) with lists, ranges, steps, the
/// original's aliases (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`, `weekdays`, `weekends`, `month-end`),
/// evaluated in an IANA time zone. Day-of-month and day-of-week both restricted → either may match (Vixie cron).
struct CronExpression: Sendable, Equatable {
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>           // 0 = Sunday
    let daysRestricted: Bool
    let weekdaysRestricted: Bool
    let timeZone: TimeZone

    static let aliases = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        "weekdays": "0 9 * * 1-5", "weekends": "0 9 * * 0,6", "month-end": "0 0 28-31 * *",
    ]

    struct ParseError: Error, CustomStringConvertible { let description: String }

    init(_ text: String, timeZone: TimeZone = TimeZone(identifier: "UTC")!) throws {
        let expanded = Self.aliases[text.trimmingCharacters(in: .whitespaces).lowercased()] ?? text
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else { throw ParseError(description: "expected 5 fields (minute hour day month weekday), got \(fields.count)") }
        minutes = try Self.field(fields[0], 0...59, "minute")
        hours = try Self.field(fields[1], 0...23, "hour")
        days = try Self.field(fields[2], 1...31, "day of month")
        months = try Self.field(fields[3], 1...12, "month", names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], base: 1)
        weekdays = Set(try Self.field(fields[4], 0...7, "day of week", names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], base: 0).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
        self.timeZone = timeZone
    }

    private static func field(_ text: String, _ range: ClosedRange<Int>, _ name: String, names: [String] = [], base: Int = 0) throws -> Set<Int> {
        func number(_ token: Substring) throws -> Int {
            if let value = Int(token), range.contains(value) { return value }
            if let index = names.firstIndex(of: token.lowercased()) { return index + base }
            throw ParseError(description: "\(name): '\(token)' is not in \(range.lowerBound)-\(range.upperBound)")
        }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw ParseError(description: "\(name): malformed '\(part)'") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw ParseError(description: "\(name): bad step in '\(part)'") }
                step = s
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" {
                span = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try number(pieces[0][..<dash]), high = try number(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw ParseError(description: "\(name): range '\(pieces[0])' runs backwards") }
                span = low...high
            } else {
                let single = try number(pieces[0])
                span = single...(pieces.count == 2 ? range.upperBound : single)
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }

    /// The first matching minute strictly after `date`, or nil if none within ~5 years (e.g. `0 0 31 2 *`).
    func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var t = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while t < limit {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: t)
            guard let year = c.year, let month = c.month, let day = c.day, let hour = c.hour, let minute = c.minute, let weekday = c.weekday else { return nil }
            if !months.contains(month) {
                t = calendar.date(from: DateComponents(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1)) ?? limit
            } else if !dayMatches(day: day, weekday: weekday - 1) {
                t = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: t)) ?? limit
            } else if !hours.contains(hour) {
                t = t.addingTimeInterval(Double(60 - minute) * 60)
            } else if !minutes.contains(minute) {
                t = t.addingTimeInterval(60)
            } else {
                return t
            }
        }
        return nil
    }
}
