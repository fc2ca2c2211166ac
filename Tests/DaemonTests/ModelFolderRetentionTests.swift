import Foundation
import Testing
@testable import Daemon

/// `--keep-models` (docs/retention.md) and what a swap releases (docs/soak.md: RSS stepped up at every training).
@Suite struct ModelFolderRetentionTests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    static func listing(_ names: [String], in directory: URL = URL(fileURLWithPath: "/m")) -> [ModelFolders.Listing] {
        names.enumerated().map { i, name in
            ModelFolders.Listing(name: name, path: directory.appendingPathComponent(name),
                                 created: Date(timeIntervalSince1970: Double(1_000 - i)), sizeBytes: 1, hasManifest: true)
        }
    }

    @Test func expired_KeepsTheNewestAndOnlyDeletesWhatTheDaemonTrained() throws {
        // Newest first: t5 … t1 trained by the daemon, "shipped" and "copied" not.
        let names = ["t5", "t4", "t3", "shipped", "t2", "copied", "t1"]
        let listing = Self.listing(names)
        let trained: Set = ["t1", "t2", "t3", "t4", "t5"]
        let keepTwo = ModelFolderRetention(keepNewest: 2)
        #expect(keepTwo.expired(listing, trained: trained, protected: []).map(\.name) == ["t3", "t2", "t1"])
        // Served (t2, after a reload back to it) and configured (t1, given as a non-standard path) stay.
        let protected = [URL(fileURLWithPath: "/m/t2"), URL(fileURLWithPath: "/m/./x/../t1")]
        #expect(keepTwo.expired(listing, trained: trained, protected: protected).map(\.name) == ["t3"])
        #expect(ModelFolderRetention.keepAll.expired(listing, trained: trained, protected: []).isEmpty)
        #expect(ModelFolderRetention(keepNewest: 10).expired(listing, trained: trained, protected: []).isEmpty)
    }

    @Test func flag_ParsesCountsAndAllAndRefusesTheRest() throws {
        #expect(try DaemonConfiguration.resolve(flags: [:], environment: [:]).modelFolderRetention == .standard)
        #expect(try DaemonConfiguration.resolve(flags: ["keep-models": "2"], environment: ["ARGUS_KEEP_MODELS": "9"])
            .modelFolderRetention == ModelFolderRetention(keepNewest: 2))
        #expect(try DaemonConfiguration.resolve(flags: [:], environment: ["ARGUS_KEEP_MODELS": "all"]).modelFolderRetention == .keepAll)
        for bad in ["0", "-1", "x", ""] {
            #expect(throws: DaemonConfiguration.Problem.self) { try DaemonConfiguration.resolve(flags: ["keep-models": bad], environment: [:]) }
        }
    }

    /// Three trainings with `--keep-models 1`: each deletes the previous trained folder; the folder the
    /// daemon started on and a folder it did not train (copied in by hand, older) are never deleted.
    @Test func trainings_PruneTheirOwnOldFoldersOnly() throws {
        let d = try TestDaemon(configure: { $0.modelFolderRetention = ModelFolderRetention(keepNewest: 1) })
        defer { d.stop(); d.dir.cleanup() }
        let startup = try #require(d.daemon.models.current?.name)
        let copied = try TinyModel.write(into: d.modelsDirectory, seed: 4, name: "tft_model_20240101_000000").lastPathComponent
        try d.feed(servers, steps: 0..<90)
        var produced: [String] = []
        for _ in 0..<3 {
            let started = try d.post("/admin/trigger-training?epochs=1&incremental=true")
            #expect(started.status == 200, "\(started.text)")
            d.daemon.training.waitUntilIdle()
            let status = try d.get("/admin/training-status").object
            #expect(status["status"] as? String == "completed", "\(status)")
            produced.append(try #require(status["model_produced"] as? String))
            // The served folder is the newest: kept, with the start-up and the copied one, and nothing else.
            #expect(d.daemon.models.current?.name == produced.last)
            #expect(Set(ModelFolders.list(in: d.modelsDirectory).map(\.name)) == [startup, copied, produced.last!])
        }
        #expect(Set(produced).count == 3)
        // The records stay: /admin/training-stats still counts every model produced.
        #expect(try d.get("/admin/training-stats").object["models_produced"] as? Int == 3)
    }

    /// Nothing (the engine, explanations, a cache by model name) keeps a model alive once another is served.
    @Test func reload_ReleasesThePreviousModel() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<20)
        #expect(try d.get("/predictions/current").status == 200)
        #expect(try d.get("/explain/\(servers[0])").status == 200)
        weak var previous = d.daemon.models.current
        #expect(previous != nil)
        #expect(try d.post("/admin/reload-model").status == 200)
        try d.feed(servers, steps: 20..<22)
        #expect(try d.get("/explain/\(servers[0])").status == 200)
        #expect(previous == nil, "the model served before the reload is still referenced")
    }

    /// A training's run (every server's series) and its parent model are released when the job ends.
    @Test func training_ReleasesTheModelItReplaced() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<90)
        weak var parent = d.daemon.models.current
        #expect(try d.post("/admin/trigger-training?epochs=1&incremental=true").status == 200)
        d.daemon.training.waitUntilIdle()
        #expect(d.daemon.training.status.state == "completed")
        d.settle()
        #expect(parent == nil, "the model served before the training is still referenced")
    }
}
