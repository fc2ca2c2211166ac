import Foundation
import Testing
@testable import Daemon

@Suite struct FeedValidatorTests {
    let validator = FeedValidator(limits: {
        var l = FeedValidator.Limits()
        l.maxRecords = 50
        return l
    }(), now: { Double(Feed.base) })

    /// Validates and returns the errors (empty when valid).
    func errors(_ body: Data) -> [FeedValidationError] {
        do {
            _ = try validator.validate(body: body)
            return []
        } catch {
            return error.errors
        }
    }

    func errors(record: [String: Any], at index: Int = 0) -> [FeedValidationError] {
        var records = [[String: Any]](repeating: Feed.record(), count: index)
        records.append(record)
        return errors(Feed.body(records))
    }

    func loc(_ index: Int, _ field: String) -> [FeedValidationError.Location] {
        ["body", "records", .index(index), .key(field)]
    }

    @Test func validRecord_IsParsed() throws {
        let batch = try validator.validate(body: Feed.body([Feed.record(overrides: ["profile": "Database", "notes": ["x": 1]])]))
        #expect(batch.records.count == 1)
        let r = batch.records[0]
        #expect(r.serverName == "ppdb001")
        #expect(r.timestamp == Double(Feed.base))
        #expect(r.status == .healthy)
        #expect(r[.memUsedPct] == 72.1)
        #expect(r[.backCloseWait] == 5)
        #expect(r[.uptimeDays] == 45)
        #expect(r.profile == "Database")
    }

    @Test(arguments: FeedValidator.requiredFields)
    func missingField_IsReportedWithExactLoc(field: String) {
        let e = errors(record: Feed.record(removing: [field]), at: 2)
        #expect(e == [FeedValidationError(loc: loc(2, field), msg: "Field required", type: "missing")])
    }

    @Test func everyProblemInEveryRecord_IsReported() {
        let body = Feed.body([
            Feed.record(),
            Feed.record(overrides: ["mem_used_pct": 101, "cpu_user_pct": "high"], removing: ["status"]),
            Feed.record(),
            Feed.record(overrides: ["uptime_days": 400]),
        ])
        let e = errors(body)
        #expect(e.map(\.loc) == [loc(1, "status"), loc(1, "cpu_user_pct"), loc(1, "mem_used_pct"), loc(3, "uptime_days")])
        #expect(e[2] == FeedValidationError(loc: loc(1, "mem_used_pct"), msg: "Input should be less than or equal to 100",
                                            type: "less_than_equal"))
        #expect(e[3].msg == "Input should be less than or equal to 365")
    }

    @Test(arguments: MetricField.allCases)
    func wrongType_IsRejected(field: MetricField) {
        for bad: Any in ["12.5", true, false, NSNull(), [1], ["a": 1]] {
            let e = errors(record: Feed.record(overrides: [field.rawValue: bad]))
            let expected = field.isInteger
                ? FeedValidationError(loc: loc(0, field.rawValue), msg: "Input should be a valid integer", type: "int_type")
                : FeedValidationError(loc: loc(0, field.rawValue), msg: "Input should be a valid number", type: "float_type")
            #expect(e == [expected], "\(field.rawValue) = \(bad)")
        }
    }

    @Test(arguments: MetricField.allCases)
    func ranges_AreEnforced(field: MetricField) {
        let below = errors(record: Feed.record(overrides: [field.rawValue: -1]))
        #expect(below == [FeedValidationError(loc: loc(0, field.rawValue), msg: "Input should be greater than or equal to 0",
                                              type: "greater_than_equal")])
        #expect(errors(record: Feed.record(overrides: [field.rawValue: 0])).isEmpty)
        if let maximum = field.maximum {
            #expect(errors(record: Feed.record(overrides: [field.rawValue: maximum])).isEmpty)
            let above = errors(record: Feed.record(overrides: [field.rawValue: maximum + 1]))
            #expect(above == [FeedValidationError(loc: loc(0, field.rawValue),
                                                  msg: "Input should be less than or equal to \(Int(maximum))",
                                                  type: "less_than_equal")])
        } else {
            #expect(errors(record: Feed.record(overrides: [field.rawValue: 5_000])).isEmpty)
            #expect(errors(record: Feed.record(overrides: [field.rawValue: 1e12])).first?.type == "less_than_equal")
        }
    }

    @Test func integerFields_AcceptWholeFloatsAndRejectFractions() throws {
        for field in MetricField.allCases where field.isInteger {
            #expect(errors(record: Feed.record(overrides: [field.rawValue: 5.0])).isEmpty)
            let e = errors(record: Feed.record(overrides: [field.rawValue: 5.5]))
            #expect(e == [FeedValidationError(loc: loc(0, field.rawValue),
                                              msg: "Input should be a valid integer, got a number with a fractional part",
                                              type: "int_from_float")])
        }
        // Float fields accept integers.
        let batch = try validator.validate(body: Feed.body([Feed.record(overrides: ["cpu_user_pct": 25])]))
        #expect(batch.records[0][.cpuUserPct] == 25)
    }

    @Test func nonFiniteNumbers_AreInvalidJSON() {
        let body = Data(#"{"records": [{"cpu_user_pct": NaN}]}"#.utf8)
        #expect(errors(body) == [FeedValidationError(loc: ["body"], msg: "JSON decode error", type: "json_invalid")])
        let inf = Data(#"{"records": [{"cpu_user_pct": 1e999}]}"#.utf8)
        #expect(errors(inf).first?.type == "json_invalid")
    }

    @Test func status_MustBeOneOfTheEnum() {
        for status in ServerStatus.allCases {
            #expect(errors(record: Feed.record(status: status.rawValue)).isEmpty)
        }
        for bad: Any in ["HEALTHY", "ok", "", 3, NSNull()] {
            let e = errors(record: Feed.record(overrides: ["status": bad]))
            #expect(e == [FeedValidationError(
                loc: loc(0, "status"),
                msg: "Input should be 'healthy', 'critical_issue', 'heavy_load', 'idle', 'maintenance', 'morning_spike', 'offline' or 'recovery'",
                type: "enum")])
        }
    }

    @Test func timestamps_AcceptISO8601Variants() throws {
        let cases: [(String, Double)] = [
            ("2025-01-15T10:00:00", 1_736_935_200),
            ("2025-01-15T10:00:00Z", 1_736_935_200),
            ("2025-01-15T10:00:00.250Z", 1_736_935_200.25),
            ("2025-01-15T12:00:00+02:00", 1_736_935_200),
            ("2025-01-15T05:30:00-04:30", 1_736_935_200),
            ("2025-01-15 10:00:00", 1_736_935_200),
            ("2025-01-15T10:00", 1_736_935_200),
            ("2024-02-29T00:00:00", 1_709_164_800),
        ]
        for (text, expected) in cases {
            let batch = try validator.validate(body: Feed.body([Feed.record(timestamp: text)]))
            #expect(abs(batch.records[0].timestamp - expected) < 1e-6, "\(text)")
        }
    }

    @Test func timestamps_RejectInvalidValues() {
        for bad in ["", "yesterday", "2025-13-01T00:00:00", "2025-02-29T00:00:00", "2025-01-15T24:00:00",
                    "2025-01-15T10:60:00", "2025-01-15", "2025-01-15T10:00:00+25:00", "2025-01-15T10:00:00 UTC",
                    "15/01/2025 10:00", "2025-01-15T10:00:00.", "1969-12-31T23:59:59Z"]
        {
            let e = errors(record: Feed.record(timestamp: bad))
            #expect(e.count == 1 && e[0].loc == loc(0, "timestamp") && e[0].type == "datetime_parsing", "\(bad)")
            #expect(e.first?.msg.hasPrefix("Input should be a valid datetime") == true)
        }
        let e = errors(record: Feed.record(overrides: ["timestamp": 1_736_935_200]))
        #expect(e == [FeedValidationError(loc: loc(0, "timestamp"), msg: "Input should be a valid datetime", type: "datetime_type")])
    }

    @Test func timestamps_TooFarInTheFuture_AreRejected() {
        // now = Feed.base; default skew 3600 s
        #expect(errors(record: Feed.record(timestamp: Feed.iso(Feed.base + 3_600))).isEmpty)
        let e = errors(record: Feed.record(timestamp: Feed.iso(Feed.base + 3_601)))
        #expect(e.map(\.type) == ["datetime_too_far_in_future"])
        #expect(e.first?.loc == loc(0, "timestamp"))
    }

    @Test func serverName_MustBeASaneNonEmptyString() {
        #expect(errors(record: Feed.record(server: "web-01.prod_eu:8080")).isEmpty)
        #expect(errors(record: Feed.record(server: "")) == [FeedValidationError(
            loc: loc(0, "server_name"), msg: "String should have at least 1 character", type: "string_too_short")])
        #expect(errors(record: Feed.record(server: String(repeating: "a", count: 129))) == [FeedValidationError(
            loc: loc(0, "server_name"), msg: "String should have at most 128 characters", type: "string_too_long")])
        for bad in ["a b", "a/b", "ü", "x\n"] {
            #expect(errors(record: Feed.record(server: bad)).map(\.type) == ["string_pattern_mismatch"], "\(bad)")
        }
        #expect(errors(record: Feed.record(overrides: ["server_name": 42])) == [FeedValidationError(
            loc: loc(0, "server_name"), msg: "Input should be a valid string", type: "string_type")])
    }

    @Test func optionalProfile_IsKeptAndChecked() throws {
        let batch = try validator.validate(body: Feed.body([Feed.record(overrides: ["profile": NSNull()]),
                                                            Feed.record(overrides: ["profile": "ML Compute"])]))
        #expect(batch.records.map(\.profile) == [nil, "ML Compute"])
        #expect(errors(record: Feed.record(overrides: ["profile": 7])).map(\.type) == ["string_type"])
        #expect(errors(record: Feed.record(overrides: ["profile": ""])).map(\.type) == ["string_too_short"])
        #expect(errors(record: Feed.record(overrides: ["profile": String(repeating: "p", count: 65)])).map(\.type)
                == ["string_too_long"])
    }

    @Test func bodyShape_Errors() {
        #expect(errors(Data("{not json".utf8)) == [FeedValidationError(loc: ["body"], msg: "JSON decode error", type: "json_invalid")])
        #expect(errors(Data()) == [FeedValidationError(loc: ["body"], msg: "JSON decode error", type: "json_invalid")])
        #expect(errors(Feed.body([1, 2])) == [FeedValidationError(
            loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", type: "model_attributes_type")])
        #expect(errors(Feed.body(["data": []])) == [FeedValidationError(loc: ["body", "records"], msg: "Field required",
                                                                         type: "missing")])
        #expect(errors(Feed.body(["records": "x"])) == [FeedValidationError(loc: ["body", "records"],
                                                                            msg: "Input should be a valid list", type: "list_type")])
        #expect(errors(Feed.body(["records": []])) == [FeedValidationError(
            loc: ["body", "records"], msg: "List should have at least 1 item after validation, not 0", type: "too_short")])
        #expect(errors(Feed.body([[String: Any]](repeating: Feed.record(), count: 51))) == [FeedValidationError(
            loc: ["body", "records"], msg: "List should have at most 50 items after validation, not 51", type: "too_long")])
        #expect(errors(Feed.body(["records": [Feed.record(), "x"]])) == [FeedValidationError(
            loc: ["body", "records", 1], msg: "Input should be a valid dictionary or instance of FeedRecord", type: "model_type")])
    }

    @Test func responseBody_IsFastAPIShape() throws {
        let failure = FeedValidationFailure(errors: [
            FeedValidationError(loc: ["body", "records", 3, "mem_used_pct"], msg: "Input should be less than or equal to 100",
                                type: "less_than_equal")
        ])
        let text = String(decoding: failure.responseBody, as: UTF8.self)
        #expect(text == #"{"detail":[{"loc":["body","records",3,"mem_used_pct"],"msg":"Input should be less than or equal to 100","type":"less_than_equal"}]}"#)
        #expect(failure.httpStatus == 422)
    }

    @Test func reportedErrors_AreCapped() {
        var limits = FeedValidator.Limits()
        limits.maxReportedErrors = 10
        let v = FeedValidator(limits: limits)
        let body = Feed.body([[String: Any]](repeating: ["x": 1], count: 5))  // 17 missing fields each
        do {
            _ = try v.validate(body: body)
            Issue.record("expected failure")
        } catch {
            #expect(error.errors.count == 10)
            #expect(error.truncated)
        }
    }
}

@Suite struct ISO8601TimestampTests {
    @Test func format_RoundTripsWithParse() {
        for epoch: Int64 in [0, 951_782_400, 1_709_164_800, Feed.base, 4_102_444_799] {
            let text = ISO8601Timestamp.format(epoch)
            #expect(ISO8601Timestamp.parse(text) == Double(epoch), "\(text)")
        }
        #expect(ISO8601Timestamp.format(Feed.base) == "2025-01-15T10:00:00")
    }
}
