import Foundation
import Synchronization

/// One circuit breaker per agent label (the original: 5 failures open it; after 60 s the next call finds it
/// half-open; a success closes it, a failure re-opens it). State is persisted on every change, so an open
/// breaker is still open after a restart.
final class CircuitBreakers: Sendable {
    enum State: String, Sendable { case closed, open, halfOpen = "half_open" }

    struct Breaker: Sendable {
        var state: State = .closed
        var failureCount = 0
        var lastFailure: Double?
    }

    static let failureThreshold = 5
    static let recoverySeconds = 60.0

    private let store: OrchestrationStore
    private let breakers: Mutex<[String: Breaker]>
    /// Called after a state change (agent, old, new) — the module turns it into a `system_alert`.
    private let onTransition: @Sendable (String, State, State, Breaker) -> Void

    init(store: OrchestrationStore, onTransition: @escaping @Sendable (String, State, State, Breaker) -> Void) throws {
        self.store = store
        self.onTransition = onTransition
        breakers = Mutex(try store.loadBreakers())
    }

    /// Every breaker, including agents that never failed (`known` lists the agents to report).
    func snapshot(known: [String]) -> [(String, Breaker)] {
        let current = breakers.withLock { $0 }
        let names = Set(known).union(current.keys).sorted()
        return names.map { ($0, current[$0] ?? Breaker()) }
    }

    func state(_ agent: String) -> Breaker { breakers.withLock { $0[agent] ?? Breaker() } }

    /// Whether a call may go through now. An open breaker whose recovery time has passed turns half-open.
    func allows(_ agent: String) -> Bool {
        let now = store.now()
        var transition: (State, Breaker)?
        let allowed = breakers.withLock { all -> Bool in
            var breaker = all[agent] ?? Breaker()
            switch breaker.state {
            case .closed, .halfOpen: return true
            case .open:
                guard let last = breaker.lastFailure, now - last >= Self.recoverySeconds else { return false }
                breaker.state = .halfOpen
                all[agent] = breaker
                transition = (.open, breaker)
                return true
            }
        }
        if let (old, breaker) = transition { persist(agent, breaker); onTransition(agent, old, .halfOpen, breaker) }
        return allowed
    }

    /// Whether a call could go through now, without changing state (agent selection looks before it leaps).
    func wouldAllow(_ agent: String) -> Bool {
        let breaker = state(agent)
        guard breaker.state == .open else { return true }
        guard let last = breaker.lastFailure else { return true }
        return store.now() - last >= Self.recoverySeconds
    }

    func recordSuccess(_ agent: String) {
        update(agent) { breaker in
            breaker.failureCount = 0
            breaker.state = .closed
        }
    }

    func recordFailure(_ agent: String) {
        let now = store.now()
        update(agent) { breaker in
            breaker.failureCount += 1
            breaker.lastFailure = now
            if breaker.failureCount >= Self.failureThreshold || breaker.state == .halfOpen { breaker.state = .open }
        }
    }

    private func update(_ agent: String, _ change: (inout Breaker) -> Void) {
        let (old, new) = breakers.withLock { all -> (Breaker, Breaker) in
            let old = all[agent] ?? Breaker()
            var new = old
            change(&new)
            all[agent] = new
            return (old, new)
        }
        if old.state != new.state || old.failureCount != new.failureCount || old.lastFailure != new.lastFailure { persist(agent, new) }
        if old.state != new.state { onTransition(agent, old.state, new.state, new) }
    }

    private func persist(_ agent: String, _ breaker: Breaker) {
        try? store.saveBreaker(agent, breaker)
    }
}

extension OrchestrationStore {
    func loadBreakers() throws -> [String: CircuitBreakers.Breaker] {
        try db.read { c in
            Dictionary(uniqueKeysWithValues: try c.query("SELECT agent, state, failure_count, last_failure FROM circuit_breakers") { s in
                (s.string(0) ?? "", CircuitBreakers.Breaker(state: CircuitBreakers.State(rawValue: s.string(1) ?? "") ?? .closed,
                                                            failureCount: Int(s.int64(2)), lastFailure: s.optionalDouble(3)))
            })
        }
    }

    func saveBreaker(_ agent: String, _ breaker: CircuitBreakers.Breaker) throws {
        try db.write { c in
            try c.run("""
                INSERT INTO circuit_breakers (agent, state, failure_count, last_failure, updated_at) VALUES (?,?,?,?,?)
                ON CONFLICT(agent) DO UPDATE SET state = excluded.state, failure_count = excluded.failure_count,
                  last_failure = excluded.last_failure, updated_at = excluded.updated_at
                """, [.text(agent), .text(breaker.state.rawValue), .integer(Int64(breaker.failureCount)),
                      SQLiteValue(breaker.lastFailure), .real(now())])
        }
    }
}
