import Foundation
import HTTPServer

/// `/api/agents/*` (spec §5): agent connections (SQLite; they decide which provider serves an agent label)
/// and agent configuration files (real files under a contained root).
struct AgentRoutes: Sendable {
    let services: OrchestrationServices

    /// A connection from a body; `agentID` comes from the path on PUT.
    static func connection(_ body: JSONValue, agentID fixed: String?) throws -> AgentConnection {
        var v = Validator()
        v.rejectUnknown(body, ["body"], allowed: ["agent_id", "agent_name", "connection_type", "endpoint", "port", "api_key_id", "enabled", "agent_type"])
        var agentID = fixed
        if fixed == nil {
            agentID = v.string(body["agent_id"], ["body", "agent_id"], required: true, minLength: 1, maxLength: 64)
            if let id = agentID, !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) {
                v.fail(["body", "agent_id"], "use letters, digits, '_', '-' and '.' only", "value_error.str.regex")
            }
        } else if let given = body["agent_id"], given != .string(fixed!) {
            v.fail(["body", "agent_id"], "agent_id cannot change (it is the path's id)", "value_error.immutable")
        }
        let name = v.string(body["agent_name"], ["body", "agent_name"], required: true, minLength: 1, maxLength: 200)
        let type = v.string(body["connection_type"], ["body", "connection_type"], required: true, oneOf: OrchestrationStore.connectionTypes)
        let endpoint = v.string(body["endpoint"], ["body", "endpoint"], minLength: 1, maxLength: 500)
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) || URL(string: endpoint)?.host == nil {
            v.fail(["body", "endpoint"], "must be an http(s) URL", "value_error.url")
        }
        if (type == "api" || type == "remote") && endpoint == nil && body["endpoint"].map({ !$0.isNull }) != true {
            v.fail(["body", "endpoint"], "required for \(type ?? "") connections", "value_error.missing")
        }
        let port = v.int(body["port"], ["body", "port"], range: 1...65_535)
        let keyID = v.string(body["api_key_id"], ["body", "api_key_id"], minLength: 1, maxLength: 200)
        let enabled = v.bool(body["enabled"], ["body", "enabled"]) ?? true
        var agentType = v.string(body["agent_type"], ["body", "agent_type"], oneOf: OrchestrationStore.agentTypes)
        if agentType == nil, let prefix = agentID?.split(separator: "_").first.map(String.init),
           OrchestrationStore.agentTypes.contains(prefix) { agentType = prefix }
        try v.check()
        return AgentConnection(agentID: agentID!, agentName: name!, agentType: agentType, connectionType: type!, endpoint: endpoint,
                               port: port, apiKeyID: keyID, enabled: enabled)
    }

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let s = services
        let tags = ["agents"]
        router.get("/api/agents/connections", docs: OpenAPIOperation(summary: "Agent connections", tags: tags)) { _, _ in
            .json(.object([("connections", .array(try s.store.connections().map(\.json)))]))
        }
        router.get("/api/agents/connections/{agent_id}", docs: OpenAPIOperation(summary: "One agent connection", tags: tags)) { _, context in
            guard let connection = try s.store.connection(try context.parameters.require("agent_id")) else {
                throw OrchestrationServices.notFound("Agent connection")
            }
            return .json(connection.json)
        }
        router.post("/api/agents/connections", docs: OpenAPIOperation(
            summary: "Create a connection; its agent_type (default: the agent_id prefix) decides which agent label it serves", tags: tags,
            responses: [201: OpenAPIResponse("Created"), 400: OpenAPIResponse("Duplicate agent_id")])
        ) { request, _ in
            let connection = try Self.connection(try Validator.body(request), agentID: nil)
            try s.store.saveConnection(connection, replace: false)
            return .json(connection.json, status: .created)
        }
        router.put("/api/agents/connections/{agent_id}", docs: OpenAPIOperation(summary: "Replace a connection", tags: tags)) { request, context in
            let id = try context.parameters.require("agent_id")
            guard try s.store.connection(id) != nil else { throw OrchestrationServices.notFound("Agent connection") }
            let connection = try Self.connection(try Validator.body(request), agentID: id)
            try s.store.saveConnection(connection, replace: true)
            return .json(connection.json)
        }
        router.delete("/api/agents/connections/{agent_id}", docs: OpenAPIOperation(summary: "Delete a connection", tags: tags)) { _, context in
            let id = try context.parameters.require("agent_id")
            guard try s.store.deleteConnection(id) else { throw OrchestrationServices.notFound("Agent connection") }
            return .json(.object([("status", "deleted"), ("agent_id", .string(id))]))
        }

        let fileDocs = "The path is one URL segment: send '/' as %2F (e.g. .claude%2Fskills%2Freview.md)."
        router.get("/api/agents/files", docs: OpenAPIOperation(summary: "Agent configuration files", tags: tags,
            queryParameters: [OpenAPIParameter(query: "file_type", schema: JSONSchema.enumeration(AgentFiles.fileTypes))])) { request, _ in
            var v = Validator()
            let type = v.queryString(request, "file_type", oneOf: AgentFiles.fileTypes)
            try v.check()
            return .json(.object([("files", .array(try s.files.list(type: type)))]))
        }
        router.get("/api/agents/files/{file_path}", docs: OpenAPIOperation(summary: "One configuration file", description: fileDocs, tags: tags)) { _, context in
            let (relative, url) = try s.files.resolve(try context.parameters.require("file_path"), loc: ["path", "file_path"])
            guard s.files.exists(url) else { throw OrchestrationServices.notFound("File") }
            return .json(try s.files.json(relative: relative, url: url))
        }
        router.put("/api/agents/files/{file_path}", docs: OpenAPIOperation(summary: "Replace a file's content", description: fileDocs, tags: tags)) { request, context in
            let (relative, url) = try s.files.resolve(try context.parameters.require("file_path"), loc: ["path", "file_path"])
            let body = try Validator.body(request)
            var v = Validator()
            v.rejectUnknown(body, ["body"], allowed: ["content"])
            let content = v.string(body["content"], ["body", "content"], required: true, maxLength: AgentFiles.maxBytes)
            try v.check()
            guard s.files.exists(url) else { throw OrchestrationServices.notFound("File") }
            try s.files.write(content!, to: url)
            return .json(try s.files.json(relative: relative, url: url))
        }
        router.post("/api/agents/files", docs: OpenAPIOperation(summary: "Create a file (409 when it exists)", tags: tags,
            requestBody: OpenAPIBody(schema: JSONSchema.object(["file_path": JSONSchema.string, "content": JSONSchema.string,
                                                                "file_type": JSONSchema.enumeration(AgentFiles.fileTypes)], required: ["file_path", "content"])),
            responses: [201: OpenAPIResponse("Created"), 409: OpenAPIResponse("Exists")])) { request, _ in
            let body = try Validator.body(request)
            var v = Validator()
            v.rejectUnknown(body, ["body"], allowed: ["file_path", "file_type", "content", "last_modified"])
            let path = v.string(body["file_path"], ["body", "file_path"], required: true, minLength: 1, maxLength: 512)
            let type = v.string(body["file_type"], ["body", "file_type"], oneOf: AgentFiles.fileTypes)
            let content = v.string(body["content"], ["body", "content"], required: true, maxLength: AgentFiles.maxBytes)
            try v.check()
            let (relative, url) = try s.files.resolve(path!, loc: ["body", "file_path"])
            if let type, type != AgentFiles.type(of: relative) {
                throw ValidationError(location: ["body", "file_type"], message: "the path makes this a '\(AgentFiles.type(of: relative))' file",
                                      type: "value_error.file_type")
            }
            guard !s.files.exists(url) else { throw HTTPError(.conflict, "File already exists") }
            try s.files.write(content!, to: url)
            return .json(try s.files.json(relative: relative, url: url), status: .created)
        }
        router.delete("/api/agents/files/{file_path}", docs: OpenAPIOperation(summary: "Delete a file", description: fileDocs, tags: tags)) { _, context in
            let (relative, url) = try s.files.resolve(try context.parameters.require("file_path"), loc: ["path", "file_path"])
            guard s.files.exists(url) else { throw OrchestrationServices.notFound("File") }
            try s.files.delete(url)
            return .json(.object([("status", "deleted"), ("file_path", .string(relative))]))
        }
    }
}
