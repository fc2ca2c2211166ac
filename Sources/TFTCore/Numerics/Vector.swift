/// SIMD building blocks for the element-wise kernels. Swift does not reassociate floating-point
/// reductions, so sums and maxima use explicit vector accumulators; the transcendental functions
/// are polynomial so they run 8 lanes at a time.
typealias Vec8 = SIMD8<Float>

extension Kernels {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vec8 {
        UnsafeRawPointer(p).loadUnaligned(as: Vec8.self)
    }

    @inline(__always) static func store(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self)
    }

    /// 8-lane `exp`, same algorithm and accuracy as the scalar `Kernels.exp`.
    @inline(__always) static func exp(_ v: Vec8) -> Vec8 {
        var x = v.replacing(with: -87.3, where: v .< -87.3)
        x = x.replacing(with: 88.3, where: x .> 88.3)
        let t = x * 1.442_695_04 + 12_582_912   // 1.5·2²³ rounds k into the low mantissa bits
        let k = t - 12_582_912
        let r = x - k * 0.693_359_375 + k * 2.121_944_4e-4
        var p = Vec8(repeating: 1.987_569_15e-4) * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * r * r + r + 1
        // 2^k: the rounded value sits in t's low mantissa bits (t = 1.5·2²³ + k).
        let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: Vec8.self)
    }

    @inline(__always) static func sigmoid(_ v: Vec8) -> Vec8 { 1 / (1 + exp(-v)) }

    /// Scalar `exp` for loops the compiler vectorises: there `Float.addingProduct` becomes a vector FMA
    /// (`SIMD8.addingProduct` does not), which halves the polynomial's instructions. Same range
    /// reduction and polynomial as `exp(Vec8)`.
    @inline(__always) static func expFMA(_ v: Float) -> Float {
        let x = Swift.min(Swift.max(v, -87.3), 88.3)
        let t = Float(12_582_912).addingProduct(x, 1.442_695_04)   // 1.5·2²³ + k in the low mantissa bits
        let k = t - 12_582_912
        let r = x.addingProduct(k, -0.693_359_375).addingProduct(k, 2.121_944_4e-4)
        var p = Float(1.398_199_95e-3).addingProduct(r, 1.987_569_15e-4)
        p = Float(8.333_451_9e-3).addingProduct(p, r)
        p = Float(4.166_579_59e-2).addingProduct(p, r)
        p = Float(1.666_666_55e-1).addingProduct(p, r)
        p = Float(5.000_000_12e-1).addingProduct(p, r)
        p = r.addingProduct(p, r * r) + 1
        let bits = (Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
        return p * Float(bitPattern: UInt32(bitPattern: bits))
    }

    @inline(__always) static func sigmoidFMA(_ x: Float) -> Float { 1 / (1 + expFMA(-x)) }

    @inline(__always) static func tanhFMA(_ x: Float) -> Float { 2 / (1 + expFMA(-2 * x)) - 1 }

    @inline(__always) static func tanh(_ v: Vec8) -> Vec8 { 2 / (1 + exp(-2 * v)) - 1 }

    @inline(__always) static func elu(_ v: Vec8) -> Vec8 {
        (exp(v) - 1).replacing(with: v, where: v .> 0)
    }

    /// Horizontal sum of the 8 lanes by halving (`SIMD.sum()` is a lane-by-lane loop).
    @inline(__always) static func hsum(_ v: Vec8) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        return b[0] + b[1]
    }

    /// Σ p[0..<n] with two vector accumulators.
    @inline(__always) static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = Vec8(), b = Vec8(), i = 0
        while i + 16 <= n { a += load(p + i); b += load(p + i + 8); i += 16 }
        if i + 8 <= n { a += load(p + i); i += 8 }
        var s = hsum(a + b)
        while i < n { s += p[i]; i += 1 }
        return s
    }

    @inline(__always) static func maximum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = Vec8(repeating: -.infinity), i = 0
        while i + 8 <= n { let l = load(p + i); a = a.replacing(with: l, where: l .> a); i += 8 }
        // Halving rather than `a.max()`, which is a lane-by-lane loop.
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
        var m = Swift.max(Swift.max(b[0], b[1]), Swift.max(b[2], b[3]))
        while i < n { m = Swift.max(m, p[i]); i += 1 }
        return m
    }

    @inline(__always) static func dotProduct(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = Vec8(), b = Vec8(), i = 0
        while i + 16 <= n { a += load(x + i) * load(y + i); b += load(x + i + 8) * load(y + i + 8); i += 16 }
        if i + 8 <= n { a += load(x + i) * load(y + i); i += 8 }
        var s = hsum(a + b)
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// In place `p[i] = exp(p[i] − shift)` for i < n; returns the sum of the results.
    @inline(__always) static func expShiftedSum(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        // Two loops: the first vectorises with FMAs (see `expFMA`), the sum keeps vector accumulators.
        for i in 0..<n { p[i] = expFMA(p[i] - shift) }
        return sum(p, n)
    }

    @inline(__always) static func scale(_ p: UnsafeMutablePointer<Float>, _ n: Int, by a: Float) {
        var i = 0
        let v = Vec8(repeating: a)
        while i + 8 <= n { store(load(p + i) * v, p + i); i += 8 }
        while i < n { p[i] *= a; i += 1 }
    }

    /// LayerNorm of one 32-wide row held in four registers (the TFT's hidden size in config A):
    /// no memory round trip between the sum, the statistics and the output.
    @inline(__always)
    static func layerNormRow32(_ x0: Vec8, _ x1: Vec8, _ x2: Vec8, _ x3: Vec8, gamma: UnsafePointer<Float>,
                               beta: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                               xhat: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?) {
        let mean = Vec8(repeating: hsum((x0 + x1) + (x2 + x3)) * (1 / 32))
        let d0 = x0 - mean, d1 = x1 - mean, d2 = x2 - mean, d3 = x3 - mean
        let variance = hsum((d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)) * (1 / 32)
        let rs = 1 / (variance + layerNormEpsilon).squareRoot()
        let r = Vec8(repeating: rs)
        let h0 = d0 * r, h1 = d1 * r, h2 = d2 * r, h3 = d3 * r
        if let xhat { store(h0, xhat); store(h1, xhat + 8); store(h2, xhat + 16); store(h3, xhat + 24) }
        rstd?.pointee = rs
        store(h0 * load(gamma) + load(beta), y)
        store(h1 * load(gamma + 8) + load(beta + 8), y + 8)
        store(h2 * load(gamma + 16) + load(beta + 16), y + 16)
        store(h3 * load(gamma + 24) + load(beta + 24), y + 24)
    }
}
