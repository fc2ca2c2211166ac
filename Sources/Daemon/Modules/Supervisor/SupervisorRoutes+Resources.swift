import Foundation
import HTTPServer

/// `/api/v1/resources/*`: this host's real metrics, task allocations against its capacity, conflicts, and
/// scaling of the one capacity argusd controls — its agent slots.
extension SupervisorRoutes {
    static let multipliers: [String: (Double, Double)] = [
        "CODE_ANALYSIS": (1.5, 0.8), "SECURITY_AUDIT": (1.5, 0.8), "DOCUMENTATION": (0.8, 1.5), "ISSUE_SUMMARY": (0.8, 1.5),
        "TESTING": (1.3, 1.3), "DEPLOYMENT": (1.3, 1.3), "PR_REVIEW": (0.7, 0.8),
    ]

    func addResourceRoutes() {
        let core = self.core
        let read = api("resources:read"), manage = api("resources:manage")
        @Sendable func allocated() throws -> (Double, Double, Int) {
            try core.database.write { c in
                try c.query("SELECT total(cpu_cores), total(memory_mb), count(*) FROM allocations WHERE status = 'active'", []) {
                    ($0.double(0), $0.double(1), Int($0.int64(2)))
                }[0]
            }
        }
        read.get("/resources/allocation/status", docs: doc("Host usage, capacity and active allocations", "resources")) { _, _ in
            let (sample, metrics) = core.hostSample()
            let (cpu, memory, count) = try allocated()
            return .json(["metrics": metrics, "capacity": ["cpu_cores": .int(sample.cores), "memory_mb": .double(sample.memoryTotalMB)],
                          "allocated": ["cpu_cores": .double(cpu), "memory_mb": .double(memory), "allocations": .int(count)],
                          "agents": try core.quotaStatus(), "timestamp": .string(core.iso(core.now))])
        }
        manage.post("/resources/allocate", docs: doc("Reserve CPU and memory for a task (0.5 + 0.3·complexity cores × type factor)", "resources", created: "The new allocation",
                                                     fields: [.choice("task_type", TaskTypes.all, required: true), .double("complexity", range: 0...1), .int("task_id", range: 1...Int.max)],
                                                     body: ["task_type": "CODE_ANALYSIS", "complexity": 0.5, "task_id": 1])) { request, _ in
            var body = try BodyReader(request)
            let type = body.choice("task_type", TaskTypes.all, required: true)
            let complexity = body.double("complexity", range: 0...1) ?? 0.5
            let taskID = body.int("task_id", range: 1...Int.max)
            if let taskID, try core.task(taskID) == nil { body.fail("task_id", "task \(taskID) does not exist", "value_error.not_found") }
            try body.finish()
            let (cpuFactor, memoryFactor) = Self.multipliers[type!] ?? (1, 1)
            let cpu = (0.5 + 0.3 * complexity) * cpuFactor, memory = 512 * (1 + complexity) * memoryFactor
            let id = try core.database.write { c -> Int in
                try c.run("INSERT INTO allocations (task_id, task_type, cpu_cores, memory_mb, status, created_at) VALUES (?, ?, ?, ?, 'active', ?)",
                          [taskID.map { .integer(Int64($0)) } ?? .null, .text(type!), .real(cpu), .real(memory), .real(core.now)])
                return Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
            }
            return .created(["allocation_id": .int(id), "task_id": taskID.map(JSONValue.int) ?? .null, "task_type": .string(type!),
                             "cpu_cores": .double(cpu), "memory_mb": .double(memory), "status": "active"])
        }
        @Sendable func detect() throws -> [JSONValue] {
            let (sample, _) = core.hostSample()
            let (cpu, _, _) = try allocated()
            var found: [(String, String, String)] = []
            if cpu > Double(sample.cores) { found.append(("cpu_overallocation", "high", "allocated \(String(format: "%.1f", cpu)) cores on \(sample.cores)")) }
            if sample.cpu > 90 { found.append(("cpu_saturation", "critical", "host CPU at \(Int(sample.cpu)) %")) }
            if sample.memory > 85 { found.append(("memory_pressure", sample.memory > 90 ? "high" : "medium", "host memory at \(Int(sample.memory)) %")) }
            try core.database.write { c in
                for (type, severity, description) in found {
                    try c.run("""
                        INSERT INTO conflicts (id, type, severity, description, status, detected_at) VALUES (?, ?, ?, ?, 'active', ?)
                        ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, description = excluded.description,
                            status = 'active', detected_at = CASE WHEN conflicts.status = 'active' THEN conflicts.detected_at ELSE excluded.detected_at END,
                            resolution = CASE WHEN conflicts.status = 'active' THEN conflicts.resolution ELSE NULL END
                        """, [.text(type), .text(type), .text(severity), .text(description), .real(core.now)])
                }
            }
            return try core.database.write { c in
                try c.query("SELECT id, type, severity, description, status, resolution, detected_at, resolved_at FROM conflicts ORDER BY detected_at DESC", []) { r -> JSONValue in
                    .object([("id", .string(r.string(0) ?? "")), ("type", .string(r.string(1) ?? "")), ("severity", .string(r.string(2) ?? "")),
                             ("description", .string(r.string(3) ?? "")), ("status", .string(r.string(4) ?? "")), ("resolution", r.string(5).map(JSONValue.string) ?? .null),
                             ("detected_at", JSONColumn.iso(r.double(6))), ("resolved_at", r.isNull(7) ? .null : JSONColumn.iso(r.double(7)))])
                }
            }
        }
        read.get("/resources/conflicts", docs: doc("Detect and list resource conflicts", "resources")) { _, _ in
            let all = try detect()
            let active = all.filter { $0["status"] == "active" }
            return .json(["conflicts": .array(all), "active": .int(active.count),
                          "system_health": active.contains { $0["severity"] == "critical" } ? "critical" : "stable"])
        }
        manage.post("/resources/conflicts/{conflict_id}/resolve", docs: doc("Resolve a conflict (release_allocations frees the oldest allocations)", "resources",
                                                                            fields: [.choice("strategy", ["release_allocations", "acknowledge", "scale_up"], required: true)],
                                                                            body: ["strategy": "release_allocations"], errors: [404: "Conflict not found", 409: "Already resolved"])) { request, context in
            let id = context.parameters["conflict_id"] ?? ""
            var body = try BodyReader(request)
            let strategy = body.choice("strategy", ["release_allocations", "acknowledge", "scale_up"], required: true)
            try body.finish()
            guard let status = try core.database.write({ try $0.scalar("SELECT status FROM conflicts WHERE id = ?", [.text(id)])?.string }) else {
                throw SupervisorError.notFound("Conflict \(id) not found")
            }
            guard status == "active" else { throw SupervisorError.conflict("Conflict \(id) is already \(status)") }
            var released = 0
            if strategy == "release_allocations" {
                let cores = Double(core.hostSample().0.cores)
                released = try core.database.writeTransaction { c -> Int in
                    var total = try c.scalar("SELECT total(cpu_cores) FROM allocations WHERE status = 'active'")?.double ?? 0
                    var count = 0
                    for (allocation, cpu) in try c.query("SELECT id, cpu_cores FROM allocations WHERE status = 'active' ORDER BY created_at, id", [], { ($0.int64(0), $0.double(1)) }) where total > cores {
                        try c.run("UPDATE allocations SET status = 'released' WHERE id = ?", [.integer(allocation)])
                        total -= cpu
                        count += 1
                    }
                    return count
                }
            }
            try core.database.write { try $0.run("UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id = ?", [.text(strategy!), .real(core.now), .text(id)]) }
            return .json(["conflict_id": .string(id), "status": "resolved", "strategy": .string(strategy!), "allocations_released": .int(released)])
        }
        read.get("/resources/monitoring", docs: doc("Host metrics, recent history and a least-squares prediction", "resources", query: [.int("hours", 1...24)])) { request, _ in
            var query = QueryReader(request)
            let hours = query.int("hours", default: 1, range: 1...24)
            try query.finish()
            let (sample, metrics) = core.hostSample()
            let history = try core.points("system_performance", since: core.now - 86_400)
            var predictions: [(String, JSONValue)] = []
            let hour = Calendar(identifier: .gregorian).component(.hour, from: core.clock.now())
            let timeOfDay = (9...17).contains(hour) ? 1.2 : (18...22).contains(hour) ? 1.1 : 0.8
            for (name, current) in [("cpu", sample.cpu), ("memory", sample.memory), ("disk", sample.disk)] {
                let series = Array(history.filter { $0.name == name }.suffix(50))
                var slope = 0.0
                if series.count >= 2 {
                    let xs = series.map { ($0.at - series[0].at) / 3_600 }, ys = series.map(\.value)
                    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
                    let sxx = xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
                    slope = sxx == 0 ? 0 : zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +) / sxx
                }
                var value = current + slope * Double(hours)
                if name == "cpu" { value *= (1 + Double(hours) / 60 * 0.1) * timeOfDay }
                predictions.append((name, .double(min(95, max(0, value)))))
            }
            return .json(["current": metrics, "history": .array(history.suffix(150).map { ["name": .string($0.name), "value": .double($0.value), "timestamp": .string(core.iso($0.at))] }),
                          "predictions": .object(predictions), "prediction_hours": .int(hours),
                          "confidence": .double(min(0.9, 0.6 + Double(history.count) / 100))])
        }
        read.get("/resources/optimization/recommendations", docs: doc("Scaling recommendations from current usage", "resources")) { _, _ in
            let (sample, _) = core.hostSample()
            var recommendations: [JSONValue] = []
            if sample.cpu > 85 {
                recommendations.append(["resource_type": "cpu", "action": "scale_up", "magnitude": 0.2, "urgency": sample.cpu > 90 ? "high" : "medium",
                                        "reason": .string("CPU at \(Int(sample.cpu)) %"), "estimated_cost_per_day_usd": .double(0.01 * 0.2 * 24)])
            } else if sample.cpu < 30 {
                recommendations.append(["resource_type": "cpu", "action": "scale_down", "magnitude": 0.15, "urgency": "low",
                                        "reason": .string("CPU at \(Int(sample.cpu)) %"), "estimated_cost_per_day_usd": .double(-0.01 * 0.15 * 24)])
            }
            if sample.memory > 85 {
                recommendations.append(["resource_type": "memory", "action": "scale_up", "magnitude": 0.25, "urgency": "high",
                                        "reason": .string("memory at \(Int(sample.memory)) %"), "estimated_cost_per_day_usd": .double(0.005 * 0.25 * 24)])
            }
            return .json(["recommendations": .array(recommendations), "generated_at": .string(core.iso(core.now))])
        }
        manage.post("/resources/scale", docs: doc("Scale agent slots (cpu/memory/agents); scale_down refused above 80 % CPU or memory unless force", "resources",
                                                  fields: [.choice("resource_type", ["cpu", "memory", "disk", "network", "gpu", "agents"], required: true), .choice("action", ["scale_up", "scale_down", "redistribute"], required: true), .double("magnitude", range: 0.01...10), .bool("force")],
                                                  body: ["resource_type": "agents", "action": "scale_up", "magnitude": 0.5],
                                                  errors: [409: "Refused: host busy, capacity argusd cannot change, or the agent pool at its cap (256)"])) { request, _ in
            var body = try BodyReader(request)
            let type = body.choice("resource_type", ["cpu", "memory", "disk", "network", "gpu", "agents"], required: true)
            let action = body.choice("action", ["scale_up", "scale_down", "redistribute"], required: true)
            let magnitude = body.double("magnitude", range: 0.01...10) ?? 0.2
            let force = body.bool("force") ?? false
            try body.finish()
            guard ["cpu", "memory", "agents"].contains(type!) else {
                throw SupervisorError.conflict("argusd cannot change \(type!) capacity; it scales its agent slots (cpu, memory, agents)")
            }
            let (sample, _) = core.hostSample()
            if action == "scale_down" && !force && (sample.cpu > 80 || sample.memory > 80) {
                throw SupervisorError.conflict("scale_down refused: CPU \(Int(sample.cpu)) %, memory \(Int(sample.memory)) % (over 80 %); pass force to override")
            }
            let result = try core.database.writeTransaction { c -> (Int, Int) in
                let active = Int(try c.scalar("SELECT count(*) FROM agents WHERE is_active = 1")?.int64 ?? 0)
                let step = max(1, Int((Double(active) * magnitude).rounded(.up)))
                switch action {
                case "scale_up":
                    // Inactive agents first, then new ones up to the cap: repeated ×10 scale-ups grew the pool to 366 182
                    // agents in a 10-minute fuzzing run, and every agent listing with it (found by tools/fuzz_api.sh).
                    let inactive = Int(try c.scalar("SELECT count(*) FROM agents WHERE is_active = 0")?.int64 ?? 0)
                    let revived = min(step, inactive)
                    if revived > 0 {
                        try c.run("UPDATE agents SET is_active = 1 WHERE id IN (SELECT id FROM agents WHERE is_active = 0 ORDER BY id LIMIT ?)", [.integer(Int64(revived))])
                    }
                    let total = Int(try c.scalar("SELECT count(*) FROM agents")?.int64 ?? 0)
                    let added = min(step - revived, max(0, SupervisorCore.maxAgents - total))
                    guard revived + added > 0 else {
                        throw SupervisorError.conflict("scale_up refused: the agent pool is at its cap of \(SupervisorCore.maxAgents) active agents")
                    }
                    for i in 0..<added {
                        let id = "local-agent-\(total + i + 1)"
                        try c.run("INSERT OR IGNORE INTO agents (id, quota_limit, quota_reset_at, created_at) VALUES (?, 1000, ?, ?)", [.text(id), .real(core.now + 86_400), .real(core.now)])
                        try c.run("UPDATE agents SET is_active = 1 WHERE id = ?", [.text(id)])
                    }
                case "scale_down":
                    let removable = min(step, active - 1)
                    if removable > 0 {
                        try c.run("UPDATE agents SET is_active = 0 WHERE id IN (SELECT id FROM agents WHERE is_active = 1 ORDER BY quota_used, id DESC LIMIT ?)", [.integer(Int64(removable))])
                    }
                default:
                    try c.run("UPDATE agents SET quota_used = (SELECT CAST(avg(quota_used) AS INTEGER) FROM agents WHERE is_active = 1) WHERE is_active = 1")
                }
                return (active, Int(try c.scalar("SELECT count(*) FROM agents WHERE is_active = 1")?.int64 ?? 0))
            }
            core.push("agent_status_update", ["action": .string(action!), "active_agents": .int(result.1)])
            return .json(["resource_type": .string(type!), "action": .string(action!), "magnitude": .double(magnitude),
                          "active_agents_before": .int(result.0), "active_agents_after": .int(result.1), "status": "applied"])
        }
        read.get("/resources/health", docs: doc("Resource subsystem health", "resources")) { _, _ in
            let (sample, metrics) = core.hostSample()
            let (status, components) = try core.systemHealth(["cpu": sample.cpu, "memory": sample.memory, "disk": sample.disk])
            return .json(["status": .string(status), "components": .array(components), "metrics": metrics, "timestamp": .string(core.iso(core.now))])
        }
    }
}
