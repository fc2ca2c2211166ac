import Foundation

/// Autopack's configuration, read once from the environment (the spec's variable names).
struct AutopackSettings: Sendable {
    /// `AUTOPACK_API_KEY`: a module key accepted next to the daemon's own key (both answer 403 when wrong).
    var apiKey: String?
    /// `AUTOPACK_ENV=production`: read routes of the operator surface need a key, auto-approval is ignored,
    /// the Telegram webhook needs its secret.
    var production = false
    /// `AUTOPACK_PUBLIC_READ=1` (ignored in production): the operator surface (runs inbox, artifacts) is public.
    var publicRead = false
    /// `AUTOPACK_EXECUTOR_KEY_REQUIRED=1`: phase writes need the key too (the spec leaves them open).
    var executorKeyRequired = false
    /// `AUTO_APPROVE_BUILD113` (default false, as in the original's code; ignored in production).
    var autoApprove = false
    /// `APPROVAL_TIMEOUT_MINUTES` (15) and `APPROVAL_DEFAULT_ON_TIMEOUT` (`reject` or `approve`).
    var approvalTimeoutMinutes: Double = 15
    var approveOnTimeout = false
    /// `TELEGRAM_WEBHOOK_SECRET`: compared in constant time with `X-Telegram-Bot-Api-Secret-Token`.
    var telegramWebhookSecret: String?
    /// `AUTOPACK_ARTIFACT_READ_SIZE_CAP` (1 MiB; 0 = unlimited): longer artifacts are truncated on read.
    var artifactReadCap = 1 << 20
    /// `AUTOPACK_ARTIFACT_MAX_BYTES` (8 MiB): the largest artifact or upload accepted.
    var artifactMaxBytes = 8 << 20
    /// `AUTOPACK_VERSION` for `/health`'s `version`.
    var version = "1.0.0"
    /// `AUTOPACK_ENABLE_*` kill switches (all default off).
    var killSwitches: [(String, Bool)] = []
    /// `AUTOPACK_STORAGE_SCAN_ROOTS` (colon-separated): directories a storage scan may read; default the module's
    /// own folder only, so the API cannot walk the host's filesystem unless an operator allows it.
    var storageScanRoots: [String] = []
    /// Rate limits (per client IP per minute), the spec's defaults.
    var runStartPerMinute = 10
    var approvalRequestPerMinute = 10
    var webhookPerMinute = 30
    var loginPerMinute = 5
    var oauthAdminPerMinute = 5
    /// `AUTOPACK_OAUTH_RETRY_DELAY_SECONDS` (5): refresh retries wait delay · 2^attempt.
    var oauthRetryDelaySeconds: Double = 5
    /// `AUTOPACK_TRUSTED_PROXIES` (comma-separated addresses) besides loopback: peers allowed to set
    /// `X-Forwarded-For` for rate limiting.
    var trustedProxies: [String] = []

    /// The known kill switches: feature id and its environment variable.
    static let knownKillSwitches: [(String, String)] = [
        ("phase6_metrics", "AUTOPACK_ENABLE_PHASE6_METRICS"),
        ("consolidated_metrics", "AUTOPACK_ENABLE_CONSOLIDATED_METRICS"),
        ("intention_context", "AUTOPACK_ENABLE_INTENTION_CONTEXT"),
        ("failure_hardening", "AUTOPACK_ENABLE_FAILURE_HARDENING"),
    ]

    init() {
        killSwitches = Self.knownKillSwitches.map { ($0.0, false) }
    }

    init(environment env: [String: String]) {
        self.init()
        func flag(_ name: String) -> Bool { ["1", "true", "yes"].contains(env[name]?.lowercased() ?? "") }
        if let key = env["AUTOPACK_API_KEY"], !key.isEmpty { apiKey = key }
        production = env["AUTOPACK_ENV"]?.lowercased() == "production"
        publicRead = flag("AUTOPACK_PUBLIC_READ")
        executorKeyRequired = flag("AUTOPACK_EXECUTOR_KEY_REQUIRED")
        autoApprove = flag("AUTO_APPROVE_BUILD113")
        if let minutes = env["APPROVAL_TIMEOUT_MINUTES"].flatMap(Double.init), minutes > 0 { approvalTimeoutMinutes = minutes }
        approveOnTimeout = env["APPROVAL_DEFAULT_ON_TIMEOUT"]?.lowercased() == "approve"
        if let secret = env["TELEGRAM_WEBHOOK_SECRET"], !secret.isEmpty { telegramWebhookSecret = secret }
        if let cap = env["AUTOPACK_ARTIFACT_READ_SIZE_CAP"].flatMap(Int.init), cap >= 0 { artifactReadCap = cap }
        if let max = env["AUTOPACK_ARTIFACT_MAX_BYTES"].flatMap(Int.init), max > 0 { artifactMaxBytes = max }
        if let version = env["AUTOPACK_VERSION"], !version.isEmpty { self.version = version }
        killSwitches = Self.knownKillSwitches.map { ($0.0, env[$0.1] == "1") }
        if let delay = env["AUTOPACK_OAUTH_RETRY_DELAY_SECONDS"].flatMap(Double.init), delay >= 0 { oauthRetryDelaySeconds = delay }
        storageScanRoots = (env["AUTOPACK_STORAGE_SCAN_ROOTS"] ?? "").split(separator: ":").map(String.init)
        trustedProxies = (env["AUTOPACK_TRUSTED_PROXIES"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func isEnabled(_ feature: String) -> Bool { killSwitches.first { $0.0 == feature }?.1 ?? false }

    /// Whether the operator surface (runs inbox, progress, artifacts) needs the API key.
    var readNeedsKey: Bool { production || !publicRead }
}
