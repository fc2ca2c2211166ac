import Foundation
import HTTPServer

/// Refreshes one provider's OAuth credential; returns the new expiry (epoch seconds). Offline there is no
/// provider to call, so the built-in refresher fails like an unreachable network and the lifecycle (retries,
/// failure counts, pause) runs for real on top of it.
protocol OAuthRefresher: Sendable {
    func refresh(provider: String) -> Result<Double, OAuthRefreshError>
}

enum OAuthRefreshError: Error {
    case network(String)
    case invalidGrant
}

struct OfflineOAuthRefresher: OAuthRefresher {
    func refresh(provider: String) -> Result<Double, OAuthRefreshError> {
        .failure(.network("no refresh handler configured for \(provider) (argusd runs offline)"))
    }
}

extension AutopackStore {
    static let maxRefreshRetries = 3

    /// The original's status rules: invalid_grant → revoked, ≥ 3 failures → refresh_failed, expired (60 s
    /// buffer) → expired, expiring within 300 s → refresh_pending (still healthy), else valid.
    static func credentialStatus(expiresAt: Double, lastResult: String?, failures: Int, now: Double) -> String {
        if lastResult == "invalid_grant" { return "revoked" }
        if failures >= 3 { return "refresh_failed" }
        if expiresAt <= now + 60 { return "expired" }
        if expiresAt <= now + 300 { return "refresh_pending" }
        return "valid"
    }

    func credentialJSON(_ s: SQLiteStatement, now: Double) -> JSONValue {
        let status = Self.credentialStatus(expiresAt: s.double(1), lastResult: s.string(4), failures: s.int(5), now: now)
        return .object([("provider", .string(s.string(0) ?? "")), ("status", .string(status)),
                        ("healthy", .bool(status == "valid" || status == "refresh_pending")),
                        ("expires_at", AutopackTime.json(s.double(1))), ("seconds_until_expiry", .int(Int(s.double(1) - now))),
                        ("scopes", JSONValue.parse(s.string(2))), ("last_refresh_at", AutopackTime.json(s.optionalDouble(3))),
                        ("last_refresh_result", s.optionalString(4)), ("consecutive_failures", .int(s.int(5))),
                        ("paused", .bool(s.int(6) != 0))])
    }

    static let credentialColumns = "provider, expires_at, scopes, last_refresh_at, last_refresh_result, consecutive_failures, paused"

    func logCredentialEvent(_ c: SQLiteConnection, provider: String, type: String, detail: String?) throws {
        try c.run("INSERT INTO oauth_events (provider, event_type, detail, created_at) VALUES (?, ?, ?, ?)",
                  [.text(provider), .text(type), .of(detail), .real(now)])
    }

    func registerCredential(provider: String, expiresAt: Double, scopes: [String]) throws -> JSONValue {
        try transaction { c in
            try c.run("""
                INSERT INTO oauth_credentials (provider, expires_at, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (provider) DO UPDATE SET expires_at = excluded.expires_at, scopes = excluded.scopes,
                    updated_at = excluded.updated_at
                """, [.text(provider), .real(expiresAt), .text(JSONValue.array(scopes.map { .string($0) }).encodedString), .real(now), .real(now)])
            try logCredentialEvent(c, provider: provider, type: "registered", detail: nil)
            return try credential(c, provider: provider)!
        }
    }

    func credential(_ c: SQLiteConnection, provider: String) throws -> JSONValue? {
        let now = self.now
        return try c.query("SELECT \(Self.credentialColumns) FROM oauth_credentials WHERE provider = ?", [.text(provider)]) {
            credentialJSON($0, now: now)
        }.first
    }

    func credentialHealth(provider: String) throws -> JSONValue {
        try read { c in
            guard let row = try credential(c, provider: provider) else { throw notFound("No credential for provider \(provider)") }
            return row
        }
    }

    func credentialEvents(provider: String?, limit: Int) throws -> JSONValue {
        try read { c in
            .array(try c.query("""
                SELECT id, provider, event_type, detail, created_at FROM oauth_events WHERE (?1 IS NULL OR provider = ?1)
                ORDER BY id DESC LIMIT ?2
                """, [.of(provider), .of(limit)]) { s -> JSONValue in
                .object([("id", .int(s.int(0))), ("provider", .string(s.string(1) ?? "")), ("event_type", .string(s.string(2) ?? "")),
                         ("detail", s.optionalString(3)), ("timestamp", AutopackTime.json(s.double(4)))])
            })
        }
    }

    func credentialReport() throws -> JSONValue {
        let now = self.now
        let credentials = try read { c in
            try c.query("SELECT \(Self.credentialColumns) FROM oauth_credentials ORDER BY provider") { credentialJSON($0, now: now) }
        }
        let healthy = credentials.filter { $0["healthy"] == .bool(true) }.count
        return .object([
            ("generated_at", .string(AutopackTime.iso(now))),
            ("summary", .object([("total_credentials", .int(credentials.count)), ("healthy_count", .int(healthy)),
                                 ("attention_required_count", .int(credentials.count - healthy)),
                                 ("overall_healthy", .bool(healthy == credentials.count))])),
            ("credentials", .object(credentials.map { ($0["provider"]?.stringValue ?? "", $0) })),
            ("recent_events", try credentialEvents(provider: nil, limit: 20)),
        ])
    }

    /// Clears the failure count and the pause.
    func resetCredential(provider: String, by user: String) throws -> JSONValue {
        try transaction { c in
            guard try credential(c, provider: provider) != nil else { throw notFound("No credential for provider \(provider)") }
            try c.run("UPDATE oauth_credentials SET consecutive_failures = 0, paused = 0, updated_at = ? WHERE provider = ?",
                      [.real(now), .text(provider)])
            try logCredentialEvent(c, provider: provider, type: "reset", detail: "by \(user)")
            return .object([("status", "reset"), ("provider", .string(provider)), ("credential", try credential(c, provider: provider)!)])
        }
    }

    /// One refresh with bounded retries (delay · 2^attempt between them); `invalid_grant` stops at once. When
    /// every attempt fails the failure count grows; at 3 the credential is paused. Runs on the caller's thread.
    func refreshCredential(provider: String, refresher: any OAuthRefresher, retryDelay: Double) {
        for attempt in 0..<Self.maxRefreshRetries {
            let result = refresher.refresh(provider: provider)
            let done: Bool = (try? transaction { c -> Bool in
                switch result {
                case .success(let expiry):
                    try c.run("""
                        UPDATE oauth_credentials SET expires_at = ?, last_refresh_at = ?, last_refresh_result = 'success',
                            consecutive_failures = 0, paused = 0, updated_at = ? WHERE provider = ?
                        """, [.real(expiry), .real(now), .real(now), .text(provider)])
                    try logCredentialEvent(c, provider: provider, type: "refresh_succeeded", detail: nil)
                    return true
                case .failure(.invalidGrant):
                    try c.run("UPDATE oauth_credentials SET last_refresh_at = ?, last_refresh_result = 'invalid_grant', updated_at = ? WHERE provider = ?",
                              [.real(now), .real(now), .text(provider)])
                    try logCredentialEvent(c, provider: provider, type: "refresh_revoked", detail: "invalid_grant")
                    return true
                case .failure(.network(let reason)):
                    try logCredentialEvent(c, provider: provider, type: "refresh_attempt_failed", detail: "attempt \(attempt + 1): \(reason)")
                    guard attempt == Self.maxRefreshRetries - 1 else { return false }
                    try c.run("""
                        UPDATE oauth_credentials SET last_refresh_at = ?, last_refresh_result = 'network_error',
                            consecutive_failures = consecutive_failures + 1,
                            paused = CASE WHEN consecutive_failures + 1 >= 3 THEN 1 ELSE paused END, updated_at = ? WHERE provider = ?
                        """, [.real(now), .real(now), .text(provider)])
                    try logCredentialEvent(c, provider: provider, type: "refresh_failed", detail: "retries exhausted")
                    return true
                }
            }) ?? true
            if done { return }
            if retryDelay > 0 { Thread.sleep(forTimeInterval: retryDelay * pow(2, Double(attempt))) }
        }
    }
}
