import Foundation
import Testing
@testable import Daemon

/// `FeedValidator` parses bodies with ``FeedJSON`` (a strict byte reader; `JSONSerialization` for anything
/// unusual) instead of `JSONSerialization` alone. These tests hold it to exactly the previous behaviour:
/// the same batch or the same errors, for valid bodies, every malformation we could think of, and
/// thousands of random mutations.
@Suite struct FeedJSONTests {
    /// The previous validator (JSONSerialization + NSNumber), as the reference.
    struct Reference {
        var limits: FeedValidator.Limits
        var now: @Sendable () -> Double
        typealias Shared = FeedValidator

        /// Validates `body`, throwing a ``FeedValidationFailure`` with every problem found.
        func validate(body: Data) throws(FeedValidationFailure) -> FeedBatch {
            let json: Any
            do {
                json = try JSONSerialization.jsonObject(with: body, options: [])
            } catch {
                throw FeedValidationFailure(errors: [
                    FeedValidationError(loc: ["body"], msg: "JSON decode error", type: "json_invalid")
                ])
            }
            guard let object = json as? [String: Any] else {
                throw FeedValidationFailure(errors: [
                    FeedValidationError(loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from",
                                        type: "model_attributes_type")
                ])
            }
            guard let recordsValue = object["records"] else {
                throw FeedValidationFailure(errors: [
                    FeedValidationError(loc: ["body", "records"], msg: "Field required", type: "missing")
                ])
            }
            guard let list = recordsValue as? [Any] else {
                throw FeedValidationFailure(errors: [
                    FeedValidationError(loc: ["body", "records"], msg: "Input should be a valid list", type: "list_type")
                ])
            }
            if list.isEmpty {
                throw FeedValidationFailure(errors: [
                    FeedValidationError(loc: ["body", "records"], msg: "List should have at least 1 item after validation, not 0",
                                        type: "too_short")
                ])
            }
            if list.count > limits.maxRecords {
                throw FeedValidationFailure(errors: [
                    FeedValidationError(loc: ["body", "records"],
                                        msg: "List should have at most \(limits.maxRecords) items after validation, not \(list.count)",
                                        type: "too_long")
                ])
            }

            var errors: [FeedValidationError] = []
            var errorCount = 0
            var records: [FeedRecord] = []
            records.reserveCapacity(list.count)
            let nowSeconds = limits.maxFutureSkewSeconds == nil ? 0 : now()
            for (index, item) in list.enumerated() {
                let before = errorCount
                let record = validateRecord(item, index: index, now: nowSeconds) { error in
                    errorCount += 1
                    if errors.count < limits.maxReportedErrors { errors.append(error) }
                }
                if let record, errorCount == before, errorCount == 0 { records.append(record) }
            }
            if errorCount > 0 {
                throw FeedValidationFailure(errors: errors, truncated: errorCount > errors.count)
            }
            return FeedBatch(records: records)
        }

        // MARK: One record

        private func validateRecord(_ item: Any, index: Int, now: Double,
                                    report: (FeedValidationError) -> Void) -> FeedRecord?
        {
            let base: [FeedValidationError.Location] = ["body", "records", .index(index)]
            guard let fields = item as? [String: Any] else {
                report(FeedValidationError(loc: base, msg: "Input should be a valid dictionary or instance of FeedRecord",
                                           type: "model_type"))
                return nil
            }
            var ok = true
            func fail(_ field: String, _ msg: String, _ type: String) {
                ok = false
                report(FeedValidationError(loc: base + [.key(field)], msg: msg, type: type))
            }

            // timestamp
            var timestamp = 0.0
            if let raw = fields["timestamp"] {
                if let text = raw as? String {
                    if let parsed = ISO8601Timestamp.parse(text) {
                        timestamp = parsed
                        if let skew = limits.maxFutureSkewSeconds, parsed > now + skew {
                            fail("timestamp", "Input should not be more than \(Int(skew)) seconds in the future "
                                 + "(check the collector's clock and send a zone offset)", "datetime_too_far_in_future")
                        }
                    } else {
                        fail("timestamp", "Input should be a valid datetime, expected ISO 8601 such as 2025-01-15T10:00:00, "
                             + "2025-01-15T10:00:00.5Z or 2025-01-15T10:00:00+02:00", "datetime_parsing")
                    }
                } else {
                    fail("timestamp", "Input should be a valid datetime", "datetime_type")
                }
            } else {
                fail("timestamp", "Field required", "missing")
            }

            // server_name
            var serverName = ""
            if let raw = fields["server_name"] {
                if let text = raw as? String {
                    serverName = text
                    if text.isEmpty {
                        fail("server_name", "String should have at least 1 character", "string_too_short")
                    } else if text.utf8.count > limits.maxServerNameLength {
                        fail("server_name", "String should have at most \(limits.maxServerNameLength) characters",
                             "string_too_long")
                    } else if !Shared.isSaneServerName(text) {
                        fail("server_name", "String should match pattern '\(Shared.serverNamePattern)'", "string_pattern_mismatch")
                    }
                } else {
                    fail("server_name", "Input should be a valid string", "string_type")
                }
            } else {
                fail("server_name", "Field required", "missing")
            }

            // status
            var status = ServerStatus.healthy
            if let raw = fields["status"] {
                if let text = raw as? String, let parsed = ServerStatus(rawValue: text) {
                    status = parsed
                } else {
                    fail("status", Shared.statusMessage, "enum")
                }
            } else {
                fail("status", "Field required", "missing")
            }

            // the 14 numbers
            var values = [Double](repeating: 0, count: MetricField.count)
            for field in MetricField.allCases {
                let key = field.rawValue
                guard let raw = fields[key] else {
                    fail(key, "Field required", "missing")
                    continue
                }
                guard let number = raw as? NSNumber, String(cString: number.objCType) != "c" else {
                    // Strings, booleans, null, lists, objects.
                    if field.isInteger {
                        fail(key, "Input should be a valid integer", "int_type")
                    } else {
                        fail(key, "Input should be a valid number", "float_type")
                    }
                    continue
                }
                let value = number.doubleValue
                guard value.isFinite else {
                    fail(key, "Input should be a finite number", "finite_number")
                    continue
                }
                if field.isInteger, value.rounded(.towardZero) != value {
                    fail(key, "Input should be a valid integer, got a number with a fractional part", "int_from_float")
                    continue
                }
                if value < 0 {
                    fail(key, "Input should be greater than or equal to 0", "greater_than_equal")
                    continue
                }
                let maximum = field.maximum ?? limits.maxUnboundedValue
                if value > maximum {
                    let bound = maximum == maximum.rounded() ? String(Int64(maximum)) : String(maximum)
                    fail(key, "Input should be less than or equal to \(bound)", "less_than_equal")
                    continue
                }
                values[field.index] = value == 0 ? 0 : value  // normalise -0.0
            }

            // optional profile override
            var profile: String?
            if let raw = fields["profile"], !(raw is NSNull) {
                if let text = raw as? String {
                    if text.isEmpty {
                        fail("profile", "String should have at least 1 character", "string_too_short")
                    } else if text.utf8.count > limits.maxProfileLength {
                        fail("profile", "String should have at most \(limits.maxProfileLength) characters", "string_too_long")
                    } else if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                        fail("profile", "String should not contain control characters", "string_pattern_mismatch")
                    } else {
                        profile = text
                    }
                } else {
                    fail("profile", "Input should be a valid string", "string_type")
                }
            }

            guard ok else { return nil }
            return FeedRecord(serverName: serverName, timestamp: timestamp, status: status, values: values, profile: profile)
        }
    }

    enum Outcome: Equatable {
        case batch([FeedRecord])
        case failure(FeedValidationFailure)
    }

    static let limits: FeedValidator.Limits = {
        var l = FeedValidator.Limits()
        l.maxRecords = 50
        l.maxReportedErrors = 20
        return l
    }()
    let validator = FeedValidator(limits: FeedJSONTests.limits, now: { Double(Feed.base) })
    let reference = Reference(limits: FeedJSONTests.limits, now: { Double(Feed.base) })

    func outcomes(_ body: Data) -> (Outcome, Outcome) {
        let new: Outcome, old: Outcome
        do { new = .batch(try validator.validate(body: body).records) } catch { new = .failure(error) }
        do { old = .batch(try reference.validate(body: body).records) } catch { old = .failure(error) }
        return (new, old)
    }

    func check(_ body: Data, _ label: @autoclosure () -> String) {
        let (new, old) = outcomes(body)
        #expect(new == old, "\(label()): \(String(decoding: body.prefix(300), as: UTF8.self))")
    }

    func check(_ text: String) { check(Data(text.utf8), text) }

    static let record = #"{"timestamp":"2025-01-15T10:00:00","server_name":"ppdb001","status":"healthy","cpu_user_pct":25.3,"cpu_sys_pct":8.2,"cpu_iowait_pct":2.1,"cpu_idle_pct":64.4,"java_cpu_pct":15.5,"mem_used_pct":72.1,"swap_used_pct":5.2,"disk_usage_pct":45.8,"net_in_mb_s":12.5,"net_out_mb_s":8.3,"back_close_wait":5,"front_close_wait":3,"load_average":2.4,"uptime_days":45}"#

    /// A record with `value` (raw JSON text) in place of `mem_used_pct`'s number.
    static func record(mem value: String) -> String { record.replacingOccurrences(of: "72.1", with: value) }

    static func body(_ records: [String]) -> String { #"{"records":["# + records.joined(separator: ",") + "]}" }

    @Test func validBodies_SameBatch() {
        check(Self.body([Self.record]))
        check(Self.body(Array(repeating: Self.record, count: 45)))
        check(" \n\t{ \"records\" : [ \(Self.record) ] } \r\n")
        check(Self.body([Self.record.replacingOccurrences(of: "}", with: #","profile":"Database","notes":{"a":[1,2.5,{"b":null}],"c":true,"d":"x\ny"}}"#)]))
        check(Self.body([Self.record.replacingOccurrences(of: "}", with: #","profile":null}"#)]))
        check(Self.body([Self.record.replacingOccurrences(of: "}", with: #","profile":"Datenbank-Höhe 🚀"}"#)]))
        check(Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: #"pp\/db001"#)]))
        check(#"{"records":[\#(Self.record)],"extra":{"deep":[[[[1]]]]}}"#)
    }

    @Test(arguments: ["0", "-0", "0.0", "-0.0", "100", "100.0", "1e2", "1E2", "1e+2", "1.5e1", "15e-1", "0.5e-300", "1e-400", "1e400",
                      "-1e400", "100.00000000000001", "72.10000000000000000000001", "123456789012345678901", "99.99999999999999999",
                      "5e-324", "2.2250738585072014e-308", "01", "1.", ".5", "+1", "-", "--1", "1e", "1e+", "0x10", "NaN", "Infinity",
                      "-Infinity", "nan", "true", "false", "null", "\"72.1\"", "[72.1]", "{}", "1.7976931348623157e308", "72.1.1",
                      "7 2", "72,", "9007199254740993", "18446744073709551616"])
    func numbers_SameOutcome(value: String) {
        check(Self.body([Self.record(mem: value)]))
        check(Self.body([Self.record.replacingOccurrences(of: ":5,", with: ":\(value),")]))   // an integer field
    }

    @Test func malformedBodies_SameOutcome() {
        let bodies: [String] = [
            "", " ", "{", "}", "[]", "[{}]", "null", "true", "5", "\"x\"", "{}", #"{"records":null}"#, #"{"records":{}}"#,
            #"{"records":[]}"#, #"{"records":[1,"a",null,[]]}"#, #"{"records":[\#(Self.record),]}"#, #"{"records":[\#(Self.record)],}"#,
            #"{"records":[\#(Self.record)]} x"#, #"{"records":[\#(Self.record)]}{}"#, #"{'records':[]}"#, #"{records:[]}"#,
            #"{"records":[\#(Self.record)],"records":[]}"#, #"{"records":[],"records":[\#(Self.record)]}"#,
            Self.body([Self.record.replacingOccurrences(of: #""status":"healthy","#, with: #""status":"healthy","status":"offline","#)]),
            Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: #"pp\u0064b001"#)]),
            Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: #"pp\ud800"#)]),
            Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: #"pp\x"#)]),
            Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: "pp\tdb")]),
            Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: "pp\u{7F}db")]),
            Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: #"pp\"db"#)]),
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
            #"{"records":[\#(Self.record)],"x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}",
            #"{"records":[\#(Self.record.replacingOccurrences(of: "}", with: ""))]}"#,
            String(Self.body([Self.record]).dropLast()),
        ]
        for b in bodies { check(b) }
        // Encodings and bytes JSONSerialization may or may not accept: the same either way.
        let text = Self.body([Self.record])
        check(Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8), "UTF-8 BOM")
        check(text.data(using: .utf16)!, "UTF-16 with BOM")
        check(text.data(using: .utf16LittleEndian)!, "UTF-16LE")
        check(text.data(using: .utf32)!, "UTF-32")
        var invalid = Data(text.utf8)
        invalid[invalid.count / 3] = 0xFF
        check(invalid, "invalid UTF-8")
        check(Data(Self.body([Self.record.replacingOccurrences(of: "ppdb001", with: "pp\u{0}db")]).utf8), "raw NUL")
    }

    @Test func randomMutations_SameOutcome() {
        let base = Array(Self.body([Self.record, Self.record.replacingOccurrences(of: "}", with: #","profile":"web","notes":[1,{"k":"v"}]}"#)]).utf8)
        let alphabet = Array(#"{}[]:,"\ 0123456789.-+eEtrufalsn/ubé"#.utf8) + [0x00, 0x0A, 0x80, 0xFF]
        var rng = SplitMix64Doubles(seed: 99)
        func pick(_ n: Int) -> Int { min(n - 1, Int(rng.next() * Double(n))) }
        for trial in 0..<4_000 {
            var bytes = base
            for _ in 0..<(1 + pick(3)) {
                let at = pick(bytes.count)
                switch pick(3) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[pick(alphabet.count)], at: at)
                default: bytes[at] = alphabet[pick(alphabet.count)]
                }
            }
            check(Data(bytes), "mutation \(trial)")
        }
    }

    @Test func collectorBodies_TakeTheFastPath() {
        #expect(FeedJSON.parseFast(Data(Self.body(Array(repeating: Self.record, count: 45)).utf8)) != nil)
        let encoded = try! JSONSerialization.data(withJSONObject: ["records": [Feed.record(overrides: ["profile": "web"])]])
        #expect(FeedJSON.parseFast(encoded) != nil)
    }

    /// Numbers the fast path reads are bit-identical to JSONSerialization's (`NSNumber.doubleValue`).
    @Test func numbers_BitIdenticalToJSONSerialization() {
        var rng = SplitMix64Doubles(seed: 17)
        func int(_ n: Int) -> Int { min(n - 1, Int(rng.next() * Double(n))) }
        var fastCount = 0
        for trial in 0..<20_000 {
            var text: String
            switch trial % 4 {
            case 0: text = String(format: "%.\(int(8))f", rng.next() * pow(10, Double(int(10))))
            case 1: text = String(int(1_000_000_000))
            case 2: text = String(rng.next() * 100)                                   // shortest round-trip form
            default: text = String(format: "%.\(int(6))f", rng.next() * 100) + ["e", "E", "e-", "e+"][int(4)] + String(int(12))
            }
            if rng.next() < 0.2 { text = "-" + text }
            let body = Data(#"{"x":\#(text)}"#.utf8)
            let reference = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            let fast = FeedJSON.parseFast(body)
            guard let fast else { continue }   // left to JSONSerialization: identical by construction
            fastCount += 1
            guard case .number(let value)? = fast.objectValue?["x"], let number = reference?["x"] as? NSNumber else {
                Issue.record("\(text): fast \(String(describing: fast)) reference \(String(describing: reference))")
                continue
            }
            #expect(value.bitPattern == number.doubleValue.bitPattern || (value == 0 && number.doubleValue == 0), "\(text)")
        }
        #expect(fastCount > 15_000)
    }

    @Test func tooManyRecordsAndErrors_SameOutcome() {
        check(Self.body(Array(repeating: Self.record, count: 51)))
        check(Self.body(Array(repeating: Self.record(mem: "101"), count: 30)))
    }
}
