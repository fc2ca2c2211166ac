import CBLASShim

/// The one place in Argus that calls BLAS. Everything is row-major single precision.
public enum BLAS {
    /// Sets the number of OpenBLAS threads. Argus parallelises by splitting the batch across its own
    /// workers, so each worker runs BLAS single-threaded (see `TFTModel.threads`).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// `C(m×n) = alpha · op(A)(m×k) · op(B)(k×n) + beta · C`, row-major, with leading dimensions.
    @inline(__always)
    static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) } }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
