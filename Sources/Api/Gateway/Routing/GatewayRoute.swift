import Foundation

/// ResourcePath is a request path on a served resource, as Kubernetes lays them out:
/// `/api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]` for the core group and
/// `/apis/<group>/<version>/…` for the others, plus the legacy `/api/v1/watch/…` form.
public struct ResourcePath: Sendable, Equatable {
    public var group: String
    public var version: String
    /// The plural resource name as written in the path ("pods").
    public var resource: String
    /// "" for cluster-scoped requests and for requests across all namespaces.
    public var namespace: String
    public var name: String
    public var subresource: String
    /// `/api/v1/watch/…`: a watch whatever the query says.
    public var legacyWatch: Bool

    public init(
        group: String = "", version: String = "v1", resource: String, namespace: String = "", name: String = "",
        subresource: String = "", legacyWatch: Bool = false
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
        self.legacyWatch = legacyWatch
    }
}

/// GatewayRoute is what a request path asks for. Parsing is pure: no lookups of what is served
/// (the gateway answers 404 for a group, version or resource it does not serve).
public enum GatewayRoute: Sendable, Equatable {
    case version
    /// /healthz, /livez, /readyz, optionally with one check: /readyz/etcd.
    case health(endpoint: String, check: String?)
    case metrics
    /// /api: the core group's versions.
    case coreVersions
    /// /apis: every named group.
    case groups
    /// /apis/<group>.
    case group(String)
    /// /api/v1 or /apis/<group>/<version>: the resources of a group-version.
    case resources(group: String, version: String)
    /// /openapi/v3.
    case openAPIIndex
    /// /openapi/v3/<path>, for example "api/v1" or "apis/apps/v1".
    case openAPIDocument(String)
    /// /openapi/v2 (Skiff serves v3 only).
    case openAPIV2
    case resource(ResourcePath)
    case notFound

    /// Parses a request path (without the query). Percent-encoded segments are decoded.
    public init(path rawPath: String) {
        let segments = rawPath.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        self = Self.parse(segments)
    }

    private static func parse(_ segments: [String]) -> GatewayRoute {
        guard let first = segments.first else { return .notFound }
        switch first {
        case "version" where segments.count == 1:
            return .version
        case "healthz", "livez", "readyz":
            if segments.count == 1 { return .health(endpoint: first, check: nil) }
            if segments.count == 2 { return .health(endpoint: first, check: segments[1]) }
            return .notFound
        case "metrics" where segments.count == 1:
            return .metrics
        case "openapi":
            if segments.count >= 2 && segments[1] == "v2" { return .openAPIV2 }
            guard segments.count >= 2, segments[1] == "v3" else { return .notFound }
            if segments.count == 2 { return .openAPIIndex }
            return .openAPIDocument(segments[2...].joined(separator: "/"))
        case "api":
            if segments.count == 1 { return .coreVersions }
            let version = segments[1]
            if segments.count == 2 { return .resources(group: "", version: version) }
            return resourceRoute(group: "", version: version, rest: Array(segments[2...]))
        case "apis":
            if segments.count == 1 { return .groups }
            let group = segments[1]
            if segments.count == 2 { return .group(group) }
            let version = segments[2]
            if segments.count == 3 { return .resources(group: group, version: version) }
            return resourceRoute(group: group, version: version, rest: Array(segments[3...]))
        default:
            return .notFound
        }
    }

    /// The part after the group-version: Kubernetes' RequestInfo rules.
    private static func resourceRoute(group: String, version: String, rest: [String]) -> GatewayRoute {
        var parts = rest
        var legacyWatch = false
        if parts.first == "watch" {
            legacyWatch = true
            parts.removeFirst()
        }
        var namespace = ""
        // /namespaces/<ns>/<resource>…; but /namespaces/<name> and /namespaces/<name>/status
        // (or /finalize) are the Namespace object itself.
        if parts.count >= 2, parts[0] == "namespaces" {
            if parts.count == 2 || (parts.count == 3 && (parts[2] == "status" || parts[2] == "finalize")) {
                let path = ResourcePath(
                    group: group, version: version, resource: "namespaces", name: parts[1],
                    subresource: parts.count == 3 ? parts[2] : "", legacyWatch: legacyWatch)
                return .resource(path)
            }
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard !parts.isEmpty, parts.count <= 3 else { return .notFound }
        return .resource(ResourcePath(
            group: group, version: version, resource: parts[0], namespace: namespace,
            name: parts.count >= 2 ? parts[1] : "", subresource: parts.count == 3 ? parts[2] : "",
            legacyWatch: legacyWatch))
    }
}
