/// The frozen routing table: a trie of path segments where literals win over parameters, plus a
/// direct map for fully static paths (the common case costs one hash lookup).
final class RouteTrie<Context: RequestContext>: Sendable {
    final class Node: Sendable {
        let literals: [String: Node]
        let parameter: (name: String, node: Node)?
        let routes: [HTTPMethod: RouteEntry<Context>]

        init(literals: [String: Node], parameter: (name: String, node: Node)?, routes: [HTTPMethod: RouteEntry<Context>]) {
            self.literals = literals
            self.parameter = parameter
            self.routes = routes
        }

        var allowedMethods: [HTTPMethod] {
            var methods = Set(routes.keys)
            if methods.contains(.get) { methods.insert(.head) }
            methods.insert(.options)
            return methods.sorted { $0.rawValue < $1.rawValue }
        }
    }

    let root: Node
    let staticPaths: [String: Node]

    init(entries: [RouteEntry<Context>]) {
        root = Self.build(entries, depth: 0)
        var staticPaths: [String: Node] = [:]
        Self.collectStatic(root, prefix: "", into: &staticPaths)
        self.staticPaths = staticPaths
    }

    private static func build(_ entries: [RouteEntry<Context>], depth: Int) -> Node {
        var routes: [HTTPMethod: RouteEntry<Context>] = [:]
        var literalGroups: [String: [RouteEntry<Context>]] = [:]
        var parameterEntries: [RouteEntry<Context>] = []
        var parameterName: String?
        for entry in entries {
            if entry.segments.count == depth {
                routes[entry.method] = entry
                continue
            }
            switch entry.segments[depth] {
            case .literal(let text): literalGroups[text, default: []].append(entry)
            case .parameter(let name):
                parameterName = parameterName ?? name
                parameterEntries.append(entry)
            }
        }
        let literals = literalGroups.mapValues { build($0, depth: depth + 1) }
        let parameter = parameterName.map { (name: $0, node: build(parameterEntries, depth: depth + 1)) }
        return Node(literals: literals, parameter: parameter, routes: routes)
    }

    private static func collectStatic(_ node: Node, prefix: String, into map: inout [String: Node]) {
        if !node.routes.isEmpty { map[prefix.isEmpty ? "/" : prefix] = node }
        for (literal, child) in node.literals { collectStatic(child, prefix: prefix + "/" + literal, into: &map) }
    }

    /// The node for `path` (still percent-encoded) and its decoded parameters.
    /// - Throws: `HTTPError(400)` when a parameter has a malformed percent escape.
    func resolve(_ path: String) throws -> (Node, Parameters)? {
        if let node = staticPaths[path] { return (node, Parameters()) }
        let segments = path.split(separator: "/")
        var parameters = Parameters()
        guard let node = try resolve(root, segments, 0, &parameters) else { return nil }
        return (node, parameters)
    }

    private func resolve(_ node: Node, _ segments: [Substring], _ index: Int,
                         _ parameters: inout Parameters) throws -> Node? {
        if index == segments.count { return node.routes.isEmpty ? nil : node }
        let segment = segments[index]
        if let child = node.literals[String(segment)], let found = try resolve(child, segments, index + 1, &parameters) {
            return found
        }
        if let (name, child) = node.parameter {
            guard let value = PercentDecoding.decode(segment) else {
                throw HTTPError(.badRequest, "Malformed percent-encoding in path")
            }
            parameters.append(name: name, value: value)
            if let found = try resolve(child, segments, index + 1, &parameters) { return found }
            parameters.removeLast()
        }
        return nil
    }
}
