import Foundation

/// SQL for vault items, their audit trail, and the crypto check log behind `/crypto/health`.
struct VaultStore: Sendable {
    let database: SQLiteDatabase

    struct Item: Sendable {
        var id, name, category, keyID: String
        var sealed: SecretVault.Sealed
        var createdAt: Double
    }

    enum StoreOutcome { case stored, duplicate }

    /// Inserts the sealed item and its audit row in one transaction; `.duplicate` when the name exists.
    func insert(_ item: Item, client: String) throws -> StoreOutcome {
        try database.writeTransaction { c in
            let exists = (try c.scalar("SELECT COUNT(*) FROM secrets WHERE name = ?", [.text(item.name)])?.int64 ?? 0) > 0
            if exists {
                try c.run("INSERT INTO secret_audit (secret_id, name, action, client, at) VALUES (NULL, ?, 'rejected_duplicate', ?, ?)",
                          [.text(item.name), .text(client), .real(item.createdAt)])
                return .duplicate
            }
            try c.run("""
                INSERT INTO secrets (id, name, category, nonce, ciphertext, tag, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(item.id), .text(item.name), .text(item.category), .blob(item.sealed.nonce), .blob(item.sealed.ciphertext),
                      .blob(item.sealed.tag), .text(item.keyID), .real(item.createdAt)])
            try c.run("INSERT INTO secret_audit (secret_id, name, action, client, at) VALUES (?, ?, 'stored', ?, ?)",
                      [.text(item.id), .text(item.name), .text(client), .real(item.createdAt)])
            return .stored
        }
    }

    func audit(name: String, action: String, client: String, at: Double) throws {
        try database.write { c in
            try c.run("INSERT INTO secret_audit (secret_id, name, action, client, at) VALUES (NULL, ?, ?, ?, ?)",
                      [.text(name), .text(action), .text(client), .real(at)])
        }
    }

    func items() throws -> [Item] {
        try database.read { c in
            try c.query("SELECT id, name, category, key_id, nonce, ciphertext, tag, created_at FROM secrets ORDER BY created_at") { s in
                Item(id: s.string(0) ?? "", name: s.string(1) ?? "", category: s.string(2) ?? "", keyID: s.string(3) ?? "",
                     sealed: .init(nonce: s.data(4) ?? Data(), ciphertext: s.data(5) ?? Data(), tag: s.data(6) ?? Data()),
                     createdAt: s.double(7))
            }
        }
    }

    func auditCount() throws -> Int {
        try database.read { c in Int(try c.scalar("SELECT COUNT(*) FROM secret_audit")?.int64 ?? 0) }
    }

    // MARK: Crypto checks

    func recordChecks(_ checks: [(subject: String, kind: String, ok: Bool, detail: String?)], at: Double) throws {
        try database.writeTransaction { c in
            for check in checks {
                try c.run("INSERT INTO crypto_checks (subject, kind, ok, detail, at) VALUES (?, ?, ?, ?, ?)",
                          [.text(check.subject), .text(check.kind), .integer(check.ok ? 1 : 0), check.detail.map { .text($0) } ?? .null, .real(at)])
            }
        }
    }

    struct CheckTotals: Sendable {
        var validated = 0, failed = 0
        var lastCheckAt: Double?
        var lastFailure: String?
    }

    func checkTotals() throws -> CheckTotals {
        try database.read { c in
            var totals = try c.query("SELECT COALESCE(SUM(ok), 0), COALESCE(SUM(1 - ok), 0), MAX(at) FROM crypto_checks") { s in
                CheckTotals(validated: Int(s.int64(0)), failed: Int(s.int64(1)), lastCheckAt: s.isNull(2) ? nil : s.double(2))
            }.first ?? CheckTotals()
            totals.lastFailure = try c.scalar("SELECT subject || ': ' || COALESCE(detail, '') FROM crypto_checks WHERE ok = 0 ORDER BY at DESC LIMIT 1")?.string
            return totals
        }
    }
}
