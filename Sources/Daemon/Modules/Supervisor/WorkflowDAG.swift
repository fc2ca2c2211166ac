import Foundation
import HTTPServer

/// A workflow definition: tasks and the dependencies between them, checked before anything is stored.
struct WorkflowDefinition: Sendable {
    struct Task: Sendable {
        var id: String
        var name: String
        var type: String
        var config: JSONValue
    }
    struct Dependency: Sendable, Equatable {
        var taskID: String
        var dependsOn: String
        /// SUCCESS (default), FAILURE or COMPLETION: what the upstream task must have done for this one to run.
        var condition: String
    }
    var tasks: [Task]
    var dependencies: [Dependency]
    var variables: JSONValue

    static let conditions = ["SUCCESS", "FAILURE", "COMPLETION"]

    var json: JSONValue {
        .object([
            ("tasks", .array(tasks.map { t in
                .object([("id", .string(t.id)), ("name", .string(t.name)), ("type", .string(t.type)), ("config", t.config),
                         ("dependencies", .array(dependencies.filter { $0.taskID == t.id }.map { .string($0.dependsOn) }))])
            })),
            ("dependencies", .array(dependencies.map { d in
                .object([("task_id", .string(d.taskID)), ("depends_on", .string(d.dependsOn)), ("condition", .string(d.condition))])
            })),
            ("variables", variables),
        ])
    }

    /// Reads `{tasks:[{id, name, type, config?, dependencies?[]}], dependencies?:[{task_id, depends_on, condition?}], variables?}`
    /// collecting 422 issues under `prefix`; then checks references, duplicates and cycles.
    static func read(_ object: [(String, JSONValue)], prefix: [ValidationError.Location], into reader: inout BodyReader) -> WorkflowDefinition? {
        var body = BodyReader(object: object, prefix: prefix)
        var tasks: [Task] = []
        var dependencies: [Dependency] = []
        if let items = body.array("tasks", required: true, maxCount: 500) {
            if items.isEmpty { body.fail("tasks", "ensure this value has at least 1 items", "value_error.list.min_items") }
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else {
                    body.fail("tasks", "tasks[\(index)] is not a valid dict", "type_error.dict"); continue
                }
                var task = BodyReader(object: members, prefix: prefix + ["tasks", .index(index)])
                let id = task.string("id", required: true, maxLength: 100)
                let name = task.string("name", maxLength: 200)
                let type = task.choice("type", TaskTypes.all, required: true)
                let config = task.object("config").map(JSONValue.object) ?? .object([])
                let deps = task.array("dependencies") ?? []
                for (j, dep) in deps.enumerated() {
                    guard let target = dep.stringValue else { task.fail("dependencies", "dependencies[\(j)] is not a string", "type_error.str"); continue }
                    if let id { dependencies.append(Dependency(taskID: id, dependsOn: target, condition: "SUCCESS")) }
                }
                body.absorb(task)
                if let id, let type { tasks.append(Task(id: id, name: name ?? id, type: type, config: config)) }
            }
        }
        if let items = body.array("dependencies", maxCount: 5_000) {
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else { body.fail("dependencies", "dependencies[\(index)] is not a valid dict", "type_error.dict"); continue }
                var dep = BodyReader(object: members, prefix: prefix + ["dependencies", .index(index)])
                let taskID = dep.string("task_id", required: true), dependsOn = dep.string("depends_on", required: true)
                let condition = dep.choice("condition", conditions) ?? "SUCCESS"
                body.absorb(dep)
                if let taskID, let dependsOn {
                    let new = Dependency(taskID: taskID, dependsOn: dependsOn, condition: condition)
                    dependencies.removeAll { $0.taskID == taskID && $0.dependsOn == dependsOn }
                    dependencies.append(new)
                }
            }
        }
        let variables = body.object("variables").map(JSONValue.object) ?? .object([])
        if body.issues.isEmpty {
            let definition = WorkflowDefinition(tasks: tasks, dependencies: dependencies, variables: variables)
            if let problem = definition.structuralProblem() { body.fail("tasks", problem, "value_error.workflow") }
            reader.absorb(body)
            return body.issues.isEmpty ? definition : nil
        }
        reader.absorb(body)
        return nil
    }

    /// Duplicate ids, unknown references, self-dependencies and cycles, as a message; nil when the DAG is sound.
    func structuralProblem() -> String? {
        var seen = Set<String>()
        for task in tasks {
            if !seen.insert(task.id).inserted { return "duplicate task id '\(task.id)'" }
        }
        for d in dependencies {
            if !seen.contains(d.taskID) { return "dependency names unknown task '\(d.taskID)'" }
            if !seen.contains(d.dependsOn) { return "task '\(d.taskID)' depends on unknown task '\(d.dependsOn)'" }
            if d.taskID == d.dependsOn { return "task '\(d.taskID)' depends on itself" }
        }
        if let cycle = findCycle() { return "dependency cycle: " + cycle.joined(separator: " -> ") }
        return nil
    }

    /// A cycle as a path of task ids (DFS with colours), or nil.
    func findCycle() -> [String]? {
        var state: [String: Int] = [:]   // 1 = on the stack, 2 = done
        var stack: [String] = []
        let upstream = Dictionary(grouping: dependencies, by: \.taskID).mapValues { $0.map(\.dependsOn) }
        func visit(_ id: String) -> [String]? {
            state[id] = 1
            stack.append(id)
            for next in upstream[id] ?? [] {
                if state[next] == 1, let start = stack.firstIndex(of: next) { return Array(stack[start...]) + [next] }
                if state[next] == nil, let cycle = visit(next) { return cycle }
            }
            stack.removeLast()
            state[id] = 2
            return nil
        }
        for task in tasks where state[task.id] == nil {
            if let cycle = visit(task.id) { return cycle }
        }
        return nil
    }

    /// Kahn's topological levels: tasks in one level depend only on earlier levels.
    func levels() -> [[Task]] {
        var remaining = Dictionary(uniqueKeysWithValues: tasks.map { task in
            (task.id, Set(dependencies.filter { $0.taskID == task.id }.map(\.dependsOn)))
        })
        var result: [[Task]] = []
        var done = Set<String>()
        while !remaining.isEmpty {
            let ready = tasks.filter { remaining[$0.id].map { $0.isSubset(of: done) } == true }
            guard !ready.isEmpty else { break }   // cycles are rejected before; defensive
            result.append(ready)
            for task in ready { remaining[task.id] = nil; done.insert(task.id) }
        }
        return result
    }

    /// Warnings the original gave: more than 10 dependencies on one task, more than 50 tasks in one level.
    func warnings() -> [String] {
        var warnings: [String] = []
        for (task, deps) in Dictionary(grouping: dependencies, by: \.taskID) where deps.count > 10 {
            warnings.append("task '\(task)' has \(deps.count) dependencies")
        }
        for (index, level) in levels().enumerated() where level.count > 50 {
            warnings.append("level \(index) runs \(level.count) tasks in parallel")
        }
        return warnings
    }
}

enum TaskTypes {
    static let all = ["PR_REVIEW", "ISSUE_SUMMARY", "CODE_ANALYSIS", "REFACTOR", "BUG_FIX", "FEATURE", "DOCUMENTATION",
                      "TESTING", "DEPLOYMENT", "SECURITY_AUDIT"]
    static let statuses = ["pending", "running", "completed", "failed"]
    static let priorities: ClosedRange<Int> = 1...10
}
