import COpenSSL
import Foundation
import Synchronization

/// What each task kind does when a kernel runs it. Returns the result as JSON text; throws to fail the task.
struct TaskWork: Sendable {
    let ingestion: IngestionStore
    let recordings: RecordingPipeline
    let clock: any DaemonClock
    /// The newest inference snapshot seen on the event flow (hunter tasks re-read their server in it).
    let latestSnapshot: @Sendable () -> Snapshot?
    /// Re-evaluates a policy rule: whether it still applies, with the evidence (policy_check tasks).
    let evaluateRule: @Sendable (String) -> (applies: Bool, evidence: [String])?
    /// Where checksummed inbox files are moved.
    let processedFolder: URL

    enum Failure: Error, CustomStringConvertible {
        case missingInput(String)
        var description: String {
            switch self {
            case .missingInput(let what): "task payload lacks \(what)"
            }
        }
    }

    func run(_ task: HTMTask) throws -> String {
        switch task.kind {
        case .checksum: return try checksum(task)
        case .synthetic: return try synthetic(task)
        case .investigate: return try investigate(task)
        case .recordingIngest:
            guard let recordingID = task.payload.recordingID, let jobID = task.payload.jobID else { throw Failure.missingInput("recording_id/job_id") }
            return try recordings.run(recordingID: recordingID, jobID: jobID)
        case .policyCheck:
            guard let rule = task.payload.rule else { throw Failure.missingInput("rule") }
            let outcome = evaluateRule(rule)
            return TelemetryFormat.encode(["rule": rule, "still_applies": outcome.map { $0.applies ? "true" : "false" } ?? "unknown",
                                           "evidence": (outcome?.evidence ?? []).joined(separator: "; ")])
        }
    }

    /// An inbox file: SHA-256, then moved to `processed/`, and its ingestion job closed.
    private func checksum(_ task: HTMTask) throws -> String {
        guard let path = task.payload.path else { throw Failure.missingInput("path") }
        do {
            let digest = try TelemetryDigest.sha256(file: path)
            let source = URL(fileURLWithPath: path)
            let target = processedFolder.appendingPathComponent(source.lastPathComponent)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.moveItem(at: source, to: target)
            let result = TelemetryFormat.encode(["sha256": digest.hex, "bytes": String(digest.bytes), "stored_at": target.path])
            if let job = task.payload.jobID {
                try ingestion.finishJob(job, sizeBytes: digest.bytes, result: result, error: nil, at: clock.now().timeIntervalSince1970)
            }
            return result
        } catch {
            if let job = task.payload.jobID {
                try? ingestion.finishJob(job, sizeBytes: nil, result: nil, error: String(describing: error), at: clock.now().timeIntervalSince1970)
            }
            throw error
        }
    }

    /// Stress load: `bytes` fresh random bytes from RAND_bytes, hashed.
    private func synthetic(_ task: HTMTask) throws -> String {
        let count = max(1, task.payload.bytes ?? task.sizeBytes)
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw TelemetryDigest.Failure.digest }
        let hex = try TelemetryDigest.sha256(Data(bytes))
        return TelemetryFormat.encode(["sha256": hex, "bytes": String(count)])
    }

    /// A hunter task: how the flagged server's risk moved since the alert that spawned it.
    private func investigate(_ task: HTMTask) throws -> String {
        guard let server = task.payload.server else { throw Failure.missingInput("server") }
        guard let snapshot = latestSnapshot(), let index = snapshot.index[server] else {
            throw Failure.missingInput("a current prediction for \(server)")
        }
        let now = snapshot.servers[index].risk.score
        let then = task.payload.riskScore ?? now
        let trend = now > then + 1 ? "rising" : now < then - 1 ? "falling" : "steady"
        return TelemetryFormat.encode(["server": server, "risk_at_alert": String(then), "risk_now": String(now), "trend": trend,
                                       "tick": String(snapshot.tick)])
    }
}
