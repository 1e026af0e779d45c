/// ServedResource is one entry of API discovery: a kind's resource or one of its subresources,
/// with what kubectl needs to find it (`kubectl api-resources`, short names, `get all`).
public struct ServedResource: Sendable, Equatable {
    /// "pods", or "pods/status" for a subresource.
    public var name: String
    public var singularName: String
    public var namespaced: Bool
    public var kind: String
    public var verbs: [String]
    public var shortNames: [String]
    public var categories: [String]
    /// Group and version of `kind` when it differs from the enclosing group-version (the scale
    /// subresource is an autoscaling/v1 Scale in every group).
    public var group: String?
    public var version: String?
}

/// ServedGroupVersion is one group-version and its resources.
public struct ServedGroupVersion: Sendable, Equatable {
    /// "" for the core group.
    public var group: String
    public var version: String
    public var resources: [ServedResource]

    /// "v1" or "apps/v1".
    public var groupVersion: String { group.isEmpty ? version : group + "/" + version }
}

/// ServedAPI is everything the server serves, as both doors' discovery reports it: every kind of
/// the ResourceCatalog with its subresources, the pod subresources that node agents will serve
/// (log, exec, attach, portforward), and SelfSubjectAccessReview for `kubectl auth can-i`.
public enum ServedAPI {
    /// The verbs of a stored kind's main resource.
    static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// Kubernetes' "all" category: what `kubectl get all` lists.
    static let allCategory: Set<String> = [
        "pods", "replicationcontrollers", "services", "daemonsets.apps", "deployments.apps", "replicasets.apps",
        "statefulsets.apps", "jobs.batch",
    ]

    /// The access-review group, served by the authorizer rather than stored.
    public static let authorizationGroup = "authorization.k8s.io"
    public static let selfSubjectAccessReviews = ServedResource(
        name: "selfsubjectaccessreviews", singularName: "selfsubjectaccessreview", namespaced: false,
        kind: "SelfSubjectAccessReview", verbs: ["create"], shortNames: [], categories: [])

    /// Every group-version, core first, then groups by name.
    public static let groupVersions: [ServedGroupVersion] = {
        var byGroupVersion: [String: ServedGroupVersion] = [:]
        for type in ResourceCatalog.all {
            var entry = byGroupVersion[type.apiVersion] ?? ServedGroupVersion(group: type.group, version: type.version, resources: [])
            entry.resources += resources(of: type)
            byGroupVersion[type.apiVersion] = entry
        }
        byGroupVersion[authorizationGroup + "/v1"] = ServedGroupVersion(
            group: authorizationGroup, version: "v1", resources: [selfSubjectAccessReviews])
        return byGroupVersion.values.sorted { left, right in
            if left.group.isEmpty != right.group.isEmpty { return left.group.isEmpty }
            return left.groupVersion < right.groupVersion
        }
    }()

    /// The group-version `group`/`version`, nil when not served.
    public static func groupVersion(group: String, version: String) -> ServedGroupVersion? {
        groupVersions.first { $0.group == group && $0.version == version }
    }

    /// The groups other than core, each with its versions (one today).
    public static var namedGroups: [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for entry in groupVersions where !entry.group.isEmpty {
            if versions[entry.group] == nil { order.append(entry.group) }
            versions[entry.group, default: []].append(entry.version)
        }
        return order.map { ($0, versions[$0]!) }
    }

    static func resources(of type: ResourceType) -> [ServedResource] {
        let readOnly = type == ComponentStatus.resourceType
        var result = [ServedResource(
            name: type.plural, singularName: type.singular, namespaced: type.namespaced, kind: type.kind,
            verbs: readOnly ? ["get", "list"] : standardVerbs, shortNames: type.shortNames,
            categories: allCategory.contains(type.qualifiedName) ? ["all"] : [])]
        var subresources = type.subresources.map { subresource -> ServedResource in
            switch subresource {
            case "scale":
                return ServedResource(
                    name: type.plural + "/scale", singularName: "", namespaced: type.namespaced, kind: "Scale",
                    verbs: ["get", "patch", "update"], shortNames: [], categories: [], group: "autoscaling", version: "v1")
            case "binding":
                return ServedResource(
                    name: type.plural + "/binding", singularName: "", namespaced: type.namespaced, kind: "Binding",
                    verbs: ["create"], shortNames: [], categories: [])
            default:
                return ServedResource(
                    name: type.plural + "/" + subresource, singularName: "", namespaced: type.namespaced, kind: type.kind,
                    verbs: ["get", "patch", "update"], shortNames: [], categories: [])
            }
        }
        if type == Pod.resourceType {
            subresources.append(ServedResource(
                name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"], shortNames: [], categories: []))
            for streaming in ["attach", "exec", "portforward"] {
                subresources.append(ServedResource(
                    name: "pods/" + streaming, singularName: "", namespaced: true, kind: streaming == "portforward" ? "PodPortForwardOptions" : streaming == "exec" ? "PodExecOptions" : "PodAttachOptions",
                    verbs: ["create", "get"], shortNames: [], categories: []))
            }
        }
        result += subresources.sorted { $0.name < $1.name }
        return result
    }

    /// The binary protocol's discovery answer.
    static func protobufDiscovery() -> ApiDiscovery {
        ApiDiscovery(groups: groupVersions.filter { $0.group != authorizationGroup }.map { entry in
            var list = APIResourceList()
            list.groupVersion = entry.groupVersion
            list.resources = entry.resources.map { served in
                var resource = APIResource()
                resource.name = served.name
                resource.singularName = served.singularName.isEmpty ? nil : served.singularName
                resource.namespaced = served.namespaced
                resource.kind = served.kind
                resource.shortNames = served.shortNames
                resource.categories = served.categories
                resource.group = served.group
                resource.version = served.version
                resource.verbs = Verbs(items: served.verbs)
                return resource
            }
            return list
        })
    }
}
