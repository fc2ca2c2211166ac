import CBLASShim

/// The one place in Argus that calls BLAS.
public enum BLAS {
    /// Sets the number of OpenBLAS threads (the daemon pins this; tests use 1 for determinism).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
