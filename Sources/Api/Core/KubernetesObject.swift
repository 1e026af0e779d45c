import Wire

/// KubernetesObject is every top-level API kind: a generated message with ObjectMeta. The
/// registry, watch cache and pipeline work on `any KubernetesObject` and the `ResourceType`
/// that describes its kind.
public protocol KubernetesObject: ProtoMessage {
    var metadata: ObjectMeta? { get set }
    static var resourceType: ResourceType { get }
}

extension KubernetesObject {
    /// The metadata, created empty when absent, for reading and writing in place.
    public var meta: ObjectMeta {
        get { metadata ?? ObjectMeta() }
        set { metadata = newValue }
    }

    public var resourceType: ResourceType { Self.resourceType }
}

/// ResourceType describes one served kind: where it lives in the API and in the store.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// API group; "" is the core group.
    public var group: String
    public var version: String
    public var kind: String
    /// Lower-case plural, as in URLs and store keys: "pods", "deployments".
    public var plural: String
    /// Lower-case singular, for kubectl: "pod".
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    /// Subresources this kind serves: "status", "scale", "binding".
    public var subresources: Set<String>
    /// Decodes the stored or sent protobuf of this kind.
    public let decode: @Sendable ([UInt8]) throws -> any KubernetesObject
    /// An empty object of this kind.
    public let emptyObject: @Sendable () -> any KubernetesObject

    public init<Object: KubernetesObject>(
        _ type: Object.Type, group: String, version: String, kind: String, plural: String,
        namespaced: Bool, shortNames: [String] = [], subresources: Set<String> = []
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.subresources = subresources
        self.decode = { bytes in try Object(protobuf: bytes) }
        self.emptyObject = { Object() }
    }

    /// "pods" for the core group, "deployments.apps" otherwise: how requests name resources.
    public var qualifiedName: String { group.isEmpty ? plural : plural + "." + group }

    /// "v1" or "apps/v1", as in `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : group + "/" + version }

    /// The store key prefix of every object of this kind: /registry/<resource>/.
    /// Core kinds use the plural alone, like Kubernetes; other groups use group/plural so
    /// that two groups' kinds of one name never share keys.
    public var storePrefix: String {
        group.isEmpty ? "/registry/\(plural)/" : "/registry/\(group)/\(plural)/"
    }

    /// The store key of one object.
    public func storeKey(namespace: String, name: String) -> String {
        namespaced ? storePrefix + namespace + "/" + name : storePrefix + name
    }

    public var description: String { qualifiedName }

    public static func == (left: ResourceType, right: ResourceType) -> Bool {
        left.group == right.group && left.version == right.version && left.plural == right.plural
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(group)
        hasher.combine(version)
        hasher.combine(plural)
    }
}
