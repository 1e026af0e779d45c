/// MessageSchema describes the JSON form of one API message as Kubernetes names and documents
/// it: the table the generator writes from proto/api (`MessageSchema.generated`), read by the
/// OpenAPI documents and by the patch engines (merge keys, list types, which members hold
/// objects). Inline fields are already flattened: a Volume's schema lists `name` and every
/// member of VolumeSource.
public struct MessageSchema: Sendable {
    /// How a message appears in JSON.
    public enum Form: Sendable, Hashable {
        /// An object of its fields.
        case object
        /// RFC 3339 string, seconds.
        case time
        /// RFC 3339 string, microseconds.
        case microTime
        /// A quantity string ("500m", "1Gi").
        case quantity
        /// A bare integer or string.
        case intOrString
        /// Any embedded JSON value.
        case rawExtension
        /// An embedded object of field-set keys.
        case fieldsV1
        /// An array of strings.
        case stringArray
    }

    /// The Kubernetes definition name: "io.k8s.api.core.v1.Pod".
    public var name: String
    public var form: Form
    public var description: String
    /// Whether `apiVersion` and `kind` belong to the object (Go structs embedding TypeMeta).
    public var carriesTypeMeta: Bool
    /// The members of the JSON object, in declaration order; empty for special forms.
    public var fields: [FieldSchema]

    init(_ name: String, form: Form = .object, carriesTypeMeta: Bool = false, description: String, fields: [FieldSchema] = []) {
        self.name = name
        self.form = form
        self.carriesTypeMeta = carriesTypeMeta
        self.description = description
        self.fields = fields
    }

    /// The member named `name`.
    public func field(_ name: String) -> FieldSchema? { fields.first { $0.name == name } }

    /// "Pod" from "io.k8s.api.core.v1.Pod".
    public var shortName: String { String(name.split(separator: ".").last ?? "") }
}

/// FieldSchema is one member of a message's JSON object.
public struct FieldSchema: Sendable {
    /// Kubernetes' `+listType`: how server-side apply treats a list.
    public enum ListType: String, Sendable, Hashable {
        /// Replaced as a whole; one owner.
        case atomic
        /// Distinct scalars, each owned separately.
        case set
        /// Objects identified by `listMapKeys`, each owned separately.
        case map
    }

    public var name: String
    public var type: FieldType
    public var description: String
    public var isRequired: Bool
    /// Kubernetes' `patchStrategy` struct tag: "merge", "retainKeys" or "merge,retainKeys".
    public var patchStrategy: String?
    /// Kubernetes' `patchMergeKey` struct tag: the member that identifies a list element.
    public var patchMergeKey: String?
    public var listType: ListType?
    public var listMapKeys: [String]
    /// "atomic" when a map (or object) is replaced as a whole by apply.
    public var mapType: String?
    public var structType: String?

    init(
        _ name: String, _ type: FieldType, _ description: String, required: Bool = false, patchStrategy: String? = nil,
        patchMergeKey: String? = nil, listType: ListType? = nil, listMapKeys: [String] = [], mapType: String? = nil,
        structType: String? = nil
    ) {
        self.name = name
        self.type = type
        self.description = description
        self.isRequired = required
        self.patchStrategy = patchStrategy
        self.patchMergeKey = patchMergeKey
        self.listType = listType
        self.listMapKeys = listMapKeys
        self.mapType = mapType
        self.structType = structType
    }

    public var mergesLists: Bool { patchStrategy?.split(separator: ",").contains("merge") == true }
    public var retainsKeys: Bool { patchStrategy?.split(separator: ",").contains("retainKeys") == true }
}

/// FieldType is the JSON type of a member.
public indirect enum FieldType: Sendable, Hashable {
    case string, boolean, int32, int64, uint32, uint64, double, float
    /// base64 text.
    case bytes
    /// A message, by Kubernetes definition name.
    case message(String)
    case array(FieldType)
    /// A JSON object with arbitrary string keys.
    case map(FieldType)
}

extension MessageSchema {
    private static let byName: [String: MessageSchema] = {
        var table: [String: MessageSchema] = [:]
        for schema in generated { table[schema.name] = schema }
        return table
    }()

    /// The schema named `name` ("io.k8s.api.core.v1.PodSpec").
    public static func named(_ name: String) -> MessageSchema? { byName[name] }

    /// Every generated schema, by definition name.
    public static var all: [String: MessageSchema] { byName }
}
