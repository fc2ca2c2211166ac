import Foundation
import Synchronization
import Training

/// Crypto health for the console: the served model folder's signatures (every file's SHA-256 against
/// `manifest.json`, re-verified through libcrypto on every model load and on a timer) and the vault's
/// AES-256-GCM items (each opened and its tag checked). Every check is a row in `crypto_checks`; the running
/// totals are kept in memory for the WebSocket.
final class CryptoHealthMonitor: Sendable {
    struct Totals: Sendable {
        var validated = 0, failed = 0
        var lastModelCheckOK: Bool?
        var lastVaultCheckOK: Bool?
    }

    let store: VaultStore
    let clock: any DaemonClock
    private let totals = Mutex(Totals())
    private let modelFolder = Mutex<URL?>(nil)

    init(store: VaultStore, clock: any DaemonClock) throws {
        self.store = store
        self.clock = clock
        let saved = try store.checkTotals()
        totals.withLock { $0.validated = saved.validated; $0.failed = saved.failed }
    }

    var current: Totals { totals.withLock { $0 } }
    var servedModelFolder: URL? { modelFolder.withLock { $0 } }

    /// Verifies every file of a model folder against its manifest. Returns (validated, failed).
    @discardableResult
    func verifyModel(folder: URL) -> (Int, Int) {
        modelFolder.withLock { $0 = folder }
        var checks: [(subject: String, kind: String, ok: Bool, detail: String?)] = []
        let name = folder.lastPathComponent
        do {
            let manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
            for (file, entry) in manifest.files.sorted(by: { $0.key < $1.key }) {
                let subject = "\(name)/\(file)"
                do {
                    let digest = try TelemetryDigest.sha256(file: folder.appendingPathComponent(file).path)
                    let ok = digest.hex == entry.sha256 && digest.bytes == entry.bytes
                    checks.append((subject, "model_manifest", ok, ok ? nil : "SHA-256 or size differs from manifest.json"))
                } catch {
                    checks.append((subject, "model_manifest", false, String(describing: error)))
                }
            }
        } catch {
            checks.append(("\(name)/manifest.json", "model_manifest", false, "unreadable manifest: \(error)"))
        }
        record(checks, modelOK: checks.allSatisfy(\.ok), vaultOK: nil)
        return (checks.filter(\.ok).count, checks.filter { !$0.ok }.count)
    }

    /// Re-verifies the model folder last loaded (timer).
    func reverifyServedModel() {
        if let folder = servedModelFolder { verifyModel(folder: folder) }
    }

    /// Opens every vault item. Returns (verified, total). With `record` false (a status read) the outcome is
    /// not logged as checks, so polling the console does not grow `crypto_checks`.
    @discardableResult
    func verifyVault(_ vault: SecretVault?, record shouldRecord: Bool = true) -> (verified: Int, total: Int) {
        guard let vault, let items = try? store.items() else { return (0, 0) }
        var checks: [(subject: String, kind: String, ok: Bool, detail: String?)] = []
        for item in items {
            let ok = vault.verify(item.sealed, associated: SecretVault.associatedData(id: item.id, name: item.name, category: item.category))
            checks.append(("vault/\(item.id)", "vault_seal", ok, ok ? nil : "GCM tag did not verify (key \(vault.keyID), sealed with \(item.keyID))"))
        }
        if shouldRecord && !checks.isEmpty { record(checks, modelOK: nil, vaultOK: checks.allSatisfy(\.ok)) }
        return (checks.filter(\.ok).count, items.count)
    }

    private func record(_ checks: [(subject: String, kind: String, ok: Bool, detail: String?)], modelOK: Bool?, vaultOK: Bool?) {
        try? store.recordChecks(checks, at: clock.now().timeIntervalSince1970)
        totals.withLock { t in
            t.validated += checks.filter(\.ok).count
            t.failed += checks.filter { !$0.ok }.count
            if let modelOK { t.lastModelCheckOK = modelOK }
            if let vaultOK { t.lastVaultCheckOK = vaultOK }
        }
    }

    /// healthy when the latest model and vault checks passed; degraded when one failed or nothing was checked
    /// yet; unhealthy when both failed.
    var status: String {
        let t = current
        switch (t.lastModelCheckOK, t.lastVaultCheckOK) {
        case (false?, false?): return "unhealthy"
        case (false?, _), (_, false?): return "degraded"
        case (nil, nil): return "unknown"
        default: return "healthy"
        }
    }
}
