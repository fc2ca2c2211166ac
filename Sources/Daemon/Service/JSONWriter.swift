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

    public mutating func int(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }
    public mutating func int(_ value: Int64) { bytes.append(contentsOf: String(value).utf8) }
    public mutating func bool(_ value: Bool) { if value { raw("true") } else { raw("false") } }
    public mutating func null() { raw("null") }

    /// A number rounded to `decimals` (0…4) fraction digits, trailing zeros dropped; NaN/∞ → null.
    public mutating func number(_ value: Double, decimals: Int = 2) {
        guard value.isFinite, abs(value) < 1e15 else { null(); return }
        let scale = [1.0, 10.0, 100.0, 1000.0, 10000.0][max(0, min(4, decimals))]
        var scaled = Int64((abs(value) * scale).rounded())
        if scaled == 0 { bytes.append(UInt8(ascii: "0")); return }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var d = max(0, min(4, decimals))
        // Drop trailing zero digits of the fraction.
        while d > 0 && scaled % 10 == 0 { scaled /= 10; d -= 1 }
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var v = scaled
        repeat { digits.append(UInt8(ascii: "0") + UInt8(v % 10)); v /= 10 } while v > 0
        while digits.count <= d { digits.append(UInt8(ascii: "0")) }
        for i in stride(from: digits.count - 1, through: 0, by: -1) {
            if i == d - 1 { bytes.append(UInt8(ascii: ".")) }
            bytes.append(digits[i])
        }
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
