import HTTPServer

/// The run's states (the original's `RunState`) and which moves between them are legal.
enum RunState: String, CaseIterable, Sendable {
    case queued = "QUEUED", planBootstrap = "PLAN_BOOTSTRAP", runCreated = "RUN_CREATED", phaseQueueing = "PHASE_QUEUEING"
    case phaseExecution = "PHASE_EXECUTION", gate = "GATE", ciRunning = "CI_RUNNING", snapshotCreated = "SNAPSHOT_CREATED"
    case doneSuccess = "DONE_SUCCESS", doneBudgetExhausted = "DONE_FAILED_BUDGET_EXHAUSTED"
    case donePolicyViolation = "DONE_FAILED_POLICY_VIOLATION", doneHumanReview = "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    case doneEnvironment = "DONE_FAILED_ENVIRONMENT"

    var isTerminal: Bool { rawValue.hasPrefix("DONE_") }

    static let terminal: [RunState] = allCases.filter(\.isTerminal)

    /// Legal successors. Terminal states have none: a finished run is never reopened.
    var successors: [RunState] {
        switch self {
        case .queued: [.planBootstrap, .runCreated] + Self.terminal
        case .planBootstrap: [.runCreated] + Self.terminal
        case .runCreated, .phaseQueueing: [.phaseQueueing, .phaseExecution, .gate, .ciRunning] + Self.terminal
        case .phaseExecution, .gate, .ciRunning: [.phaseQueueing, .phaseExecution, .gate, .ciRunning, .snapshotCreated] + Self.terminal
        case .snapshotCreated: Self.terminal
        default: []
        }
    }

    func canMove(to next: RunState) -> Bool { next == self ? !isTerminal : successors.contains(next) }
}

/// A phase's states and legal moves. Staying in the same non-terminal state is allowed (a metrics-only
/// update); leaving a terminal state is not.
enum PhaseState: String, CaseIterable, Sendable {
    case queued = "QUEUED", executing = "EXECUTING", gate = "GATE", ciRunning = "CI_RUNNING"
    case complete = "COMPLETE", failed = "FAILED", skipped = "SKIPPED"

    var isTerminal: Bool { self == .complete || self == .failed || self == .skipped }

    var successors: [PhaseState] {
        switch self {
        case .queued: [.executing, .skipped, .failed]
        case .executing: [.queued, .gate, .ciRunning, .complete, .failed]
        case .gate: [.executing, .ciRunning, .complete, .failed]
        case .ciRunning: [.executing, .gate, .complete, .failed]
        case .complete, .failed, .skipped: []
        }
    }

    func canMove(to next: PhaseState) -> Bool { next == self ? !isTerminal : successors.contains(next) }

    /// The run state a phase entering this state puts an active run in (when the run is not finished by it).
    var runStateWhileActive: RunState {
        switch self {
        case .executing: .phaseExecution
        case .gate: .gate
        case .ciRunning: .ciRunning
        case .queued, .complete, .skipped, .failed: .phaseQueueing   // the executor picks the next phase
        }
    }
}

/// A tier's state, derived from its phases every time one changes.
enum TierState: String, Sendable {
    case pending = "PENDING", inProgress = "IN_PROGRESS", complete = "COMPLETE", failed = "FAILED", skipped = "SKIPPED"

    static func derive(from phases: [PhaseState]) -> TierState {
        if phases.isEmpty || phases.allSatisfy({ $0 == .queued }) { return .pending }
        if phases.allSatisfy({ $0 == .skipped }) { return .skipped }
        if phases.allSatisfy(\.isTerminal) { return phases.contains(.failed) ? .failed : .complete }
        return .inProgress
    }
}

/// The outcome when every phase of a run is terminal: DONE_SUCCESS unless one failed (then the run needs
/// human review), as in the original.
func finalRunState(for phases: [PhaseState]) -> RunState? {
    guard !phases.isEmpty, phases.allSatisfy(\.isTerminal) else { return nil }
    return phases.contains(.failed) ? .doneHumanReview : .doneSuccess
}

/// 409 with the current state, for an illegal move.
func illegalTransition(_ what: String, from current: String, to next: String) -> HTTPError {
    HTTPError(.conflict, "Illegal \(what) transition \(current) → \(next)",
              extra: [("current_state", .string(current)), ("requested_state", .string(next))])
}
