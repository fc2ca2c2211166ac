import Foundation
import HTTPServer
import Synchronization

/// Remote access sessions: every authenticated caller of the console (API key fingerprint + address) opens a
/// session that stays active while requests keep coming and ends after 15 idle minutes. Counts are kept in
/// memory and written on a timer, so a request costs one dictionary update.
final class SessionRecorder: Sendable {
    static let idleSeconds = 900.0

    private struct Live {
        var id: String
        var lastSeen: Double
        var requests: Int
        var dirty: Bool
    }

    let database: SQLiteDatabase
    let clock: any DaemonClock
    private let live = Mutex<[String: Live]>([:])

    init(database: SQLiteDatabase, clock: any DaemonClock) {
        self.database = database
        self.clock = clock
    }

    /// Sessions a restart cut off end at their last recorded request.
    func closeInterrupted() throws {
        try database.write { c in try c.run("UPDATE remote_sessions SET ended_at = last_seen_at WHERE ended_at IS NULL") }
    }

    func touch(user: String, address: String) {
        let now = clock.now().timeIntervalSince1970
        let key = user + "|" + address
        let opened: String? = live.withLock { sessions in
            if var s = sessions[key], now - s.lastSeen < Self.idleSeconds {
                s.lastSeen = now
                s.requests += 1
                s.dirty = true
                sessions[key] = s
                return nil
            }
            let id = TelemetryFormat.id("sess")
            sessions[key] = Live(id: id, lastSeen: now, requests: 1, dirty: false)
            return id
        }
        if let opened {
            try? database.write { c in
                try c.run("""
                    INSERT INTO remote_sessions (id, user, client_address, started_at, last_seen_at, request_count) VALUES (?, ?, ?, ?, ?, 1)
                    """, [.text(opened), .text(user), .text(address), .real(now), .real(now)])
            }
        }
    }

    /// Writes counts and ends idle sessions (timer).
    func flush() {
        let now = clock.now().timeIntervalSince1970
        let (updates, ended) = live.withLock { sessions -> ([Live], [Live]) in
            let updates = sessions.values.filter(\.dirty)
            let idle = sessions.filter { now - $0.value.lastSeen >= Self.idleSeconds }
            for key in idle.keys { sessions[key] = nil }
            for key in sessions.keys { sessions[key]?.dirty = false }
            return (updates, Array(idle.values))
        }
        guard !updates.isEmpty || !ended.isEmpty else { return }
        try? database.writeTransaction { c in
            for s in updates {
                try c.run("UPDATE remote_sessions SET last_seen_at = ?, request_count = ? WHERE id = ?",
                          [.real(s.lastSeen), .integer(Int64(s.requests)), .text(s.id)])
            }
            for s in ended {
                try c.run("UPDATE remote_sessions SET last_seen_at = ?, request_count = ?, ended_at = ? WHERE id = ?",
                          [.real(s.lastSeen), .integer(Int64(s.requests)), .real(s.lastSeen), .text(s.id)])
            }
        }
    }

    struct Session: Sendable {
        var id, user, clientAddress: String
        var startedAt, lastSeenAt: Double
        var endedAt: Double?
        var requestCount: Int
    }

    func sessions(activeOnly: Bool, limit: Int) throws -> [Session] {
        flush()
        return try database.read { c in
            try c.query("""
                SELECT id, user, client_address, started_at, last_seen_at, ended_at, request_count FROM remote_sessions
                \(activeOnly ? "WHERE ended_at IS NULL" : "") ORDER BY started_at DESC, id LIMIT ?
                """, [.integer(Int64(limit))]) { s in
                Session(id: s.string(0) ?? "", user: s.string(1) ?? "", clientAddress: s.string(2) ?? "", startedAt: s.double(3),
                        lastSeenAt: s.double(4), endedAt: s.isNull(5) ? nil : s.double(5), requestCount: Int(s.int64(6)))
            }
        }
    }
}

/// Records the caller of every console request (after ``APIKeyMiddleware`` has named it).
struct SessionMiddleware<Context: RequestContext>: Middleware {
    let recorder: SessionRecorder

    func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        recorder.touch(user: context.core.clientIdentity, address: request.remoteAddress)
        return next(request, &context)
    }
}
