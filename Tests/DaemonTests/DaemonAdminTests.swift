import Foundation
import Testing
import Training
@testable import Daemon

/// Admin routes, restart and the spec's SDK examples, over real sockets.
@Suite struct DaemonAdminTests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    /// The predictions payload without the wall-clock field.
    func stable(_ reply: TestDaemon.Reply) -> String {
        var object = reply.object
        object["generated_at"] = nil
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func reload_CorruptModelKeepsTheCurrentOneAndSaysWhy() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<14)
        let before = try d.get("/predictions/current")
        #expect(before.status == 200)
        let original = try #require(d.daemon.models.current?.name)

        // A second folder whose weights were changed after its manifest was written.
        let corrupt = try TinyModel.write(into: d.modelsDirectory, seed: 2, name: "tft_model_20250116_000000")
        let weights = corrupt.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: weights)

        // No path → the newest folder, which is the corrupt one.
        let refused = try d.post("/admin/reload-model")
        #expect(refused.status == 422)
        #expect(refused.object["success"] as? Bool == false)
        #expect((refused.object["message"] as? String)?.contains("SHA-256 mismatch") == true, "\(refused.text)")
        #expect((refused.object["message"] as? String)?.contains("still serving \(original)") == true)
        #expect(refused.object["current_model"] as? String == original)
        #expect(d.daemon.models.current?.name == original)
        #expect((try d.get("/status", key: nil).object["model_name"] as? String) == original)
        #expect(try d.get("/predictions/current").status == 200)

        let missing = try d.post("/admin/reload-model", Data(#"{"model_path": "models/tft_model_nope"}"#.utf8))
        #expect(missing.status == 404)
        #expect(missing.object["success"] as? Bool == false)
        #expect(try d.post("/admin/reload-model", Data(#"{"model_path": 5}"#.utf8)).status == 422)

        // A good folder loads, swaps, and predictions follow it immediately.
        let good = try TinyModel.write(into: d.modelsDirectory, seed: 3, name: "tft_model_20250114_000000")
        let reloaded = try d.post("/admin/reload-model", Data(#"{"model_path": "\#(good.path)"}"#.utf8))
        #expect(reloaded.status == 200, "\(reloaded.text)")
        #expect(reloaded.object["success"] as? Bool == true)
        #expect(reloaded.object["message"] as? String == "Model reloaded successfully")
        #expect(reloaded.object["model"] as? String == "tft_model_20250114_000000")
        let after = try d.get("/predictions/current").object
        #expect(after["model"] as? String == "tft_model_20250114_000000")

        let models = try d.get("/admin/models").object
        let list = try #require(models["models"] as? [[String: Any]])
        #expect(list.count == 3)
        #expect(list.filter { $0["is_current"] as? Bool == true }.map { $0["name"] as? String } == ["tft_model_20250114_000000"])
        #expect(models["current_model"] as? String == "tft_model_20250114_000000")
        #expect(list.allSatisfy { ($0["size_mb"] as? Double ?? 0) > 0 && $0["created"] is String })
    }

    @Test func training_TriggerCompletesRecordsAndReloads_CancelLeavesNoModel() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<90)
        let before = Set(ModelFolders.list(in: d.modelsDirectory).map(\.name))

        let started = try d.post("/admin/trigger-training?epochs=2&incremental=true")
        #expect(started.status == 200, "\(started.text)")
        #expect(started.object["success"] as? Bool == true)
        #expect(started.object["message"] as? String == "Training started")
        #expect(started.object["epochs"] as? Int == 2)
        #expect(started.object["incremental"] as? Bool == true)
        let id = try #require(started.object["training_id"] as? String)
        #expect(id.hasPrefix("train_"))
        d.daemon.training.waitUntilIdle()
        let status = try d.get("/admin/training-status").object
        #expect(status["training_active"] as? Bool == false)
        #expect(status["status"] as? String == "completed", "\(status)")
        #expect((status["progress"] as? [String: Any])?["percent"] as? Double == 100)
        #expect((status["progress"] as? [String: Any])?["total_epochs"] as? Int == 2)
        let produced = try #require(status["model_produced"] as? String)
        #expect(status["model_reloaded"] as? Bool == true)
        #expect(d.daemon.models.current?.name == produced)
        #expect(Set(ModelFolders.list(in: d.modelsDirectory).map(\.name)) == before.union([produced]))

        // A long job: 409 while it runs, then cancelled within a step, leaving no new folder.
        let long = try d.post("/admin/trigger-training?epochs=1000&incremental=false")
        #expect(long.status == 200)
        let conflict = try d.post("/admin/trigger-training")
        #expect(conflict.status == 409)
        #expect((conflict.object["detail"] as? String)?.contains("already running") == true)
        let cancelled = try d.post("/admin/cancel-training")
        #expect(cancelled.status == 200)
        #expect(cancelled.object["success"] as? Bool == true)
        #expect(cancelled.object["message"] as? String == "Training cancelled")
        #expect(try d.get("/admin/training-status").object["status"] as? String == "cancelled")
        #expect(Set(ModelFolders.list(in: d.modelsDirectory).map(\.name)) == before.union([produced]))
        let hidden = try FileManager.default.contentsOfDirectory(atPath: d.modelsDirectory.path).filter { $0.hasPrefix(".") }
        #expect(hidden.isEmpty, "partial folders left: \(hidden)")
        #expect(try d.post("/admin/cancel-training").status == 409)

        let stats = try d.get("/admin/training-stats").object
        #expect(stats["total_trainings"] as? Int == 2)
        #expect(stats["models_produced"] as? Int == 1)
        #expect(stats["cancelled"] as? Int == 1)
        #expect(stats["last_training"] is String)
        #expect(stats["avg_training_time_minutes"] is Double || stats["avg_training_time_minutes"] is Int)
        #expect(try d.post("/admin/trigger-training?epochs=0").status == 422)
    }

    @Test func training_RefusesWhenThereIsTooLittleData() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<14)
        let refused = try d.post("/admin/trigger-training?epochs=1")
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.object["success"] as? Bool == false)
        #expect(try d.get("/admin/training-status").object["training_active"] as? Bool == false)
    }

    @Test func restart_KeepsServersAndPredictions() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let first = try TestDaemon(dir: dir)
        try first.feed(servers, steps: 0..<20)
        let before = try first.get("/predictions/current")
        #expect(before.status == 200)
        first.stop()

        let second = try TestDaemon(dir: dir)
        defer { second.stop() }
        second.daemon.engine.drain()
        let status = try second.get("/status", key: nil).object
        #expect(status["servers_tracked"] as? Int == 3)
        #expect(status["warmup_complete"] as? Bool == true)
        let after = try second.get("/predictions/current")
        #expect(after.status == 200)
        #expect(stable(after) == stable(before))
        // The API key file was not involved (configured key), and the data directory holds the database.
        #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("data/argus.sqlite").path))
    }

    @Test func apiKey_GeneratedOnceWith0600() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let file = dir.url.appendingPathComponent("k/api_key")
        let (key, source) = try APIKeyProvider.resolve(configured: nil, keyFile: file)
        #expect(source == .generated(file.path))
        #expect(key.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (again, source2) = try APIKeyProvider.resolve(configured: nil, keyFile: file)
        #expect(again == key)
        #expect(source2 == .file(file.path))
        #expect(try APIKeyProvider.resolve(configured: "env", keyFile: file).source == .environment)
    }

    @Test func configuration_FlagsOverEnvironmentOverDefaults() throws {
        let c = try DaemonConfiguration.resolve(flags: ["port": "9001"], environment: ["ARGUS_PORT": "9002", "ARGUS_HOST": "0.0.0.0",
                                                                                     "TACHYON_API_KEY": "k", "ARGUS_RATE_LIMIT_FEED": "120"])
        #expect(c.port == 9001)
        #expect(c.host == "0.0.0.0")
        #expect(c.apiKey == "k")
        #expect(c.feedRateLimit == 120)
        #expect(c.predictionsRateLimit == 30)
        #expect(c.dataDirectory.path.hasSuffix("data"))
        #expect(throws: DaemonConfiguration.Problem.self) { try DaemonConfiguration.resolve(flags: ["port": "x"], environment: [:]) }
    }

    /// The spec's Python SDK example (requests), unchanged except for its URL, key and the `[...]` placeholder.
    @Test func sdkExamples_PythonRequestsAndCurlWork() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<14)
        let record = String(decoding: try JSONSerialization.data(withJSONObject: Feed.record(server: "ppdb001", timestamp: Feed.iso(Feed.base + 14 * 300))), as: UTF8.self)
        let script = """
        import requests

        API_URL = "http://127.0.0.1:\(d.port)"
        API_KEY = "\(TestDaemon.key)"
        HEADERS = {"X-API-Key": API_KEY}

        # Get predictions
        response = requests.get(f"{API_URL}/predictions/current", headers=HEADERS)
        predictions = response.json()

        # Feed data
        data = {"records": [\(record)]}
        response = requests.post(f"{API_URL}/feed/data", json=data, headers=HEADERS)

        assert "ppdb001" in predictions["predictions"], predictions
        assert response.status_code == 200 and response.json()["status"] == "accepted", response.text
        print("ok")
        """
        // The `python3` first on PATH: tools/test.sh puts .venv-test there, with `requests` installed.
        let (status, output, errors) = try runTool("python3", ["-c", script], requires: "the Python package requests (bash tools/test.sh installs it)")
        #expect(status == 0, "\(output)\(errors)")
        #expect(output.contains("ok"))

        let (curlStatus, curlOut, _) = try runTool("curl", ["-s", "-H", "X-API-Key: \(TestDaemon.key)", "http://127.0.0.1:\(d.port)/predictions/current"],
                                                   requires: "curl (sudo apt-get install -y curl)")
        #expect(curlStatus == 0)
        let body = try JSONSerialization.jsonObject(with: Data(curlOut.utf8)) as? [String: Any]
        #expect((body?["predictions"] as? [String: Any])?["ppdb001"] != nil)
    }
}
