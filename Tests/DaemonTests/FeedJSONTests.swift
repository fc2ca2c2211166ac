import Foundation
import Testing
@testable import Daemon

/// `FeedValidator` parses bodies with ``FeedJSON``: a strict byte reader for what collectors send, and
/// `JSONSerialization` for anything unusual. These tests hold the reader to `JSONSerialization` itself — the
/// same value, or the same refusal — for valid bodies, every malformation we could think of, and thousands of
/// random mutations (`fuzz/run-feedjson.sh` runs the same comparison under libFuzzer). What the validator
/// then makes of a value is `FeedValidatorTests`' business.
@Suite struct FeedJSONTests {
    /// `FeedJSON.parse` reads `body` as `JSONSerialization` does (nil where it throws), and whenever the fast
    /// path reads a body itself, `JSONSerialization` accepts it and reads the same value.
    func check(_ body: Data, _ label: @autoclosure () -> String) {
        let reference = (try? JSONSerialization.jsonObject(with: body, options: [])).map(FeedJSON.init(foundation:))
        if let fast = FeedJSON.parseFast(body) {
            #expect(fast == reference, "fast path: \(label()): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        #expect(FeedJSON.parse(body) == reference, "\(label()): \(String(decoding: body.prefix(300), as: UTF8.self))")
    }

    func check(_ text: String) { check(Data(text.utf8), text) }

    static let record = #"{"timestamp":"2025-01-15T10:00:00","server_name":"ppdb001","status":"healthy","cpu_user_pct":25.3,"cpu_sys_pct":8.2,"cpu_iowait_pct":2.1,"cpu_idle_pct":64.4,"java_cpu_pct":15.5,"mem_used_pct":72.1,"swap_used_pct":5.2,"disk_usage_pct":45.8,"net_in_mb_s":12.5,"net_out_mb_s":8.3,"back_close_wait":5,"front_close_wait":3,"load_average":2.4,"uptime_days":45}"#

    /// A record with `value` (raw JSON text) in place of `mem_used_pct`'s number.
    static func record(mem value: String) -> String { record.replacingOccurrences(of: "72.1", with: value) }

    static func body(_ records: [String]) -> String { #"{"records":["# + records.joined(separator: ",") + "]}" }

    @Test func validBodies_ReadAsJSONSerializationReadsThem() {
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
    func numbers_ReadAsJSONSerializationReadsThem(value: String) {
        check(Self.body([Self.record(mem: value)]))
        check(Self.body([Self.record.replacingOccurrences(of: ":5,", with: ":\(value),")]))   // an integer field
    }

    @Test func malformedBodies_ReadOrRefusedAsJSONSerialization() {
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

    @Test func randomMutations_ReadOrRefusedAsJSONSerialization() {
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

    @Test func largeBodies_ReadAsJSONSerializationReadsThem() {
        check(Self.body(Array(repeating: Self.record, count: 51)))
        check(Self.body(Array(repeating: Self.record(mem: "101"), count: 30)))
    }
}
