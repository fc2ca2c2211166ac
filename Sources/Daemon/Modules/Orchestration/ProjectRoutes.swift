import HTTPServer

/// `/api/projects` (spec §2): at most three projects in slots Projekt-A/B/C, configs validated against
/// `ProjectConfiguration` and stored whole.
struct ProjectRoutes: Sendable {
    let services: OrchestrationServices

    static func validRepo(_ v: inout Validator, _ value: JSONValue?, _ loc: [Loc]) -> String? {
        guard let repo = v.string(value, loc, minLength: 1, maxLength: 500) else { return nil }
        guard repo.hasPrefix("https://") || repo.hasPrefix("http://") || repo.hasPrefix("git@") else {
            v.fail(loc, "must be an http(s) or git@ repository URL", "value_error.url"); return nil
        }
        return repo
    }

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let s = services
        let tags = ["projects"]
        router.get("/api/projects", docs: OpenAPIOperation(summary: "All projects with task statistics", tags: tags)) { _, _ in
            .json(.array(try s.store.projects()))
        }
        router.get("/api/projects/{project_id}", docs: OpenAPIOperation(summary: "One project", tags: tags)) { _, context in
            guard let project = try s.store.project(try context.parameters.require("project_id")) else { throw OrchestrationServices.notFound("Project") }
            return .json(project)
        }
        router.post("/api/projects", docs: OpenAPIOperation(summary: "Create a project in the first free slot (max 3)", tags: tags,
            requestBody: OpenAPIBody(schema: JSONSchema.object(["name": JSONSchema.string, "type": JSONSchema.enumeration(OrchestrationStore.projectTypes),
                                                                "github_repo": JSONSchema.string, "config": ["type": "object"]], required: ["name", "type"])),
            responses: [201: OpenAPIResponse("Created"), 400: OpenAPIResponse("No free slot")])
        ) { request, _ in
            let body = try Validator.body(request)
            var v = Validator()
            v.rejectUnknown(body, ["body"], allowed: ["name", "type", "github_repo", "config"])
            let name = v.string(body["name"], ["body", "name"], required: true, minLength: 1, maxLength: 200)
            let type = v.string(body["type"], ["body", "type"], oneOf: OrchestrationStore.projectTypes) ?? "general"
            let repo = Self.validRepo(&v, body["github_repo"], ["body", "github_repo"])
            let config = ProjectConfigSchema.schema.normalize(body["config"], over: nil, at: ["body", "config"], into: &v)
            try v.check()
            let id = try s.store.createProject(name: name!, type: type, githubRepo: repo, config: config)
            return .json(try s.store.project(id)!, status: .created)
        }
        router.put("/api/projects/{project_id}", docs: OpenAPIOperation(summary: "Update name, status, repository or config (fields given only)", tags: tags)) { request, context in
            let id = try context.parameters.require("project_id")
            let body = try Validator.body(request)
            var v = Validator()
            v.rejectUnknown(body, ["body"], allowed: ["name", "status", "github_repo", "config", "type"])
            let name = v.string(body["name"], ["body", "name"], nullable: false, minLength: 1, maxLength: 200)
            let status = v.string(body["status"], ["body", "status"], nullable: false, oneOf: OrchestrationStore.projectStatuses)
            if body["type"] != nil { v.fail(["body", "type"], "a project's type cannot change", "value_error.immutable") }
            let repo: String?? = body["github_repo"] == nil ? nil : .some(Self.validRepo(&v, body["github_repo"], ["body", "github_repo"]))
            guard let current = try s.store.projectConfig(id) else { throw OrchestrationServices.notFound("Project") }
            let config = body["config"].map { ProjectConfigSchema.schema.normalize($0, over: current, at: ["body", "config"], into: &v) }
            try v.check()
            guard try s.store.updateProject(id, name: name, status: status, githubRepo: repo, config: config) else {
                throw OrchestrationServices.notFound("Project")
            }
            return .json(try s.store.project(id)!)
        }
        router.delete("/api/projects/{project_id}", docs: OpenAPIOperation(summary: "Delete a project with its tasks and HRM configs", tags: tags)) { _, context in
            let id = try context.parameters.require("project_id")
            guard try s.store.deleteProject(id) else { throw OrchestrationServices.notFound("Project") }
            return .json(["status": "deleted", "project_id": .string(id)])
        }
        router.put("/api/projects/{project_id}/config", docs: OpenAPIOperation(
            summary: "Update a project's configuration (sections given are merged over the current ones)", tags: tags)
        ) { request, context in
            let id = try context.parameters.require("project_id")
            let body = try Validator.body(request)
            guard let current = try s.store.projectConfig(id) else { throw OrchestrationServices.notFound("Project") }
            var v = Validator()
            let config = ProjectConfigSchema.schema.normalize(body, over: current, at: ["body"], into: &v)
            try v.check()
            _ = try s.store.updateProject(id, name: nil, status: nil, githubRepo: nil, config: config)
            return .json(try s.store.project(id)!)
        }
    }
}
