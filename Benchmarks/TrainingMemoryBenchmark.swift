import Daemon
import Foundation
import Training

/// `Benchmarks training-memory [--servers 500] [--days 1.5] [--trainings 6] [--batches 40] [--no-trim] [--models-dir DIR]`:
/// why RSS steps up at every training in the soak (docs/soak.md). A real daemon in this process is fed a
/// simulated fleet for `--days`, then trains `--trainings` times in a row (reload + incremental training, as
/// the soak does once a day); after each, RSS and glibc's heap (`mallinfo2`: bytes in use, bytes free inside
/// the arenas) are printed. Bytes in use that grow from training to training are objects kept alive; free
/// bytes that stay resident are glibc's. `--no-trim` turns off the daemon's `malloc_trim` after a training
/// and a model load (``HeapStats/trimsAfterLargeRelease``), to measure what it changes.
enum TrainingMemoryBenchmark {
    static func run(_ args: [String]) throws {
        func value(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            return args[i + 1]
        }
        let servers = value("--servers").flatMap(Int.init) ?? 500
        let days = value("--days").flatMap(Double.init) ?? 1.5
        let trainings = value("--trainings").flatMap(Int.init) ?? 6
        let batches = value("--batches").flatMap(Int.init) ?? 40
        let modelsDir = value("--models-dir") ?? "./models"
        let trim = !args.contains("--no-trim")
        guard servers > 0, days > 0, trainings > 0, batches > 0 else { throw BenchmarkError("every option needs a positive number") }
        HeapStats.trimsAfterLargeRelease.store(trim, ordering: .relaxed)

        let dir = try DaemonBenchmark.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for folder in try FileManager.default.contentsOfDirectory(atPath: modelsDir) where folder.hasPrefix("tft_model_") {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: modelsDir).appendingPathComponent(folder),
                                             to: models.appendingPathComponent(folder))
        }
        var c = DaemonBenchmark.configuration(dir: dir.appendingPathComponent("data"), modelsDir: models, model: nil)
        c.rollingWindowSize = 288
        var training = TrainingService.Settings()
        training.maxBatchesPerEpoch = batches
        let daemon = try ArgusDaemon(configuration: c, trainingSettings: training)
        try daemon.start()
        defer { daemon.shutdown() }
        guard daemon.models.current != nil, let port = daemon.port else { throw BenchmarkError("no model in \(modelsDir)") }
        print("Benchmarks training-memory — \(servers) servers, \(days) simulated days fed, \(trainings) trainings × ≤ \(batches) batches, "
            + "malloc_trim after training/load \(trim ? "on" : "off"), load average \(DaemonBenchmark.loadAverage()), "
            + ISO8601Timestamp.format(Int64(Date().timeIntervalSince1970)))

        var sim = try FleetSimulator(config: FleetSimulatorConfig(servers: servers, days: days, stepSeconds: 300, seed: 15))
        let client = SoakClient(port: port)
        while let tick = sim.next() {
            try client.postFeed(tick.records)
            daemon.engine.drain()
        }
        func line(_ label: String) {
            let rss = Double(ProcessStats.read().residentBytes ?? 0) / 1_048_576
            let heap = HeapStats.read()
            print(String(format: "  %@ RSS %7.1f MiB   heap in use %7.1f MiB   free in arenas %7.1f MiB",
                         label.padding(toLength: 20, withPad: " ", startingAt: 0), rss, Double(heap.inUseBytes) / 1_048_576, Double(heap.freeBytes) / 1_048_576))
            fflush(nil)
        }
        line("fed")
        weak var firstServed: ServedModel?
        firstServed = daemon.models.current
        for n in 1...trainings {
            let reload = try client.reload()
            line("after reload \(n)")
            let trained = try client.train(epochs: 1)
            daemon.engine.drain()
            Thread.sleep(forTimeInterval: 0.5)   // the training thread trims after it reports completion
            line("after training \(n)")
            print("    reload \(reload); training \(trained)")
        }
        // Any cache that keeps a model by version keeps the first one alive through every later swap.
        print("  the model served before the first reload is \(firstServed == nil ? "released" : "STILL ALIVE")")
    }
}
