/// A bump allocator for activations and scratch space of one forward/backward pass.
///
/// `reset()` makes all memory reusable. When a pass needed more than one chunk, the next reset
/// replaces them by a single chunk of the total size, so steady-state passes allocate nothing.
public final class Arena {
    private var chunks: [(base: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private var used = 0          // floats used in the last chunk
    private var totalUsedHighWater = 0
    private var totalUsed = 0

    public init(initialCapacity: Int = 1 << 16) {
        chunks.append(Arena.allocate(max(initialCapacity, 1024)))
    }

    deinit { for c in chunks { c.base.deallocate() } }

    private static func allocate(_ n: Int) -> (base: UnsafeMutablePointer<Float>, capacity: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: n), n)
    }

    /// Uninitialised storage for `count` floats, 64-byte aligned.
    public func alloc(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = (max(count, 1) + 15) & ~15
        if used + n > chunks[chunks.count - 1].capacity {
            chunks.append(Arena.allocate(max(n, chunks[chunks.count - 1].capacity)))
            used = 0
        }
        let p = chunks[chunks.count - 1].base + used
        used += n
        totalUsed += n
        totalUsedHighWater = max(totalUsedHighWater, totalUsed)
        return p
    }

    /// Zero-initialised storage for `count` floats.
    public func zeros(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = alloc(count)
        p.update(repeating: 0, count: count)
        return p
    }

    /// Makes every allocation reusable; consolidates chunks so the next pass fits in one.
    public func reset() {
        if chunks.count > 1 {
            for c in chunks { c.base.deallocate() }
            chunks = [Arena.allocate(totalUsedHighWater + 1024)]
        }
        used = 0
        totalUsed = 0
    }

    /// Bytes currently reserved by this arena.
    public var reservedBytes: Int { chunks.reduce(0) { $0 + $1.capacity } * 4 }
}
