import Daemon
import Foundation
import TFTCore
import Training

/// `Benchmarks calibration`: what the per-server band calibration (``BandCalibrationStore``) adds to a
/// tick of 1,000 servers (6 targets × 7 quantiles × 96 steps each), in memory only — the engine's call
/// between the forward pass and risk scoring. The SQLite write runs every 12 ticks off the engine's queue.
enum CalibrationBenchmark {
    static func run(_ args: [String]) throws {
        let servers = 1_000, horizon = 96, ticks = args.contains("--quick") ? 20 : 100
        let spec = FeatureSpec.standard
        let config = spec.makeConfig()
        let builder = try FeatureBuilder(spec: spec, config: config)
        let quantiles = config.quantiles
        let store = try BandCalibrationStore(dataDirectory: nil)
        var rng = SystemRandomNumberGenerator()
        var times: [Double] = []
        for tick in 0..<ticks {
            let epoch = Int64(1_736_935_200 + tick * 300)
            var windows: [ServerWindow] = [], forecasts: [ServerForecast] = []
            for i in 0..<servers {
                let feed = (0..<FeedMetric.count).map { _ in Float.random(in: 10...90, using: &rng) }
                windows.append(ServerWindow(serverName: "srv\(i)", firstEpoch: epoch, stepSeconds: 300, feedValues: feed))
                var values: [String: [[Float]]] = [:]
                for t in spec.targets {
                    let mid = Float.random(in: 10...90, using: &rng)
                    values[t] = quantiles.map { q in [Float](repeating: mid + (q - 0.5) * 20, count: horizon) }
                }
                forecasts.append(ServerForecast(serverName: "srv\(i)", firstEpoch: epoch + 300, stepSeconds: 300,
                                                quantiles: quantiles, values: values))
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            store.calibrate(&forecasts, windows: windows, spec: spec, builder: builder)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let sorted = times.dropFirst(ticks / 10).sorted()
        print(String(format: "calibration of %d servers × %d targets per tick: p50 %.1f ms, p90 %.1f ms (%d ticks; shared machine: noisy)",
                     servers, spec.targets.count, sorted[sorted.count / 2], sorted[sorted.count * 9 / 10], ticks))
        // The fleet summary `/status` and every `/metrics` scrape read (the part under the store's lock holds up a tick).
        var reads: [Double] = []
        for _ in 0..<20 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = store.summary()
            reads.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        reads.sort()
        print(String(format: "fleet summary of the same (/status, /metrics): p50 %.2f ms, p90 %.2f ms (20 reads)", reads[10], reads[18]))
    }
}
