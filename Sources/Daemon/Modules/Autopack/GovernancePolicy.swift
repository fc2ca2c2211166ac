/// The original's governance rules for files a builder changed outside its allowed paths: a risk level per
/// path (the maximum wins) and a narrow auto-approval (tests and docs only, small diffs, default deny).
enum GovernancePolicy {
    static let riskOrder = ["low", "medium", "high", "critical"]
    static let coreFiles = ["models.py", "main.py", "governed_apply.py", "autonomous_executor.py", "quality_gate.py"]
    static let protectedPrefixes = ["alembic/versions/", ".git/", "config/", ".autonomous_runs/"]
    static let maxAutoApprovedLines = 100

    static func fileName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    static func isProtected(_ path: String) -> Bool {
        coreFiles.contains(fileName(path)) || protectedPrefixes.contains { path.hasPrefix($0) } || fileName(path).hasPrefix(".env")
    }

    static func risk(of path: String) -> String {
        if isProtected(path) { return "critical" }
        if path.hasPrefix("src/autopack/") && path.hasSuffix(".py") { return "high" }
        if path.hasPrefix("tests/") || path.hasPrefix("docs/") { return "low" }
        return "medium"
    }

    static func risk(of paths: [String]) -> String {
        paths.map { risk(of: $0) }.max { riskOrder.firstIndex(of: $0)! < riskOrder.firstIndex(of: $1)! } ?? "low"
    }

    /// Allowed only for `tests/test_*.py` and `docs/*.md`, low risk, at most 100 changed lines.
    static func autoApproves(_ paths: [String], linesChanged: Int) -> Bool {
        guard !paths.isEmpty, linesChanged <= maxAutoApprovedLines, risk(of: paths) == "low" else { return false }
        return paths.allSatisfy { path in
            let name = fileName(path)
            return (path.hasPrefix("tests/") && name.hasPrefix("test_") && name.hasSuffix(".py"))
                || (path.hasPrefix("docs/") && name.hasSuffix(".md"))
        }
    }
}
