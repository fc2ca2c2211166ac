/// Appends JSON text to a byte buffer without Foundation. The snapshot encoder writes tens of thousands
/// of numbers per tick through it, so numbers are formatted by hand (fixed decimals, no exponent).
public struct JSONWriter {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func raw(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    public mutating func string(_ value: String) {
        bytes.append(0x22)
        for b in value.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }

    /// `"key":`
    @inline(__always) public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func int(_ value: Int) { int(Int64(value)) }
    public mutating func int(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var v = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var start = 24
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            } while v > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<24]))
        }
    }
    public mutating func bool(_ value: Bool) { if value { raw("true") } else { raw("false") } }
    public mutating func null() { raw("null") }

    /// A number rounded to `decimals` (0…4) fraction digits, trailing zeros dropped; NaN/∞ → null.
    /// Formatted by hand into a stack buffer: no allocation per number.
    public mutating func number(_ value: Double, decimals: Int = 2) {
        guard value.isFinite, abs(value) < 1e15 else { null(); return }
        var d = max(0, min(4, decimals))
        let scale: Double = d == 0 ? 1 : d == 1 ? 10 : d == 2 ? 100 : d == 3 ? 1000 : 10000
        var scaled = UInt64((abs(value) * scale).rounded())
        if scaled == 0 { bytes.append(UInt8(ascii: "0")); return }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // Drop trailing zero digits of the fraction.
        while d > 0 && scaled % 10 == 0 { scaled /= 10; d -= 1 }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var start = 24, written = 0
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: scaled % 10)
                scaled /= 10
                written += 1
            } while scaled > 0
            // At least one integer digit: 0.05 → "0.05".
            while written <= d { start -= 1; buffer[start] = UInt8(ascii: "0"); written += 1 }
            if d == 0 {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<24]))
            } else {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<(24 - d)]))
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[(24 - d)..<24]))
            }
        }
    }

    /// A JSON string holding `number(value, decimals:)` with at least `decimals` fraction digits when it is
    /// whole (`45` → `"45.0"`; `45.25` stays `"45.25"` for two decimals, `"45.3"` for one), then `suffix`:
    /// the display strings of the predictions payload (`"45.0%"`, `"1.5 MB/s"`).
    public mutating func displayNumber(_ value: Double, decimals: Int, suffix: StaticString = "") {
        bytes.append(0x22)
        let start = bytes.count
        number(value, decimals: decimals)
        if decimals > 0 {
            var hasPoint = false
            for i in start..<bytes.count where bytes[i] == UInt8(ascii: ".") { hasPoint = true; break }
            let isNull = bytes.count - start == 4 && bytes[start] == UInt8(ascii: "n")
            if !hasPoint && !isNull {
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimals))
            }
        }
        raw(suffix)
        bytes.append(0x22)
    }

    /// `"2025-01-15T10:00:00"` (``ISO8601Timestamp/format(_:)`` as a JSON string).
    public mutating func timestamp(_ epochSeconds: Int64) {
        bytes.append(0x22)
        ISO8601Timestamp.append(epochSeconds, to: &bytes)
        bytes.append(0x22)
    }

    public mutating func number(_ value: Float, decimals: Int = 2) { number(Double(value), decimals: decimals) }

    /// `[v0,v1,…]` with `decimals` fraction digits.
    public mutating func numbers<C: Collection>(_ values: C, decimals: Int = 2) where C.Element == Float {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for v in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            number(Double(v), decimals: decimals)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(v)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    @inline(__always) public mutating func comma() { bytes.append(UInt8(ascii: ",")) }
}
