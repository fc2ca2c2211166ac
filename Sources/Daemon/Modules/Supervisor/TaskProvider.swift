import Foundation
import HTTPServer

/// What a provider returns for one task.
struct ProviderOutcome: Sendable {
    var success: Bool
    var output: JSONValue
    var error: String?
    var tokensIn = 0
    var tokensOut = 0
    var costUSD = 0.0
}

/// Something that executes supervisor tasks. No LLM is reachable from argusd, so the built-ins are local:
/// ``LocalAnalysisProvider`` (real deterministic analysis per task type) and ``LocalMockProvider`` (the
/// original's `local-mock`: deterministic echo with a fixed failure rate, for tests and load). Providers
/// registered over the API with other types are declared but report unhealthy: there is no network to reach them.
protocol TaskProvider: Sendable {
    var kind: String { get }
    func supports(_ taskType: String) -> Bool
    func execute(taskType: String, payload: JSONValue) -> ProviderOutcome
}

/// Deterministic work per task type, with no model behind it:
/// - CODE_ANALYSIS: line, comment, function and branch counts, cyclomatic estimate, long lines, TODOs;
/// - SECURITY_AUDIT: secret patterns (AWS keys, private keys, hard-coded passwords/tokens) with line numbers;
/// - DOCUMENTATION: doc comments and docstrings extracted;
/// - PR_REVIEW: unified-diff statistics and findings in the added lines;
/// - ISSUE_SUMMARY: first sentence, keywords and a label guess.
/// REFACTOR, BUG_FIX, FEATURE, TESTING and DEPLOYMENT need a code-writing model: they fail with
/// "no provider", which takes the task through the real retry path to `failed`.
struct LocalAnalysisProvider: TaskProvider {
    let kind = "local"
    static let supported: Set<String> = ["CODE_ANALYSIS", "SECURITY_AUDIT", "DOCUMENTATION", "PR_REVIEW", "ISSUE_SUMMARY"]

    func supports(_ taskType: String) -> Bool { Self.supported.contains(taskType) }

    func execute(taskType: String, payload: JSONValue) -> ProviderOutcome {
        guard supports(taskType) else {
            return ProviderOutcome(success: false, output: .null, error: "no provider can execute \(taskType) tasks offline")
        }
        let text: String
        switch taskType {
        case "PR_REVIEW": text = payload["diff"]?.stringValue ?? ""
        case "ISSUE_SUMMARY": text = [payload["title"]?.stringValue, payload["body"]?.stringValue].compactMap { $0 }.joined(separator: "\n")
        default: text = Self.source(payload)
        }
        guard !text.isEmpty else {
            let field = taskType == "PR_REVIEW" ? "diff" : taskType == "ISSUE_SUMMARY" ? "title or body" : "code or files"
            return ProviderOutcome(success: false, output: .null, error: "payload has no \(field) to work on")
        }
        let output: JSONValue = switch taskType {
        case "CODE_ANALYSIS": Self.analyse(text)
        case "SECURITY_AUDIT": Self.audit(text)
        case "DOCUMENTATION": Self.documentation(text)
        case "PR_REVIEW": Self.review(text)
        default: Self.summarise(text)
        }
        let words = text.split(whereSeparator: \.isWhitespace).count
        return ProviderOutcome(success: true, output: output, error: nil, tokensIn: words, tokensOut: output.encoded().count / 4)
    }

    static func source(_ payload: JSONValue) -> String {
        if let code = payload["code"]?.stringValue { return code }
        if let files = payload["files"]?.objectValue { return files.compactMap { $0.1.stringValue }.joined(separator: "\n") }
        return ""
    }

    static func count(_ pattern: String, in text: String) -> Int {
        (try? NSRegularExpression(pattern: pattern))?.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)) ?? 0
    }

    static func analyse(_ code: String) -> JSONValue {
        let lines = code.components(separatedBy: "\n")
        let blank = lines.filter { $0.trimmingCharacters(in: .whitespaces).isEmpty }.count
        let comments = lines.filter { let t = $0.trimmingCharacters(in: .whitespaces); return t.hasPrefix("//") || t.hasPrefix("#") || t.hasPrefix("/*") || t.hasPrefix("*") }.count
        let functions = count(#"\b(func|def|function|fn)\s+\w+"#, in: code)
        let branches = count(#"\b(if|for|while|case|catch|guard|elif|except)\b|&&|\|\|"#, in: code)
        return ["lines": .int(lines.count), "blank_lines": .int(blank), "comment_lines": .int(comments),
                "code_lines": .int(lines.count - blank - comments), "functions": .int(functions), "branches": .int(branches),
                "cyclomatic_complexity": .int(branches + 1), "long_lines": .int(lines.filter { $0.count > 120 }.count),
                "todos": .int(count(#"\b(TODO|FIXME|XXX)\b"#, in: code))]
    }

    static let secretRules: [(String, String)] = [
        ("aws_access_key", #"AKIA[0-9A-Z]{16}"#),
        ("private_key", #"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"#),
        ("hardcoded_secret", #"(?i)(password|passwd|secret|api[_-]?key|token)\s*[:=]\s*["'][^"']{6,}["']"#),
        ("bearer_token", #"(?i)bearer\s+[a-z0-9\-_\.]{20,}"#),
    ]

    static func audit(_ code: String) -> JSONValue {
        var findings: [JSONValue] = []
        for (number, line) in code.components(separatedBy: "\n").enumerated() {
            for (rule, pattern) in secretRules where count(pattern, in: line) > 0 {
                findings.append(["rule": .string(rule), "line": .int(number + 1), "severity": rule == "private_key" ? "critical" : "high"])
            }
        }
        let risk = findings.isEmpty ? "low" : findings.contains { $0["severity"] == "critical" } ? "critical" : "high"
        return ["findings": .array(findings), "finding_count": .int(findings.count), "risk_level": .string(risk)]
    }

    static func documentation(_ code: String) -> JSONValue {
        var docs: [JSONValue] = []
        for (number, line) in code.components(separatedBy: "\n").enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("///") || t.hasPrefix("/**") || t.hasPrefix("\"\"\"") || t.hasPrefix("#:") {
                let text = t.trimmingCharacters(in: CharacterSet(charactersIn: "/*\"#: "))
                if !text.isEmpty { docs.append(["line": .int(number + 1), "text": .string(text)]) }
            }
        }
        return ["doc_comments": .array(docs), "count": .int(docs.count)]
    }

    static func review(_ diff: String) -> JSONValue {
        let lines = diff.components(separatedBy: "\n")
        let files = lines.filter { $0.hasPrefix("+++ ") }.map { String($0.dropFirst(4)).replacingOccurrences(of: "b/", with: "") }
        let added = lines.filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }
        let removed = lines.filter { $0.hasPrefix("-") && !$0.hasPrefix("---") }
        let audit = Self.audit(added.joined(separator: "\n"))
        let todos = count(#"\b(TODO|FIXME)\b"#, in: added.joined(separator: "\n"))
        let findings = (audit["finding_count"]?.intValue ?? 0) + todos
        return ["files_changed": .array(files.map(JSONValue.string)), "additions": .int(added.count), "deletions": .int(removed.count),
                "secret_findings": audit["findings"] ?? [], "new_todos": .int(todos),
                "verdict": findings == 0 ? "approve" : "changes_requested"]
    }

    static let stopwords: Set<String> = ["the", "a", "an", "and", "or", "of", "to", "in", "is", "it", "on", "for", "with", "when",
                                         "this", "that", "be", "are", "was", "not", "at", "by", "from", "as", "i", "we"]

    static func summarise(_ text: String) -> JSONValue {
        let sentence = text.split(whereSeparator: { ".!?\n".contains($0) }).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        var frequency: [String: Int] = [:]
        for word in words where word.count > 2 && !stopwords.contains(word) { frequency[word, default: 0] += 1 }
        let keywords = frequency.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map(\.key)
        let lower = text.lowercased()
        let label = ["error", "crash", "fail", "bug", "broken", "exception"].contains(where: lower.contains) ? "bug"
            : ["add", "support", "feature", "request", "allow"].contains(where: lower.contains) ? "enhancement" : "question"
        return ["summary": .string(sentence), "word_count": .int(words.count), "keywords": .array(keywords.map(JSONValue.string)),
                "suggested_label": .string(label)]
    }
}

/// The original's `local-mock`: accepts every task type, echoes a digest of the payload, and fails
/// deterministically for 5 % of payloads (by their hash), so failure paths can be exercised on purpose.
struct LocalMockProvider: TaskProvider {
    let kind = "local_mock"
    func supports(_ taskType: String) -> Bool { true }
    func execute(taskType: String, payload: JSONValue) -> ProviderOutcome {
        let digest = sha256(payload.encoded())
        if payload["force_failure"] == .bool(true) || digest[0] < 13 {   // 13/256 ≈ 5 %
            return ProviderOutcome(success: false, output: .null, error: "local-mock simulated failure")
        }
        return ProviderOutcome(success: true, output: ["echo_sha256": .string(digest.prefix(8).map { String(format: "%02x", $0) }.joined()),
                                                       "task_type": .string(taskType)], error: nil)
    }
}
