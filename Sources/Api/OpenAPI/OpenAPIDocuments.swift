/// OpenAPIDocuments are the OpenAPI v3 documents the API server serves under /openapi/v3, built
/// from the generated schema table (`MessageSchema.generated`, from proto/api) for the served
/// kinds. They are what kubectl reads:
///
/// * `kubectl explain` fetches the index, follows `serverRelativeURL` for the group-version,
///   finds the kind through the `x-kubernetes-group-version-kind` of an operation on the
///   resource's path, then the schema with that GVK in `components.schemas`, and walks
///   `properties` (refs as `allOf: [{$ref}]`), `items`, `additionalProperties`, `required`.
/// * `kubectl apply` takes strategic-merge metadata from the kind's schema
///   (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`), and `--validate=strict`
///   (the default) checks that the kind's PATCH operation lists the `fieldValidation` query
///   parameter before it trusts the server to reject unknown fields.
///
/// Documents are built and serialized once; `hash` (hex SHA-256 of the serialized document) is
/// stable while the content is, so kubectl's cache keyed by the URL stays valid.
public struct OpenAPIDocuments: Sendable {
    /// A served group-version: its path in the index ("api/v1", "apis/apps/v1") and kinds.
    struct GroupVersion: Sendable {
        var path: String
        var group: String
        var version: String
        var resources: [ResourceType]
    }

    private let documents: [String: JSONValue]
    private let serialized: [String: [UInt8]]
    /// Hex SHA-256 of each serialized document, by path.
    public let hashes: [String: String]

    /// The documents for Skiff's served kinds, built on first use.
    public static let shared = OpenAPIDocuments(resources: ResourceCatalog.all)

    public init(resources: [ResourceType]) {
        var groups: [String: GroupVersion] = [:]
        for type in resources {
            let path = type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
            groups[path, default: GroupVersion(path: path, group: type.group, version: type.version, resources: [])]
                .resources.append(type)
        }
        var documents: [String: JSONValue] = [:]
        var serialized: [String: [UInt8]] = [:]
        var hashes: [String: String] = [:]
        for (path, group) in groups {
            let document = OpenAPIBuilder(groupVersion: group).document()
            let bytes = document.serialized()
            documents[path] = document
            serialized[path] = bytes
            hashes[path] = SHA256.hash(bytes).map { byte in
                let text = String(byte, radix: 16, uppercase: true)
                return byte < 16 ? "0" + text : text
            }.joined()
        }
        self.documents = documents
        self.serialized = serialized
        self.hashes = hashes
    }

    /// The paths served: "api/v1", "apis/apps/v1", …, sorted.
    public var paths: [String] { documents.keys.sorted() }

    /// The discovery document of /openapi/v3:
    /// `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=<hex>"},…}}`.
    public func index() -> JSONValue {
        var paths = JSONObject()
        for path in self.paths {
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hashes[path]!)")]
        }
        return ["paths": .object(paths)]
    }

    /// The OpenAPI 3.0 document of one group-version ("api/v1", "apis/apps/v1"); nil when the
    /// group-version is not served.
    public func document(path: String) -> JSONValue? { documents[path] }

    /// The compact JSON of `document(path:)`, serialized once.
    public func documentBytes(path: String) -> [UInt8]? { serialized[path] }
}

/// OpenAPIBuilder writes one group-version's document: the schemas reachable from its kinds and
/// the REST paths of its resources.
struct OpenAPIBuilder {
    let groupVersion: OpenAPIDocuments.GroupVersion

    static let metaPrefix = "io.k8s.apimachinery.pkg.apis.meta.v1."
    static let patchSchemaName = metaPrefix + "Patch"

    func document() -> JSONValue {
        var document = JSONObject()
        document["openapi"] = "3.0.0"
        document["info"] = ["title": "Kubernetes", "version": "v1.32.0"]
        document["paths"] = .object(paths())
        var components = JSONObject()
        components["schemas"] = .object(schemas())
        components["securitySchemes"] = [
            "BearerToken": [
                "type": "apiKey", "name": "authorization", "in": "header",
                "description": "Bearer Token authentication",
            ]
        ]
        document["components"] = .object(components)
        return .object(document)
    }

    // MARK: Schemas

    func gvk(_ kind: String, group: String? = nil, version: String? = nil) -> JSONValue {
        ["group": .string(group ?? groupVersion.group), "kind": .string(kind), "version": .string(version ?? groupVersion.version)]
    }

    /// The names of the top-level kinds (and their lists) with their GVK.
    func kindsByName() -> [String: JSONValue] {
        var kinds: [String: JSONValue] = [:]
        for type in groupVersion.resources {
            kinds[type.schemaName] = gvk(type.kind)
            kinds[type.schemaName + "List"] = gvk(type.listKind)
        }
        return kinds
    }

    func schemas() -> JSONObject {
        let kinds = kindsByName()
        var roots = Array(kinds.keys)
        roots += ["DeleteOptions", "Status", "WatchEvent", "APIResourceList"].map { Self.metaPrefix + $0 }
        for type in groupVersion.resources {
            if type.subresources.contains("scale") { roots.append("io.k8s.api.autoscaling.v1.Scale") }
            if type.subresources.contains("binding") { roots.append("io.k8s.api.core.v1.Binding") }
        }
        var names = Set<String>()
        var pending = roots.filter { MessageSchema.named($0) != nil }
        while let name = pending.popLast() {
            guard names.insert(name).inserted, let schema = MessageSchema.named(name) else { continue }
            for field in schema.fields {
                if let referenced = Self.referencedName(field.type), !names.contains(referenced) { pending.append(referenced) }
            }
        }
        var result = JSONObject()
        for name in names.sorted() {
            guard let schema = MessageSchema.named(name) else { continue }
            var object = Self.schemaObject(schema)
            if let gvk = kinds[name] {
                object["x-kubernetes-group-version-kind"] = [gvk]
            }
            result[name] = .object(object)
        }
        result[Self.patchSchemaName] = [
            "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
            "type": "object",
        ]
        return result
    }

    static func referencedName(_ type: FieldType) -> String? {
        switch type {
        case .message(let name): name
        case .array(let element), .map(let element): referencedName(element)
        default: nil
        }
    }

    static let apiVersionDescription =
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values."
    static let kindDescription =
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase."

    static func schemaObject(_ schema: MessageSchema) -> JSONObject {
        var object = JSONObject()
        if !schema.description.isEmpty { object["description"] = .string(schema.description) }
        switch schema.form {
        case .time, .microTime:
            object["type"] = "string"
            object["format"] = "date-time"
        case .quantity:
            object["oneOf"] = [["type": "string"], ["type": "number"]]
        case .intOrString:
            object["format"] = "int-or-string"
            object["oneOf"] = [["type": "integer"], ["type": "string"]]
            object["x-kubernetes-int-or-string"] = true
        case .rawExtension, .fieldsV1:
            object["type"] = "object"
        case .stringArray:
            object["type"] = "array"
            object["items"] = ["type": "string", "default": ""]
        case .object:
            object["type"] = "object"
            var properties = JSONObject()
            if schema.carriesTypeMeta {
                properties["apiVersion"] = ["description": .string(apiVersionDescription), "type": "string"]
                properties["kind"] = ["description": .string(kindDescription), "type": "string"]
            }
            for field in schema.fields {
                properties[field.name] = .object(property(field))
            }
            object["properties"] = .object(properties)
            let required = schema.fields.filter(\.isRequired).map { JSONValue.string($0.name) }
            if !required.isEmpty { object["required"] = .array(required) }
        }
        return object
    }

    static func property(_ field: FieldSchema) -> JSONObject {
        var object = typeSchema(field.type)
        var described = JSONObject()
        if !field.description.isEmpty { described["description"] = .string(field.description) }
        for (key, value) in object { described[key] = value }
        object = described
        if let strategy = field.patchStrategy { object["x-kubernetes-patch-strategy"] = .string(strategy) }
        if let key = field.patchMergeKey { object["x-kubernetes-patch-merge-key"] = .string(key) }
        if let listType = field.listType { object["x-kubernetes-list-type"] = .string(listType.rawValue) }
        if !field.listMapKeys.isEmpty { object["x-kubernetes-list-map-keys"] = .array(field.listMapKeys.map { .string($0) }) }
        if let mapType = field.mapType { object["x-kubernetes-map-type"] = .string(mapType) }
        if let structType = field.structType { object["x-kubernetes-map-type"] = .string(structType) }
        return object
    }

    /// The schema of a value of `type`; references as `allOf: [{$ref}]`, as Kubernetes writes
    /// them so that descriptions and defaults can sit beside the reference.
    static func typeSchema(_ type: FieldType) -> JSONObject {
        switch type {
        case .string: return ["type": "string"]
        case .boolean: return ["type": "boolean"]
        case .int32: return ["type": "integer", "format": "int32"]
        case .int64, .uint32, .uint64: return ["type": "integer", "format": "int64"]
        case .double: return ["type": "number", "format": "double"]
        case .float: return ["type": "number", "format": "float"]
        case .bytes: return ["type": "string", "format": "byte"]
        case .message(let name):
            var object: JSONObject = ["allOf": [["$ref": .string("#/components/schemas/\(name)")]]]
            if MessageSchema.named(name)?.form == .object { object["default"] = [:] }
            return object
        case .array(let element):
            return ["type": "array", "items": .object(typeSchema(element))]
        case .map(let value):
            return ["type": "object", "additionalProperties": .object(typeSchema(value))]
        }
    }

    // MARK: Paths

    static func reference(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func queryParameter(_ name: String, _ type: String, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "query", "description": .string(description), "schema": ["type": .string(type), "uniqueItems": true]]
    }

    static func pathParameter(_ name: String, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "path", "description": .string(description), "required": true, "schema": ["type": "string", "uniqueItems": true]]
    }

    static let dryRun = queryParameter("dryRun", "string", "When present, indicates that modifications should not be persisted. The only valid value is All.")
    static let fieldManager = queryParameter("fieldManager", "string", "The name of the actor or entity making these changes; required for apply patches.")
    static let fieldValidation = queryParameter(
        "fieldValidation", "string",
        "How the server treats unknown or duplicate fields in the request: Ignore, Warn (the default) or Strict (a 400 Bad Request naming each).")
    static let force = queryParameter("force", "boolean", "Force an apply: take over fields owned by other managers instead of failing with a conflict.")
    static let pretty = queryParameter("pretty", "string", "If 'true', the output is pretty printed.")
    static let listParameters: [JSONValue] = [
        queryParameter("allowWatchBookmarks", "boolean", "Request watch events of type BOOKMARK."),
        queryParameter("continue", "string", "The continue token of the previous page of a paged list."),
        queryParameter("fieldSelector", "string", "Restrict the returned objects by their fields."),
        queryParameter("labelSelector", "string", "Restrict the returned objects by their labels."),
        queryParameter("limit", "integer", "The largest number of objects in one page."),
        queryParameter("resourceVersion", "string", "The version to list at or watch from."),
        queryParameter("resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
        queryParameter("sendInitialEvents", "boolean", "Start a watch with synthetic ADDED events for the current state."),
        queryParameter("timeoutSeconds", "integer", "Seconds after which the call ends."),
        queryParameter("watch", "boolean", "Watch for changes instead of listing."),
    ]
    static let deleteParameters: [JSONValue] = [
        dryRun,
        queryParameter("gracePeriodSeconds", "integer", "Seconds the object gets to terminate; 0 deletes at once."),
        queryParameter("propagationPolicy", "string", "What happens to dependents: Orphan, Background or Foreground."),
    ]

    static func content(_ schema: JSONValue, types: [String] = ["application/json", "application/yaml"]) -> JSONValue {
        var content = JSONObject()
        for type in types { content[type] = ["schema": schema] }
        return .object(content)
    }

    static func responses(_ schema: JSONValue, codes: [String]) -> JSONValue {
        var responses = JSONObject()
        for code in codes {
            responses[code] = ["description": code == "201" ? "Created" : code == "202" ? "Accepted" : "OK", "content": content(schema)]
        }
        responses["401"] = ["description": "Unauthorized"]
        return .object(responses)
    }

    /// "CoreV1", "AppsV1", "RbacAuthorizationV1": how Kubernetes names operations.
    var operationInfix: String {
        let group = groupVersion.group.isEmpty ? "core" : groupVersion.group.replacingDots()
        return group.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            + groupVersion.version.prefix(1).uppercased() + groupVersion.version.dropFirst()
    }

    func operation(
        _ verb: String, action: String, kind: String, type: ResourceType, schema: String, namespaced: Bool,
        subresource: String = "", gvk: JSONValue? = nil, parameters: [JSONValue] = [], body: JSONValue? = nil,
        codes: [String] = ["200"], responseSchema: String? = nil
    ) -> JSONValue {
        let scope = namespaced ? "Namespaced" : ""
        let suffix = subresource.isEmpty ? "" : subresource.prefix(1).uppercased() + subresource.dropFirst()
        var object = JSONObject()
        let what = subresource.isEmpty ? type.kind : "\(subresource) of the specified \(type.kind)"
        object["description"] = .string("\(action == "list" ? "list or watch objects of kind" : action) \(what)")
        object["operationId"] = .string("\(verb)\(operationInfix)\(scope)\(kind)\(suffix)")
        object["tags"] = [.string(groupVersion.path.split(separator: "/").joined(separator: "_"))]
        if !parameters.isEmpty { object["parameters"] = .array(parameters) }
        if let body { object["requestBody"] = body }
        object["responses"] = Self.responses(Self.reference(responseSchema ?? schema), codes: codes)
        object["x-kubernetes-action"] = .string(action)
        object["x-kubernetes-group-version-kind"] = gvk ?? self.gvk(type.kind)
        return .object(object)
    }

    static func requestBody(_ name: String) -> JSONValue {
        ["content": content(reference(name), types: ["*/*"]), "required": true]
    }

    static let patchBody: JSONValue = [
        "content": content(
            reference(patchSchemaName),
            types: [
                "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ]),
        "required": true,
    ]

    func paths() -> JSONObject {
        var paths = JSONObject()
        let prefix = "/" + groupVersion.path
        for type in groupVersion.resources.sorted(by: { $0.plural < $1.plural }) {
            let schema = type.schemaName
            let list = schema + "List"
            let collection = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)" : "\(prefix)/\(type.plural)"
            let item = collection + "/{name}"
            let namespaceParameter = Self.pathParameter("namespace", "object name and auth scope, such as for teams and projects")
            let nameParameter = Self.pathParameter("name", "name of the \(type.kind)")
            let scopeParameters = type.namespaced ? [namespaceParameter] : []

            var collectionItem = JSONObject()
            collectionItem["get"] = operation(
                "list", action: "list", kind: type.kind, type: type, schema: list, namespaced: type.namespaced,
                gvk: gvk(type.kind), parameters: Self.listParameters)
            collectionItem["post"] = operation(
                "create", action: "post", kind: type.kind, type: type, schema: schema, namespaced: type.namespaced,
                parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation], body: Self.requestBody(schema),
                codes: ["200", "201", "202"])
            collectionItem["delete"] = operation(
                "deletecollection", action: "deletecollection", kind: type.kind, type: type, schema: schema,
                namespaced: type.namespaced, parameters: Self.deleteParameters + Self.listParameters,
                body: Self.requestBody(Self.metaPrefix + "DeleteOptions"), responseSchema: Self.metaPrefix + "Status")
            collectionItem["parameters"] = .array(scopeParameters + [Self.pretty])
            paths[collection] = .object(collectionItem)

            var itemObject = JSONObject()
            itemObject["get"] = operation("read", action: "get", kind: type.kind, type: type, schema: schema, namespaced: type.namespaced)
            itemObject["put"] = operation(
                "replace", action: "put", kind: type.kind, type: type, schema: schema, namespaced: type.namespaced,
                parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation], body: Self.requestBody(schema),
                codes: ["200", "201"])
            itemObject["patch"] = operation(
                "patch", action: "patch", kind: type.kind, type: type, schema: schema, namespaced: type.namespaced,
                parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation, Self.force], body: Self.patchBody,
                codes: ["200", "201"])
            itemObject["delete"] = operation(
                "delete", action: "delete", kind: type.kind, type: type, schema: schema, namespaced: type.namespaced,
                parameters: Self.deleteParameters, body: Self.requestBody(Self.metaPrefix + "DeleteOptions"),
                codes: ["200", "202"], responseSchema: Self.metaPrefix + "Status")
            itemObject["parameters"] = .array([nameParameter] + scopeParameters + [Self.pretty])
            paths[item] = .object(itemObject)

            if type.namespaced {
                var allNamespaces = JSONObject()
                allNamespaces["get"] = operation(
                    "list", action: "list", kind: type.kind + "ForAllNamespaces", type: type, schema: list, namespaced: false,
                    gvk: gvk(type.kind), parameters: Self.listParameters)
                allNamespaces["parameters"] = [Self.pretty]
                paths["\(prefix)/\(type.plural)"] = .object(allNamespaces)
            }

            for subresource in type.subresources.sorted() {
                var sub = JSONObject()
                let subParameters = JSONValue.array([nameParameter] + scopeParameters + [Self.pretty])
                switch subresource {
                case "status", "scale":
                    let subSchema = subresource == "scale" ? "io.k8s.api.autoscaling.v1.Scale" : schema
                    let subGVK = subresource == "scale" ? gvk("Scale", group: "autoscaling", version: "v1") : gvk(type.kind)
                    sub["get"] = operation(
                        "read", action: "get", kind: type.kind, type: type, schema: subSchema, namespaced: type.namespaced,
                        subresource: subresource, gvk: subGVK)
                    sub["put"] = operation(
                        "replace", action: "put", kind: type.kind, type: type, schema: subSchema, namespaced: type.namespaced,
                        subresource: subresource, gvk: subGVK, parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation],
                        body: Self.requestBody(subSchema), codes: ["200", "201"])
                    sub["patch"] = operation(
                        "patch", action: "patch", kind: type.kind, type: type, schema: subSchema, namespaced: type.namespaced,
                        subresource: subresource, gvk: subGVK,
                        parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation, Self.force], body: Self.patchBody,
                        codes: ["200", "201"])
                case "binding":
                    let binding = "io.k8s.api.core.v1.Binding"
                    sub["post"] = operation(
                        "create", action: "post", kind: type.kind, type: type, schema: binding, namespaced: type.namespaced,
                        subresource: subresource, gvk: gvk("Binding", group: "", version: "v1"),
                        parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation], body: Self.requestBody(binding),
                        codes: ["200", "201", "202"])
                default:
                    continue
                }
                sub["parameters"] = subParameters
                paths["\(item)/\(subresource)"] = .object(sub)
            }
        }
        return paths
    }
}

extension String {
    /// "rbac.authorization.k8s.io" -> "rbacAuthorization"; Kubernetes drops ".k8s.io" and
    /// joins the rest in camel case for operation names.
    fileprivate func replacingDots() -> String {
        var trimmed = self
        if trimmed.hasSuffix(".k8s.io") { trimmed.removeLast(".k8s.io".count) }
        let words = trimmed.split(separator: ".")
        return words.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }
            .joined()
    }
}
