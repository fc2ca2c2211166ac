import Foundation

/// One unit of work in the console's HTM queue, run by a kernel. Persisted in `htm_tasks`.
struct HTMTask: Sendable {
    var id: String
    var intentID: String
    var origin: String
    var kind: TaskKind
    var description: String
    var status: String
    var priority: TaskPriority
    var sizeBytes: Int
    var payload: TaskPayload
    var kernelAffinity: String?
    var kernelID: String?
    var slaMilliseconds: Int
    var slaMet: Bool?
    var escalatedAt: Double?
    var attempt: Int
    var createdAt: Double
    var startedAt: Double?
    var completedAt: Double?
    var durationSeconds: Double?
    var error: String?

    static let origins = ["filesystem", "remote", "hunter"]
    static let statuses = ["pending", "active", "completed", "failed"]
}

/// What a task does when a kernel runs it (``TaskWork``).
enum TaskKind: String, Sendable {
    /// SHA-256 of a file dropped into the inbox.
    case checksum
    /// SHA-256 of `bytes` fresh random bytes (stress load).
    case synthetic
    /// Re-reads a server the alert flow flagged and records whether its risk moved.
    case investigate
    /// The recording ingestion pipeline (hash, probe, transcribe, index, summarise).
    case recordingIngest = "recording_ingest"
    /// Re-evaluates an accepted policy suggestion's rule against current state.
    case policyCheck = "policy_check"
}

/// The spec's priorities, lowest first; the queue serves the highest first, then the oldest.
enum TaskPriority: String, Sendable, CaseIterable, Comparable {
    case low, normal, high, critical

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    static func < (a: TaskPriority, b: TaskPriority) -> Bool { a.rank < b.rank }

    /// Service level per priority: the SLA enforcer escalates a task still unfinished past it.
    var slaMilliseconds: Int {
        switch self {
        case .critical: 60_000
        case .high: 300_000
        case .normal: 900_000
        case .low: 3_600_000
        }
    }
}

/// A task's inputs (JSON in `htm_tasks.payload`); each kind reads its own fields.
struct TaskPayload: Codable, Sendable {
    var path: String?
    var bytes: Int?
    var server: String?
    var level: String?
    var riskScore: Double?
    var recordingID: String?
    var jobID: String?
    var suggestionID: String?
    var rule: String?
    var stressTestID: String?
}

/// A task to submit (the queue fills in ids, times and the SLA).
struct NewTask: Sendable {
    var kind: TaskKind
    var description: String
    var priority: TaskPriority
    var sizeBytes: Int
    var payload: TaskPayload
    var kernelAffinity: String? = nil
}
