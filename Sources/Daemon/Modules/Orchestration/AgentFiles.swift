import Foundation
import HTTPServer

/// Agent configuration files (spec §5.6–5.10) as real files under one root directory
/// (`<data-dir>/orchestration/agent-files/`). Every client path is checked the way Autopack checks
/// artifact paths: decoded twice, no `..`, no absolute paths or drive letters, no NUL, and the resolved path
/// (symlinks followed) must stay inside the root. The original had no such check.
struct AgentFiles: Sendable {
    static let fileTypes = ["skill", "mcp", "instruction", "config"]
    static let maxBytes = 1024 * 1024
    let root: URL

    init(root: URL) throws {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath()
        try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
    }

    /// The type a path implies (the original's rule): `.claude/skills` → skill, `.claude/commands` → instruction,
    /// "mcp" in the path → mcp, else config.
    static func type(of path: String) -> String {
        if path.contains(".claude/skills") { return "skill" }
        if path.contains(".claude/commands") { return "instruction" }
        if path.lowercased().contains("mcp") { return "mcp" }
        return "config"
    }

    /// The contained URL for a client path, or a 422 naming `loc`.
    func resolve(_ raw: String, loc: [Loc]) throws -> (relative: String, url: URL) {
        func reject(_ why: String) -> ValidationError { ValidationError(location: loc, message: why, type: "value_error.path") }
        var path = raw
        for _ in 0..<2 { path = path.removingPercentEncoding ?? path }
        guard !path.isEmpty, path.count <= 512 else { throw reject("path must be 1 to 512 characters") }
        guard !path.contains("\0") else { throw reject("path must not contain NUL") }
        path = path.replacingOccurrences(of: "\\", with: "/")
        guard !path.hasPrefix("/"), !(path.count >= 2 && path.dropFirst().first == ":") else { throw reject("path must be relative") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains(where: { $0 == ".." }) else { throw reject("path must not contain '..'") }
        let relative = parts.filter { $0 != "." }.joined(separator: "/")
        guard !relative.isEmpty else { throw reject("path must name a file") }
        let url = root.appendingPathComponent(relative).standardizedFileURL
        let resolvedParent = url.deletingLastPathComponent().resolvingSymlinksInPath().path
        let resolved = url.resolvingSymlinksInPath().path
        guard resolvedParent == root.path || resolvedParent.hasPrefix(root.path + "/"),
              resolved == root.path || resolved.hasPrefix(root.path + "/") else { throw reject("path escapes the agent files root") }
        return (relative, url)
    }

    func json(relative: String, url: URL, includeContent: Bool = true) throws -> JSONValue {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970
        var members: [(String, JSONValue)] = [("file_path", .string(relative)), ("file_type", .string(Self.type(of: relative)))]
        if includeContent { members.append(("content", .string(String(decoding: try Data(contentsOf: url), as: UTF8.self)))) }
        members.append(("last_modified", OrchestrationStore.iso(modified)))
        members.append(("size_bytes", .int((attributes[.size] as? Int) ?? 0)))
        return .object(members)
    }

    /// Every regular file under the root, optionally of one type, sorted by path.
    func list(type: String?) throws -> [JSONValue] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var found: [(String, URL)] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let full = url.standardizedFileURL.resolvingSymlinksInPath().path
            guard full.hasPrefix(root.path + "/") else { continue }
            let relative = String(full.dropFirst(root.path.count + 1))
            if let type, Self.type(of: relative) != type { continue }
            found.append((relative, url))
        }
        return try found.sorted { $0.0 < $1.0 }.map { try json(relative: $0.0, url: $0.1) }
    }

    func exists(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Writes atomically (temp file + rename), creating parent folders.
    func write(_ content: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url, options: .atomic)
    }

    func delete(_ url: URL) throws { try FileManager.default.removeItem(at: url) }
}
