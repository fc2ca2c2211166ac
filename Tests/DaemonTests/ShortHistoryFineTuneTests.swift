import Foundation
import Testing
import Training
@testable import Daemon

/// `/admin/trigger-training` on a new install's short history: a fine-tune from the served model above
/// the documented minimum (``WindowOptions/shortHistoryMinimumSteps``), the refusal below it.
@Suite struct ShortHistoryFineTuneTests {
    let servers = ["ppdb001", "ppweb001"]
    /// The tiny test model's window options (encoder 24, horizon 12, minimum encoder 8).
    var windows: WindowOptions {
        WindowOptions(maxEncoderLength: TinyModel.encoder, minEncoderLength: TinyModel.spec.minEncoderLength, horizon: TinyModel.horizon)
    }

    @Test func shortHistory_FineTunesFromTheServedModel() throws {
        // Between the fine-tune minimum and what the normal 80/20 split needs.
        let steps = windows.shortHistoryMinimumSteps + 2
        #expect(steps < windows.requiredSteps)
        let d = try TestDaemon(configure: { $0.rollingWindowSize = 128 })
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<steps)
        let parent = try #require(d.daemon.models.current?.name)
        let started = try d.post("/admin/trigger-training?epochs=1&incremental=true")
        #expect(started.status == 200, "\(started.text)")
        #expect(started.object["incremental"] as? Bool == true)
        d.daemon.training.waitUntilIdle()
        let status = try d.get("/admin/training-status").object
        #expect(status["status"] as? String == "completed", "\(status)")
        let produced = try #require(status["model_produced"] as? String)
        let info = try #require(ModelFolder.load(d.modelsDirectory.appendingPathComponent(produced)).info)
        #expect(info.parentModel == parent)
        #expect(info.validationWindows >= windows.shortHistoryValidationOrigins)
        #expect(info.trainWindows > 0)
    }

    @Test func belowTheMinimum_IsRefusedSayingWhatIsNeeded() throws {
        let d = try TestDaemon(configure: { $0.rollingWindowSize = 128 })
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<(windows.shortHistoryMinimumSteps - 4))
        let refused = try d.post("/admin/trigger-training?epochs=1&incremental=true")
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.text.contains("\(windows.shortHistoryMinimumSteps) steps"), "\(refused.text)")
    }
}
