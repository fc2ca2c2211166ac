/// A flat, 64-byte aligned `Float` buffer holding every parameter (or every gradient) of a model.
public final class ParameterBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public func copy(from other: ParameterBuffer) {
        precondition(other.count == count)
        pointer.update(from: other.pointer, count: count)
    }

    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Values of one named parameter (a copy).
    public func values(of entry: ParameterLayout.Entry) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer + entry.offset, count: entry.count))
    }

    public func set(_ values: [Float], for entry: ParameterLayout.Entry) {
        precondition(values.count == entry.count)
        values.withUnsafeBufferPointer { (pointer + entry.offset).update(from: $0.baseAddress!, count: entry.count) }
    }
}
