import Foundation

extension TrainingService.Status {
    /// The body of `GET /admin/training-status`, also pushed to dashboards as a `training` event.
    /// `prefix` goes first inside the object (the push adds `"type":"training",`).
    func json(prefix: String = "") -> [UInt8] {
        let s = self
        var w = JSONWriter(capacity: 512)
        w.raw("{"); w.raw(Array(prefix.utf8))
        w.raw("\"training_active\":"); w.bool(s.active)
        w.raw(",\"training_id\":"); if let id = s.id { w.string(id) } else { w.null() }
        w.raw(",\"progress\":{\"epoch\":"); w.int(s.epoch)
        w.raw(",\"total_epochs\":"); w.int(s.totalEpochs)
        w.raw(",\"percent\":"); w.number(s.percent, decimals: 1)
        w.raw(",\"eta_minutes\":"); if let eta = s.etaSeconds { w.number(eta / 60, decimals: 1) } else { w.null() }
        w.raw(",\"step\":"); w.int(s.step)
        w.raw(",\"steps_per_epoch\":"); w.int(s.stepsPerEpoch)
        w.raw(",\"phase\":"); if let p = s.phase { w.string(p) } else { w.null() }
        w.raw(",\"loss\":"); if let l = s.loss { w.number(l, decimals: 4) } else { w.null() }
        w.raw(",\"validation_loss\":"); if let l = s.validationLoss { w.number(l, decimals: 4) } else { w.null() }
        w.raw("},\"status\":"); w.string(s.state)
        w.raw(",\"incremental\":"); w.bool(s.incremental)
        w.raw(",\"started_at\":"); if let d = s.startedAt { w.string(AdminRoutes.iso(d)) } else { w.null() }
        w.raw(",\"finished_at\":"); if let d = s.finishedAt { w.string(AdminRoutes.iso(d)) } else { w.null() }
        w.raw(",\"model_produced\":"); if let m = s.modelName { w.string(m) } else { w.null() }
        w.raw(",\"model_reloaded\":"); if let r = s.reloaded { w.bool(r) } else { w.null() }
        w.raw(",\"error\":"); if let e = s.error { w.string(e) } else { w.null() }
        w.raw("}")
        return w.bytes
    }
}

/// Decides which training status changes are published as `.training` events: every state change
/// (preparing → running → completed/cancelled/failed) and progress at most every `minimumInterval`.
struct TrainingEventThrottle: Sendable {
    var minimumIntervalNanoseconds: UInt64 = 250_000_000   // ≤ 4 progress events per second
    private var lastState: String?
    private var lastPublished: UInt64?

    init(minimumIntervalNanoseconds: UInt64 = 250_000_000) {
        self.minimumIntervalNanoseconds = minimumIntervalNanoseconds
    }

    /// Whether to publish a status in `state` observed at monotonic time `now` (ns); records it if so.
    mutating func shouldPublish(state: String, now: UInt64) -> Bool {
        let changed = state != lastState
        let due = lastPublished.map { now &- $0 >= minimumIntervalNanoseconds } ?? true
        guard changed || due else { return false }
        lastState = state
        lastPublished = now
        return true
    }
}
