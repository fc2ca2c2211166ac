import Foundation
import TFTCore

/// `Benchmarks tft`: config A forward latency, training throughput, GFLOP/s and memory, next to
/// pytorch-forecasting measured in the same run (`Benchmarks/peer/ptf_tft_bench.py`).
enum TFTBenchmark {
    static func run(_ arguments: [String]) throws {
        let quick = arguments.contains("--quick")
        let withPeer = !arguments.contains("--no-peer")
        let runsFlag = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) }
        let forwardRuns = runsFlag ?? (quick ? 10 : 30)
        let trainSteps = quick ? 8 : 30
        let leakCalls = quick ? 1_000 : 10_000
        let config = TFTConfig.configA()
        let model = try TFTModel(config: config, seed: 1)
        model.threads = Int(ProcessInfo.processInfo.environment["ARGUS_THREADS"] ?? "") ?? 2
        print("TFT benchmark, config A: hidden 32, 4 heads, hidden_continuous 8, encoder 288, horizon 96, 45 series, 7 quantiles")
        print("parameters: \(model.parameterCount) (pytorch-forecasting: 72,854)  threads: \(model.threads)")

        // Forward, batch 45.
        let inference = randomBatch(config, batchSize: 45, seed: 7)
        let trainOnly = arguments.contains("--train-only")
        for _ in 0..<(trainOnly || runsFlag != nil ? 0 : 3) { _ = try model.forward(inference, include: []) }
        var times: [Double] = []
        let cpu0 = processCPUSeconds()
        for _ in 0..<(trainOnly ? 1 : forwardRuns) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try model.forward(inference, include: [])
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let forwardCPUms = (processCPUSeconds() - cpu0) * 1e3 / Double(forwardRuns)
        let forwardMs = median(times)
        let macs = config.forwardMACsPerSample(encoderLength: 288, decoderLength: 96)
        let forwardGFLOP = 2 * macs * 45 / 1e9
        print(String(format: "forward, batch 45: median %.2f ms over %d runs (min %.2f, max %.2f); %.3f GFLOP → %.1f GFLOP/s",
                     forwardMs, forwardRuns, times.min()!, times.max()!, forwardGFLOP, forwardGFLOP / (forwardMs / 1e3)))
        print(String(format: "  CPU time per forward (both threads): %.2f ms", forwardCPUms))
        if arguments.contains("--forward-only") { return }

        // Training, batch 64: forward + backward + global-norm clipping + Adam.
        let training = randomBatch(config, batchSize: 64, seed: 11)
        let adam = AdamOptimizer(parameterCount: model.parameterCount, learningRate: 1e-3)
        func step(_ i: Int) throws {
            _ = try model.lossAndGradients(training, training: true, seed: UInt64(i), include: [])
            GradientClipping.clipGlobalNorm(model.gradients, maxNorm: 0.1)
            adam.update(model.parameters, gradients: model.gradients)
        }
        for i in 0..<2 { try step(i) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let trainCPU0 = processCPUSeconds()
        for i in 0..<trainSteps { try step(i + 2) }
        let trainCPUms = (processCPUSeconds() - trainCPU0) * 1e3 / Double(trainSteps)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let samplesPerSecond = Double(trainSteps * 64) / seconds
        let trainGFLOP = 3 * 2 * macs * 64 / 1e9   // backward ≈ 2 × forward
        print(String(format: "training, batch 64: %.0f samples/s (%d steps, %.1f ms/step); ≈%.1f GFLOP/step → ≈%.1f GFLOP/s",
                     samplesPerSecond, trainSteps, seconds * 1e3 / Double(trainSteps), trainGFLOP,
                     trainGFLOP * Double(trainSteps) / seconds))
        print(String(format: "  CPU time per step (both threads): %.1f ms → %.0f samples per CPU-second", trainCPUms, 64e3 / trainCPUms))

        if trainOnly { return }

        // Steady-state memory: many small inference calls must not grow the heap.
        let single = randomBatch(config, batchSize: 1, seed: 3)
        _ = try model.forward(single, include: [])
        let before = residentKiB()
        for _ in 0..<leakCalls { _ = try model.forward(single, include: []) }
        let after = residentKiB()
        print("memory: RSS \(before / 1024) MiB before and \(after / 1024) MiB after \(leakCalls) forward calls (batch 1); peak RSS \(peakKiB() / 1024) MiB")

        guard withPeer else { return }
        print("peer: running pytorch-forecasting on the same configuration (Benchmarks/peer/ptf_tft_bench.py)…")
        guard let peer = runPeer(quick: quick) else { return }
        if let ms = peer["forward_ms_median"] as? Double {
            print(String(format: "forward:  Argus %.2f ms  vs  pytorch-forecasting %.1f ms  → %.1f× faster", forwardMs, ms, ms / forwardMs))
        }
        if let sps = peer["train_samples_per_s"] as? Double {
            print(String(format: "training: Argus %.0f samples/s  vs  pytorch-forecasting %.0f samples/s  → %.1f× faster",
                         samplesPerSecond, sps, samplesPerSecond / sps))
        }
    }

    /// A batch of config A windows with plausible normalised values.
    static func randomBatch(_ config: TFTConfig, batchSize: Int, seed: UInt64) -> TFTBatch {
        var rng = RNG(seed: seed)
        let Te = config.maxEncoderLength, Td = config.maxPredictionLength, T = Te + Td, nR = config.reals.count
        var cont = [Float](repeating: 0, count: batchSize * T * nR)
        for i in cont.indices { cont[i] = rng.normal() }
        let cat = (0..<(batchSize * T)).map { Int32(($0 / T) % 45) }
        let scale = (0..<batchSize).flatMap { _ in [Float(50), Float(10)] }
        let target = (0..<(batchSize * Td)).map { _ in 50 + 10 * rng.normal() }
        return TFTBatch(batchSize: batchSize, encoderLength: Te, decoderLength: Td, continuous: cont, categorical: cat,
                        encoderLengths: [Int](repeating: Te, count: batchSize), targetScale: scale, target: target)
    }

    static func runPeer(quick: Bool) -> [String: Any]? {
        let python = ProcessInfo.processInfo.environment["ARGUS_PEER_PYTHON"] ?? "/work/venv/ptf/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            print("peer: skipped — no Python with pytorch-forecasting at \(python) (see Benchmarks/peer/README.md; set ARGUS_PEER_PYTHON)")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Benchmarks/peer/ptf_tft_bench.py"] + (quick ? ["--quick"] : [])
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { print("peer: could not start \(python): \(error)"); return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            print("peer: no JSON result (exit \(process.terminationStatus))")
            return nil
        }
        return json
    }
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// CPU time of this process (all threads), robust to other load on the machine.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Resident and peak resident memory from /proc/self/status, in KiB.
func residentKiB() -> Int { procStatus("VmRSS:") }
func peakKiB() -> Int { procStatus("VmHWM:") }
private func procStatus(_ key: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(key) {
        return Int(line.dropFirst(key.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "0") ?? 0
    }
    return 0
}
