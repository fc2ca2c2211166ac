import Foundation
import HTTPServer

extension AutopackStore {
    /// The directories a scan may read: `AUTOPACK_STORAGE_SCAN_ROOTS`, else the module's own folder.
    var scanRoots: [String] {
        let roots = settings.storageScanRoots.isEmpty ? [folder.path] : settings.storageScanRoots
        return roots.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().standardizedFileURL.path }
    }

    /// Runs a scan of `target` (which must lie inside a scan root) and persists it with its candidates.
    func runStorageScan(scanType: String, target: String, maxDepth: Int, maxItems: Int, createdBy: String?) throws -> JSONValue {
        let resolved = URL(fileURLWithPath: target).resolvingSymlinksInPath().standardizedFileURL.path
        guard scanRoots.contains(where: { resolved == $0 || resolved.hasPrefix($0 + "/") }) else {
            throw ValidationError(location: ["body", "scan_target"], message: "outside the allowed scan roots (AUTOPACK_STORAGE_SCAN_ROOTS)",
                                  type: "value_error.scan_root")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError(location: ["body", "scan_target"], message: "not an existing directory", type: "value_error.path")
        }
        let now = self.now
        let result = StorageScanner(maxDepth: maxDepth, maxItems: maxItems, now: now).scan(URL(fileURLWithPath: resolved))
        let id = try transaction { c -> Int in
            try c.run("""
                INSERT INTO storage_scans (scan_type, scan_target, total_items, total_size_bytes, candidates_count,
                    potential_savings_bytes, truncated, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(scanType), .text(resolved), .of(result.items.count), .of(result.items.reduce(0) { $0 + $1.size }),
                      .of(result.candidates.count), .of(result.candidates.reduce(0) { $0 + $1.item.size }), .of(result.truncated),
                      .of(createdBy), .real(now)])
            let id = Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
            for candidate in result.candidates {
                try c.run("""
                    INSERT INTO storage_candidates (scan_id, path, category, size_bytes, modified_at, reason) VALUES (?, ?, ?, ?, ?, ?)
                    """, [.of(id), .text(candidate.item.path), .text(candidate.category), .of(candidate.item.size),
                          .real(candidate.item.modified), .text(candidate.reason)])
            }
            return id
        }
        return try storageScan(id: id)
    }

    static let scanColumns = """
        id, scan_type, scan_target, total_items, total_size_bytes, candidates_count, potential_savings_bytes, truncated,
        created_by, created_at
        """

    func scanJSON(_ s: SQLiteStatement) -> JSONValue {
        .object([("id", .int(s.int(0))), ("scan_type", .string(s.string(1) ?? "")), ("scan_target", .string(s.string(2) ?? "")),
                 ("total_items", .int(s.int(3))), ("total_size_bytes", .int(s.int(4))), ("candidates_count", .int(s.int(5))),
                 ("potential_savings_bytes", .int(s.int(6))), ("truncated", .bool(s.int(7) != 0)),
                 ("created_by", s.optionalString(8)), ("created_at", AutopackTime.json(s.double(9)))])
    }

    func storageScans(limit: Int, offset: Int) throws -> JSONValue {
        try read { c in
            .array(try c.query("SELECT \(Self.scanColumns) FROM storage_scans ORDER BY id DESC LIMIT ? OFFSET ?",
                               [.of(limit), .of(offset)], scanJSON))
        }
    }

    /// StorageScanDetailResponse: `{scan, candidates, stats_by_category}`.
    func storageScan(id: Int) throws -> JSONValue {
        try read { c in
            guard let scan = try c.query("SELECT \(Self.scanColumns) FROM storage_scans WHERE id = ?", [.of(id)], scanJSON).first else {
                throw notFound("Storage scan \(id) not found")
            }
            let candidates = try c.query("""
                SELECT id, path, category, size_bytes, modified_at, reason, decision, decided_by, decided_at
                FROM storage_candidates WHERE scan_id = ? ORDER BY size_bytes DESC, id
                """, [.of(id)]) { s -> JSONValue in
                .object([("id", .int(s.int(0))), ("path", .string(s.string(1) ?? "")), ("category", .string(s.string(2) ?? "")),
                         ("size_bytes", .int(s.int(3))), ("modified_at", AutopackTime.json(s.double(4))),
                         ("reason", .string(s.string(5) ?? "")), ("decision", s.optionalString(6)),
                         ("decided_by", s.optionalString(7)), ("decided_at", AutopackTime.json(s.optionalDouble(8)))])
            }
            let stats = try c.query("""
                SELECT category, COUNT(*), SUM(size_bytes) FROM storage_candidates WHERE scan_id = ? GROUP BY category ORDER BY category
                """, [.of(id)]) { s in (s.string(0) ?? "", JSONValue.object([("count", .int(s.int(1))), ("size_bytes", .int(s.int(2)))])) }
            return .object([("scan", scan), ("candidates", .array(candidates)), ("stats_by_category", .object(stats))])
        }
    }

    /// Records a decision for candidates of the scan (all of them when `candidateIDs` is empty).
    func decideCandidates(scanID: Int, candidateIDs: [Int], decision: String, by user: String) throws -> JSONValue {
        try transaction { c in
            guard try c.scalar("SELECT 1 FROM storage_scans WHERE id = ?", [.of(scanID)]) != nil else {
                throw notFound("Storage scan \(scanID) not found")
            }
            let known = Set(try c.query("SELECT id FROM storage_candidates WHERE scan_id = ?", [.of(scanID)]) { $0.int(0) })
            let unknown = candidateIDs.enumerated().filter { !known.contains($0.element) }
            if !unknown.isEmpty {
                throw ValidationError(unknown.map { ValidationError.Issue(location: ["body", "candidate_ids", .index($0.offset)],
                                                                          message: "candidate \($0.element) is not part of scan \(scanID)",
                                                                          type: "value_error.unknown_candidate") })
            }
            let ids = candidateIDs.isEmpty ? Array(known) : candidateIDs
            for id in ids {
                try c.run("UPDATE storage_candidates SET decision = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                          [.text(decision), .text(user), .real(now), .of(id)])
            }
            return .object([("scan_id", .int(scanID)), ("decision", .string(decision)), ("approved_by", .string(user)),
                            ("updated_count", .int(ids.count)), ("candidate_ids", .array(ids.sorted().map { .int($0) }))])
        }
    }

    /// Learns rules from decisions: per category and per file extension, confidence = approvals / decisions;
    /// patterns with enough samples and confidence become (pending) learned rules.
    func analyzePatterns(minSamples: Int, minConfidence: Double) throws -> JSONValue {
        try transaction { c in
            let decided = try c.query("SELECT path, category, decision FROM storage_candidates WHERE decision IN ('approve', 'reject')") {
                (path: $0.string(0) ?? "", category: $0.string(1) ?? "", approved: $0.string(2) == "approve")
            }
            var groups: [String: (type: String, value: String, category: String, total: Int, approvals: Int)] = [:]
            for row in decided {
                let name = row.path.split(separator: "/").last.map(String.init) ?? ""
                var keys = [("category", row.category)]
                let ext = fileExtension(name)
                if !ext.isEmpty { keys.append(("file_type", "." + ext)) }
                for (type, value) in keys {
                    var group = groups[type + ":" + value] ?? (type, value, row.category, 0, 0)
                    group.total += 1
                    group.approvals += row.approved ? 1 : 0
                    groups[type + ":" + value] = group
                }
            }
            var patterns: [JSONValue] = []
            for group in groups.values.sorted(by: { ($0.type, $0.value) < ($1.type, $1.value) }) {
                let confidence = Double(group.approvals) / Double(group.total)
                guard group.total >= minSamples, confidence >= minConfidence else { continue }
                try c.run("""
                    INSERT INTO learned_rules (pattern_type, pattern_value, suggested_category, confidence, samples, approvals, status,
                                               created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                    ON CONFLICT (pattern_type, pattern_value) DO UPDATE SET confidence = excluded.confidence,
                        samples = excluded.samples, approvals = excluded.approvals, updated_at = excluded.updated_at
                    """, [.text(group.type), .text(group.value), .text(group.category), .real(confidence), .of(group.total),
                          .of(group.approvals), .real(now), .real(now)])
                patterns.append(.object([("pattern_type", .string(group.type)), ("pattern_value", .string(group.value)),
                                         ("suggested_category", .string(group.category)), ("confidence", .double(confidence)),
                                         ("samples", .int(group.total)), ("approvals", .int(group.approvals))]))
            }
            return .array(patterns)
        }
    }

    func ruleJSON(_ s: SQLiteStatement) -> JSONValue {
        .object([("id", .int(s.int(0))), ("pattern_type", .string(s.string(1) ?? "")), ("pattern_value", .string(s.string(2) ?? "")),
                 ("suggested_category", .string(s.string(3) ?? "")), ("confidence", .double(s.double(4))),
                 ("samples", .int(s.int(5))), ("approvals", .int(s.int(6))), ("status", .string(s.string(7) ?? "")),
                 ("approved_by", s.optionalString(8)), ("created_at", AutopackTime.json(s.double(9))),
                 ("updated_at", AutopackTime.json(s.double(10)))])
    }

    static let ruleColumns = """
        id, pattern_type, pattern_value, suggested_category, confidence, samples, approvals, status, approved_by, created_at, updated_at
        """

    func learnedRules() throws -> JSONValue {
        try read { c in .array(try c.query("SELECT \(Self.ruleColumns) FROM learned_rules ORDER BY confidence DESC, id", [], ruleJSON)) }
    }

    func approveRule(id: Int, by user: String) throws -> JSONValue {
        try transaction { c in
            guard let status = try c.scalar("SELECT status FROM learned_rules WHERE id = ?", [.of(id)])?.string else {
                throw notFound("Learned rule \(id) not found")
            }
            guard status == "pending" else {
                throw HTTPError(.conflict, "Learned rule \(id) is already \(status)", extra: [("current_state", .string(status))])
            }
            try c.run("UPDATE learned_rules SET status = 'approved', approved_by = ?, updated_at = ? WHERE id = ?",
                      [.text(user), .real(now), .of(id)])
            return try c.query("SELECT \(Self.ruleColumns) FROM learned_rules WHERE id = ?", [.of(id)], ruleJSON)[0]
        }
    }

    /// Recommendations from the stored scans: undecided savings per category, the largest files (up to 80 %
    /// of the newest scan's bytes), and growth per target when it was scanned at least twice.
    func recommendations() throws -> JSONValue {
        try read { c in
            var items: [(priority: Int, savings: Int, json: JSONValue)] = []
            let categories = try c.query("""
                SELECT category, COUNT(*), SUM(size_bytes) FROM storage_candidates WHERE decision IS NULL
                GROUP BY category ORDER BY SUM(size_bytes) DESC
                """) { (category: $0.string(0) ?? "", count: $0.int(1), bytes: $0.int(2)) }
            for row in categories {
                let priority = row.bytes > 1 << 30 ? 0 : row.bytes > 100 << 20 ? 1 : 2
                items.append((priority, row.bytes, .object([
                    ("type", "cleanup_category"), ("priority", .string(["high", "medium", "low"][priority])),
                    ("category", .string(row.category)), ("candidates", .int(row.count)), ("potential_savings_bytes", .int(row.bytes)),
                    ("title", .string("Review \(row.count) \(row.category) candidates")),
                ])))
            }
            let growth = try c.query("""
                SELECT scan_target, MIN(created_at), MAX(created_at), COUNT(*),
                       (SELECT total_size_bytes FROM storage_scans s2 WHERE s2.scan_target = s.scan_target ORDER BY id LIMIT 1),
                       (SELECT total_size_bytes FROM storage_scans s2 WHERE s2.scan_target = s.scan_target ORDER BY id DESC LIMIT 1)
                FROM storage_scans s GROUP BY scan_target HAVING COUNT(*) >= 2
                """) { (target: $0.string(0) ?? "", first: $0.double(1), last: $0.double(2), firstSize: $0.int(4), lastSize: $0.int(5)) }
            for row in growth where row.last > row.first {
                let perDay = Double(row.lastSize - row.firstSize) / ((row.last - row.first) / 86_400)
                guard perDay > 0 else { continue }
                let priority = perDay * 30 > 10 * Double(1 << 30) ? 0 : perDay > 100 * Double(1 << 20) ? 1 : 2
                items.append((priority, 0, .object([
                    ("type", "growth"), ("priority", .string(["high", "medium", "low"][priority])), ("scan_target", .string(row.target)),
                    ("bytes_per_day", .double(perDay.rounded())), ("title", .string("\(row.target) grows by \(Int(perDay)) bytes/day")),
                ])))
            }
            if let latest = try c.scalar("SELECT id FROM storage_scans ORDER BY id DESC LIMIT 1")?.int64 {
                let total = Int(try c.scalar("SELECT COALESCE(SUM(size_bytes), 0) FROM storage_candidates WHERE scan_id = ?", [.integer(latest)])?.int64 ?? 0)
                var cumulative = 0
                let top = try c.query("SELECT path, size_bytes FROM storage_candidates WHERE scan_id = ? ORDER BY size_bytes DESC LIMIT 50",
                                      [.integer(latest)]) { ($0.string(0) ?? "", $0.int(1)) }
                for (path, size) in top where total > 0 && Double(cumulative) < 0.8 * Double(total) {
                    cumulative += size
                    items.append((2, size, .object([("type", "top_consumer"), ("priority", "low"), ("path", .string(path)),
                                                    ("size_bytes", .int(size)), ("title", .string("Large candidate \(path)"))])))
                }
            }
            items.sort { ($0.priority, -$0.savings) < ($1.priority, -$1.savings) }
            let scans = Int(try c.scalar("SELECT COUNT(*) FROM storage_scans")?.int64 ?? 0)
            return .object([("recommendations", .array(items.map(\.json))), ("total_count", .int(items.count)),
                            ("total_potential_savings_bytes", .int(categories.reduce(0) { $0 + $1.bytes })),
                            ("scans_analyzed", .int(scans))])
        }
    }

    // MARK: Uploads and research

    func storeUpload(filename: String, bytes: [UInt8]) throws -> JSONValue {
        let clean = fileExtension(filename).filter { $0.isLetter || $0.isNumber }.prefix(10)
        let ext = clean.isEmpty ? "" : "." + clean
        let id = UUID().uuidString.lowercased() + ext
        let sha = try artifacts.put(bytes)
        try transaction { c in
            try c.run("INSERT INTO uploads (id, filename, sha256, size_bytes, created_at) VALUES (?, ?, ?, ?, ?)",
                      [.text(id), .text(filename), .text(sha), .of(bytes.count), .real(now)])
        }
        return .object([("status", "success"), ("filename", .string(filename)), ("stored_as", .string(id)),
                        ("size", .int(bytes.count)), ("relative_path", .string("_uploads/\(id)")), ("sha256", .string(sha))])
    }

    /// The built-in research provider: searches the module's own records (issues, error reports, human notes)
    /// for the query's terms. No network, no LLM; a real provider would implement the same session contract.
    func createResearchSession(query: String) throws -> JSONValue {
        let terms = query.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init).filter { $0.count >= 3 }
        let id = "rs-" + UUID().uuidString.lowercased().prefix(8)
        return try transaction { c in
            var findings: [JSONValue] = []
            for term in Set(terms).sorted() {
                let like = "%\(term)%"
                findings += try c.query("SELECT run_id, phase_id, issue_key FROM issues WHERE LOWER(issue_key) LIKE ? OR LOWER(category) LIKE ? LIMIT 20",
                                        [.text(like), .text(like)]) { s -> JSONValue in
                    .object([("source", "issue"), ("term", .string(term)), ("run_id", .string(s.string(0) ?? "")),
                             ("phase_id", .string(s.string(1) ?? "")), ("text", .string(s.string(2) ?? ""))])
                }
                findings += try c.query("SELECT run_id, phase_id, message FROM errors WHERE LOWER(message) LIKE ? LIMIT 20", [.text(like)]) { s -> JSONValue in
                    .object([("source", "error"), ("term", .string(term)), ("run_id", .string(s.string(0) ?? "")),
                             ("phase_id", s.optionalString(1)), ("text", .string(s.string(2) ?? ""))])
                }
                findings += try c.query("SELECT run_id, note FROM human_notes WHERE LOWER(note) LIKE ? LIMIT 20", [.text(like)]) { s -> JSONValue in
                    .object([("source", "human_note"), ("term", .string(term)), ("run_id", s.optionalString(0)),
                             ("text", .string(s.string(1) ?? ""))])
                }
            }
            try c.run("INSERT INTO research_sessions (id, query, status, findings, created_at) VALUES (?, ?, 'completed', ?, ?)",
                      [.text(id), .text(query), .text(JSONValue.array(findings).encodedString), .real(now)])
            return try researchSession(c, id: id)!
        }
    }

    func researchSession(_ c: SQLiteConnection, id: String) throws -> JSONValue? {
        try c.query("SELECT id, query, status, findings, created_at FROM research_sessions WHERE id = ?", [.text(id)]) { s -> JSONValue in
            let findings = JSONValue.parse(s.string(3))
            return .object([("session_id", .string(s.string(0) ?? "")), ("query", .string(s.string(1) ?? "")),
                            ("status", .string(s.string(2) ?? "")), ("provider", "local"),
                            ("finding_count", .int(findings.arrayValue?.count ?? 0)), ("findings", findings),
                            ("created_at", AutopackTime.json(s.double(4)))])
        }.first
    }
}
