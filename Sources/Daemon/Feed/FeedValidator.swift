import Foundation

/// Decodes and validates a `POST /feed/data` body.
///
/// Parsed by ``FeedJSON`` (a strict reader with `JSONSerialization` as the fallback, not Codable) so that
/// every problem in every record is found and located precisely. The result is all or nothing: either a ``FeedBatch`` where every record is valid, or a
/// ``FeedValidationFailure`` listing every problem (`loc`, pydantic v2 `msg` and `type`).
public struct FeedValidator: Sendable {
    public struct Limits: Sendable {
        /// Largest accepted batch (`too_long` beyond).
        public var maxRecords = 10_000
        public var maxServerNameLength = 128
        public var maxProfileLength = 64
        /// Upper sanity bound for unbounded fields (rates, counts, load) so every value stays finite as
        /// Float32 in the windows.
        public var maxUnboundedValue = 1e9
        /// Reject timestamps more than this many seconds ahead of `now()` (a mis-set collector clock or a
        /// local time sent without its zone would otherwise move the fleet clock). nil disables the check.
        public var maxFutureSkewSeconds: Double? = 3_600
        /// At most this many errors are listed in a 422 (every record is still checked).
        public var maxReportedErrors = 1_000
        public init() {}
    }

    public var limits: Limits
    /// Wall clock in epoch seconds, for the future-skew check (injectable for tests).
    public var now: @Sendable () -> Double

    public init(limits: Limits = Limits(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.limits = limits
        self.now = now
    }

    /// The 16 required fields plus `status`, in the order errors are reported.
    public static let requiredFields: [String] =
        ["timestamp", "server_name", "status"] + MetricField.allCases.map(\.rawValue)

    static let serverNamePattern = "^[A-Za-z0-9._:-]+$"

    static let statusMessage: String = {
        let quoted = ServerStatus.allCases.map { "'\($0.rawValue)'" }
        return "Input should be " + quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }()

    /// Validates `body`, throwing a ``FeedValidationFailure`` with every problem found.
    public func validate(body: Data) throws(FeedValidationFailure) -> FeedBatch {
        guard let json = FeedJSON.parse(body) else {
            throw FeedValidationFailure(errors: [
                FeedValidationError(loc: ["body"], msg: "JSON decode error", type: "json_invalid")
            ])
        }
        guard let object = json.objectValue else {
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
        guard let list = recordsValue.arrayValue else {
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

    private func validateRecord(_ item: FeedJSON, index: Int, now: Double,
                                report: (FeedValidationError) -> Void) -> FeedRecord?
    {
        let base: [FeedValidationError.Location] = ["body", "records", .index(index)]
        guard let fields = item.objectValue else {
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
            if let text = raw.stringValue {
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
            if let text = raw.stringValue {
                serverName = text
                if text.isEmpty {
                    fail("server_name", "String should have at least 1 character", "string_too_short")
                } else if text.utf8.count > limits.maxServerNameLength {
                    fail("server_name", "String should have at most \(limits.maxServerNameLength) characters",
                         "string_too_long")
                } else if !Self.isSaneServerName(text) {
                    fail("server_name", "String should match pattern '\(Self.serverNamePattern)'", "string_pattern_mismatch")
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
            if let text = raw.stringValue, let parsed = ServerStatus(rawValue: text) {
                status = parsed
            } else {
                fail("status", Self.statusMessage, "enum")
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
            guard case .number(let value) = raw else {
                // Strings, booleans, null, lists, objects.
                if field.isInteger {
                    fail(key, "Input should be a valid integer", "int_type")
                } else {
                    fail(key, "Input should be a valid number", "float_type")
                }
                continue
            }
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
        if let raw = fields["profile"], !raw.isNull {
            if let text = raw.stringValue {
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

    static func isSaneServerName(_ name: String) -> Bool {
        name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == 0x2E || c == 0x5F || c == 0x3A || c == 0x2D
        }
    }
}
