/// What proto/api comments say about a field's JSON and patch behaviour, in Kubernetes' own
/// marker syntax (k8s.io/api's `// +patchMergeKey=name` Go comments), so each fact is written
/// once, beside the field, and feeds both the OpenAPI schemas and the strategic merge patch:
///
///     // The main containers; at least one.
///     // +patchMergeKey=name
///     // +patchStrategy=merge
///     // +listType=map
///     // +listMapKey=name
///     // +required
///     repeated Container containers = 2;
///
/// Markers: `+patchMergeKey=<json name>`, `+patchStrategy=merge|retainKeys|merge,retainKeys`,
/// `+listType=atomic|set|map`, `+listMapKey=<json name>` (repeatable, in order),
/// `+mapType=atomic|granular`, `+structType=atomic|granular`, `+required`.
/// A comment whose first line starts with "Inline in JSON" marks an embedded struct whose
/// members appear directly in the enclosing JSON object.
struct FieldAnnotations: Hashable {
    var isInline = false
    var isRequired = false
    var patchMergeKey: String?
    var patchStrategy: String?
    var listType: String?
    var listMapKeys: [String] = []
    var mapType: String?
    var structType: String?
    /// The comment without marker lines, for descriptions.
    var description: [String] = []

    init(field: FieldDeclaration) throws(ProtoGenError) {
        isInline = field.comment.first?.hasPrefix("Inline in JSON") == true
        for line in field.comment {
            let text = line.trimmingSpaces()
            guard text.hasPrefix("+") else {
                description.append(line)
                continue
            }
            let marker = text.dropFirst()
            let name = String(marker.prefix { $0 != "=" })
            let value = marker.contains("=") ? String(marker.drop { $0 != "=" }.dropFirst()) : ""
            func expect(_ allowed: [String]) throws(ProtoGenError) -> String {
                guard allowed.contains(value) else {
                    throw ProtoGenError(
                        "marker +\(name)=\(value) on field '\(field.name)'; expected one of \(allowed.joined(separator: ", "))",
                        at: field.location)
                }
                return value
            }
            switch name {
            case "patchMergeKey" where !value.isEmpty: patchMergeKey = value
            case "patchStrategy": patchStrategy = try expect(["merge", "retainKeys", "merge,retainKeys"])
            case "listType": listType = try expect(["atomic", "set", "map"])
            case "listMapKey" where !value.isEmpty: listMapKeys.append(value)
            case "mapType": mapType = try expect(["atomic", "granular"])
            case "structType": structType = try expect(["atomic", "granular"])
            case "required" where value.isEmpty, "optional" where value.isEmpty:
                isRequired = name == "required"
            default:
                throw ProtoGenError(
                    "unknown marker '\(text)' on field '\(field.name)'; expected +patchMergeKey=, +patchStrategy=, +listType=, +listMapKey=, +mapType=, +structType= or +required",
                    at: field.location)
            }
        }
        if listType == "map" && listMapKeys.isEmpty {
            throw ProtoGenError("field '\(field.name)' has +listType=map without +listMapKey; expected the keys that identify an element", at: field.location)
        }
        if patchStrategy?.contains("merge") == true && field.label == .repeated && patchMergeKey == nil {
            if case .named = field.type {
                throw ProtoGenError("field '\(field.name)' is a list of objects with +patchStrategy=merge but no +patchMergeKey; expected the key that identifies an element", at: field.location)
            }
        }
    }
}

/// KubernetesNames maps Skiff's proto packages to the names Kubernetes gives the same types in
/// its OpenAPI documents (`skiff.api.core.v1.Pod` -> `io.k8s.api.core.v1.Pod`).
enum KubernetesNames {
    static let packagePrefixes: [(skiff: String, kubernetes: String)] = [
        ("skiff.api.meta.v1.", "io.k8s.apimachinery.pkg.apis.meta.v1."),
        ("skiff.api.intstr.", "io.k8s.apimachinery.pkg.util.intstr."),
        ("skiff.api.resource.", "io.k8s.apimachinery.pkg.api.resource."),
        ("skiff.api.runtime.", "io.k8s.apimachinery.pkg.runtime."),
        ("skiff.api.server.", "io.skiff.api.server."),
        ("skiff.api.", "io.k8s.api."),
    ]

    static func definitionName(_ fullName: String) -> String {
        for (skiff, kubernetes) in packagePrefixes where fullName.hasPrefix(skiff) {
            return kubernetes + fullName.dropFirst(skiff.count)
        }
        return fullName
    }

    /// Messages whose JSON is not an object of their fields; their codecs are written by hand
    /// (Sources/Api/JSON/JSONSpecialTypes.swift) and the schema says which form they take.
    static let specialForms: [String: String] = [
        "skiff.api.meta.v1.Time": "time",
        "skiff.api.meta.v1.MicroTime": "microTime",
        "skiff.api.meta.v1.FieldsV1": "fieldsV1",
        "skiff.api.meta.v1.Verbs": "stringArray",
        "skiff.api.resource.Quantity": "quantity",
        "skiff.api.intstr.IntOrString": "intOrString",
        "skiff.api.runtime.RawExtension": "rawExtension",
    ]

    /// Whether the JSON of a message may carry `apiVersion` and `kind` (Go structs that embed
    /// TypeMeta): objects and lists (a `metadata` field of ObjectMeta or ListMeta), option
    /// messages and the discovery documents. Decoding accepts the two members there.
    static func carriesTypeMeta(messageName: String, fields: [ResolvedField]) -> Bool {
        let hasMetadata = fields.contains { field in
            guard field.declaration.name == "metadata", case .singular(.message(let symbol)) = field.shape else { return false }
            return symbol.fullName == "skiff.api.meta.v1.ObjectMeta" || symbol.fullName == "skiff.api.meta.v1.ListMeta"
        }
        return hasMetadata || messageName.hasSuffix("Options")
            || ["APIResourceList", "APIGroupList", "APIGroup", "APIVersions"].contains(messageName)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
