import Wire

/// KubernetesObject is every top-level API kind: a generated message with ObjectMeta. The
/// registry, watch cache and pipeline work on `any KubernetesObject` and the `ResourceType`
/// that describes its kind. Its JSON codec is generated too (JSONObjectMessage).
public protocol KubernetesObject: ProtoMessage, JSONObjectMessage {
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
/// A class: requests, caches and filters pass their kind around on every call, and a struct of
/// five strings, two collections and four closures cost a reference count per member on every
/// copy (and hashing three strings on every dictionary lookup); a reference costs one, and the
/// hash is computed once.
public final class ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// API group; "" is the core group.
    public let group: String
    public let version: String
    public let kind: String
    /// Lower-case plural, as in URLs and store keys: "pods", "deployments".
    public let plural: String
    /// Lower-case singular, for kubectl: "pod".
    public let singular: String
    public let namespaced: Bool
    public let shortNames: [String]
    /// Subresources this kind serves: "status", "scale", "binding".
    public let subresources: Set<String>
    /// Decodes the stored or sent protobuf of this kind.
    public let decode: @Sendable ([UInt8]) throws -> any KubernetesObject
    /// An empty object of this kind.
    public let emptyObject: @Sendable () -> any KubernetesObject
    /// The JSON of an object of this kind without apiVersion and kind (see `encodeJSON`).
    let encodeJSONFields: @Sendable (any KubernetesObject) -> JSONValue
    /// Decodes the fields of an object of this kind (see `decodeJSON`).
    let decodeJSONFields: @Sendable (JSONValue, inout JSONDecodingContext) throws(JSONDecodingError) -> any KubernetesObject

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
        self.storePrefix = group.isEmpty ? "/registry/\(plural)/" : "/registry/\(group)/\(plural)/"
        self.decode = { bytes in try Object(protobuf: bytes) }
        self.emptyObject = { Object() }
        self.encodeJSONFields = { object in
            guard let typed = object as? Object else {
                preconditionFailure("\(Swift.type(of: object)) encoded as \(kind)")
            }
            return typed.jsonValue()
        }
        self.decodeJSONFields = { (value, context) throws(JSONDecodingError) in
            try Object(json: value, at: .root, context: &context)
        }
        var hasher = Hasher()
        hasher.combine(group)
        hasher.combine(version)
        hasher.combine(plural)
        identityHash = hasher.finalize()
    }

    /// The hash of group, version and plural (what == compares), computed once.
    private let identityHash: Int

    /// "pods" for the core group, "deployments.apps" otherwise: how requests name resources.
    public var qualifiedName: String { group.isEmpty ? plural : plural + "." + group }

    /// "v1" or "apps/v1", as in `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : group + "/" + version }

    /// The store key prefix of every object of this kind: /registry/<resource>/.
    /// Core kinds use the plural alone, like Kubernetes; other groups use group/plural so
    /// that two groups' kinds of one name never share keys.
    public let storePrefix: String

    /// The store key of one object.
    public func storeKey(namespace: String, name: String) -> String {
        namespaced ? storePrefix + namespace + "/" + name : storePrefix + name
    }

    public var description: String { qualifiedName }

    public static func == (left: ResourceType, right: ResourceType) -> Bool {
        left === right || (left.group == right.group && left.version == right.version && left.plural == right.plural)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(identityHash)
    }
}

// MARK: JSON

extension ResourceType {
    /// "PodList".
    public var listKind: String { kind + "List" }

    /// The Kubernetes JSON of an object of this kind: kind and apiVersion first (as Kubernetes
    /// writes them), then metadata, spec, status… Passing an object of another kind is a
    /// programmer error.
    public func encodeJSON(_ object: any KubernetesObject) -> JSONValue {
        var result = JSONObject()
        result["kind"] = .string(kind)
        result["apiVersion"] = .string(apiVersion)
        if case .object(let fields) = encodeJSONFields(object) {
            for (key, value) in fields { result[key] = value }
        }
        return .object(result)
    }

    /// Decodes a JSON object of this kind. `apiVersion` and `kind`, when present, must name this
    /// kind (a Deployment sent to the pods endpoint is refused with both names); unknown members
    /// come back as full paths for the caller's fieldValidation (`FieldValidation.check`).
    public func decodeJSON(_ value: JSONValue) throws(JSONDecodingError) -> (object: any KubernetesObject, unknownFields: [String]) {
        guard case .object(let members) = value else {
            throw JSONDecodingError(path: "", reason: "expected a \(kind) object, got \(value.shortDescription)")
        }
        if let sent = members["apiVersion"], !sent.isNull {
            guard case .string(let text) = sent else {
                throw JSONDecodingError(path: "apiVersion", reason: "expected a string, got \(sent.shortDescription)")
            }
            guard text == apiVersion else {
                throw JSONDecodingError(
                    path: "", reason: "the API version in the data (\(text)) does not match the expected API version (\(apiVersion))")
            }
        }
        if let sent = members["kind"], !sent.isNull {
            guard case .string(let text) = sent else {
                throw JSONDecodingError(path: "kind", reason: "expected a string, got \(sent.shortDescription)")
            }
            guard text == kind else {
                throw JSONDecodingError(path: "", reason: "the kind in the data (\(text)) does not match the expected kind (\(kind))")
            }
        }
        var context = JSONDecodingContext()
        let object = try decodeJSONFields(value, &context)
        return (object, context.unknownFields)
    }

    /// A list response: `{"kind":"PodList","apiVersion":"v1","metadata":{…},"items":[…]}`. Items
    /// carry no kind or apiVersion, as in Kubernetes' list responses.
    public func encodeJSONList(items: [any KubernetesObject], listMeta: ListMeta) -> JSONValue {
        var result = JSONObject()
        result["kind"] = .string(listKind)
        result["apiVersion"] = .string(apiVersion)
        result["metadata"] = listMeta.jsonValue()
        result["items"] = .array(items.map(encodeJSONFields))
        return .object(result)
    }
}

extension JSONDecodingError {
    /// The 400 BadRequest Kubernetes answers for a body it cannot decode:
    /// `Pod in version "v1" cannot be handled as a Pod: spec.containers[0].ports[0]...`.
    public func apiError(for type: ResourceType) -> ApiError {
        .badRequest("\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): \(description)")
    }
}

extension ResourceType {
    /// The Kubernetes OpenAPI definition name of this kind: "io.k8s.api.core.v1.Pod",
    /// "io.k8s.api.apps.v1.Deployment", "io.k8s.api.rbac.v1.Role" (a group's first label).
    public var schemaName: String {
        let package = group.isEmpty ? "core" : String(group.split(separator: ".")[0])
        return "io.k8s.api.\(package).\(version).\(kind)"
    }
}
