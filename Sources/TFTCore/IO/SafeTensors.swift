import Foundation

/// A tensor read from or written to a safetensors file, converted to `Float` (or kept as integers).
public struct NamedTensor: Sendable, Equatable {
    public enum DType: String, Sendable { case f32 = "F32", f64 = "F64", i64 = "I64", i32 = "I32", f16 = "F16", bf16 = "BF16" }
    public var shape: [Int]
    public var dtype: DType
    /// Values converted to Float (exact for F32, F16, BF16 and small integers).
    public var values: [Float]
    public var count: Int { shape.reduce(1, *) }

    public init(shape: [Int], values: [Float], dtype: DType = .f32) {
        self.shape = shape; self.values = values; self.dtype = dtype
    }
}

/// Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON
/// header `{name: {dtype, shape, data_offsets}}` (plus optional `__metadata__`), then raw data.
public enum SafeTensors {
    /// Largest header accepted (the format's own limit is 100 MB).
    static let maximumHeaderBytes = 100_000_000

    public static func read(contentsOf url: URL) throws -> (tensors: [String: NamedTensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TFTError.invalidFile(path: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }

    public static func decode(_ data: Data, source: String = "safetensors") throws -> (tensors: [String: NamedTensor], metadata: [String: String]) {
        func fail(_ p: String) -> TFTError { .invalidFile(path: source, problem: p) }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(maximumHeaderBytes), 8 + Int(headerLength) <= data.count else {
            throw fail("truncated or corrupt: header claims \(headerLength) bytes but the file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var tensors: [String: NamedTensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (k, v) in (value as? [String: Any]) ?? [:] { metadata[k] = "\(v)" }
                continue
            }
            func bad(_ p: String) -> TFTError { .invalidTensor(name: name, problem: p) }
            guard let info = value as? [String: Any] else { throw bad("header entry is not an object") }
            guard let dtypeName = info["dtype"] as? String, let dtype = NamedTensor.DType(rawValue: dtypeName) else {
                throw bad("unsupported dtype \(info["dtype"] ?? "missing")")
            }
            guard let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  shape.allSatisfy({ $0 >= 0 }) else { throw bad("missing or invalid shape") }
            guard let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else { throw bad("missing or invalid data_offsets") }
            guard offsets[1] <= body.count else {
                throw bad("data_offsets end \(offsets[1]) beyond the \(body.count) data bytes (truncated file?)")
            }
            let count = shape.reduce(1, *)
            let width: Int
            switch dtype { case .f32, .i32: width = 4; case .f64, .i64: width = 8; case .f16, .bf16: width = 2 }
            guard offsets[1] - offsets[0] == count * width else {
                throw bad("shape \(shape) of \(dtypeName) needs \(count * width) bytes, data_offsets span \(offsets[1] - offsets[0])")
            }
            var values = [Float](repeating: 0, count: count)
            body.withUnsafeBytes { raw in
                let base = raw.baseAddress! + offsets[0]
                for i in 0..<count {
                    let p = base + i * width
                    switch dtype {
                    case .f32: values[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
                    case .f64: values[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
                    case .i64: values[i] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
                    case .i32: values[i] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
                    case .bf16: values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16)
                    case .f16: values[i] = Float(halfBits: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
                    }
                }
            }
            tensors[name] = NamedTensor(shape: shape, values: values, dtype: dtype)
        }
        return (tensors, metadata)
    }

    /// Encodes tensors as F32 (sorted by name, so the bytes are deterministic).
    public static func encode(_ tensors: [String: NamedTensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            guard t.values.count == t.count else {
                throw TFTError.invalidTensor(name: name, problem: "shape \(t.shape) needs \(t.count) values, has \(t.values.count)")
            }
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var headerData = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerData.count % 8 != 0 { headerData.append(0x20) }   // pad with spaces to 8-byte alignment
        var out = Data(capacity: 8 + headerData.count + offset)
        var length = UInt64(headerData.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(headerData)
        for name in names {
            tensors[name]!.values.withUnsafeBufferPointer { buffer in
                for v in buffer { var bits = v.bitPattern.littleEndian; withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    public static func write(_ tensors: [String: NamedTensor], metadata: [String: String] = [:], to url: URL) throws {
        try encode(tensors, metadata: metadata).write(to: url, options: .atomic)
    }
}

extension Float {
    /// IEEE 754 half precision to single precision.
    init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31, exponent = Int((h >> 10) & 0x1F), mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            self = (sign != 0 ? -1 : 1) * Float(mantissa) * 0x1p-24
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
        }
    }
}
