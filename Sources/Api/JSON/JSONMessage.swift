/// JSON codecs for the generated API types, as Kubernetes writes and reads them.
///
/// The public names, for the HTTPS gateway and the patch engines:
///
/// * `JSONMessage`: `init(json:at:context:)` decodes a value at a path, collecting unknown fields
///   in the context; `jsonValue()` encodes. Every message of proto/api conforms: the generated
///   ones (`<file>.json.pb.swift`, via `JSONObjectMessage`) and the types with a special JSON
///   form (Time, MicroTime, Quantity, IntOrString, RawExtension, FieldsV1, Verbs; see
///   JSONSpecialTypes.swift).
/// * `JSONMessage.decode(json:)` decodes a document from the root and returns the unknown
///   fields; `JSONMessage.jsonValue(apiVersion:kind:)` puts the type fields first.
/// * `JSONPath` names a place in a document the way Kubernetes' field errors do:
///   `spec.containers[0].ports[0].containerPort`, map entries as `metadata.labels[app]`.
/// * `JSONDecodingError` is a value of the wrong type or form, with its path.
/// * `JSONDecodingContext` collects unknown fields (full paths); `FieldValidation` turns them
///   into Kubernetes' strict decoding error or warnings, as the request's fieldValidation asks.
///
/// The rules are Kubernetes': unset optionals and empty lists and maps are left out (omitempty),
/// int64 is a JSON number, bytes are base64, maps are objects with sorted keys, fields whose
/// proto comment starts with "Inline in JSON" are flattened into the enclosing object. Decoding
/// takes null as unset and accepts what kubectl sends (YAML converted to JSON: numbers for
/// integer fields, a number or a string for IntOrString and Quantity).
public protocol JSONMessage: Sendable {
    /// Decodes `json`, found at `path`; unknown members are recorded in `context`, not thrown.
    init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError)
    /// The Kubernetes JSON form.
    func jsonValue() -> JSONValue
}

/// JSONObjectMessage is a message whose JSON form is an object of its fields. Generated code
/// implements the two member-wise requirements; the object-level ones come from the extension.
/// Member-wise decoding is what lets an "Inline in JSON" field take the members of its parent.
public protocol JSONObjectMessage: JSONMessage {
    init()
    /// Appends the members of the set fields, in declaration order.
    func appendJSONMembers(to object: inout JSONObject)
    /// Decodes the member `key` into its field; false when no field (or inline field) has that
    /// name. `path` is the path of the object that holds the member.
    mutating func decodeJSONMember(
        _ key: String, _ value: JSONValue, at path: JSONPath, context: inout JSONDecodingContext
    ) throws(JSONDecodingError) -> Bool
}

extension JSONObjectMessage {
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        self.init()
        switch json {
        case .null:
            return
        case .object(let object):
            for (key, value) in object where try !decodeJSONMember(key, value, at: path, context: &context) {
                context.recordUnknownField(path.appending(key))
            }
        default:
            throw JSONDecodingError(path, "expected an object, got \(json.shortDescription)")
        }
    }

    public func jsonValue() -> JSONValue {
        var object = JSONObject()
        appendJSONMembers(to: &object)
        return .object(object)
    }
}

extension JSONMessage {
    /// Decodes a whole document; returns the value and the paths of unknown fields.
    public static func decode(json: JSONValue) throws(JSONDecodingError) -> (value: Self, unknownFields: [String]) {
        var context = JSONDecodingContext()
        let value = try Self(json: json, at: .root, context: &context)
        return (value, context.unknownFields)
    }

    /// The JSON form with `kind` and `apiVersion` first, as Kubernetes writes objects that
    /// carry their type (top-level kinds, lists, Status, options).
    public func jsonValue(apiVersion: String, kind: String) -> JSONValue {
        var object = JSONObject()
        object["kind"] = .string(kind)
        object["apiVersion"] = .string(apiVersion)
        if case .object(let fields) = jsonValue() {
            for (key, value) in fields { object[key] = value }
        }
        return .object(object)
    }
}

// MARK: Paths, errors, context

/// JSONPath is a place in a JSON document, built from the root down. Appending shares the parent
/// (a linked list), so handing a path to each nested value costs one small allocation and the
/// text is only built when an error or an unknown field needs it.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
        case mapKey(String)
    }

    final class Node: Sendable {
        let parent: Node?
        let component: Component
        init(parent: Node?, component: Component) {
            self.parent = parent
            self.component = component
        }
    }

    let node: Node?

    public static let root = JSONPath(node: nil)

    /// The member `key` of the object at this path.
    public func appending(_ key: String) -> JSONPath { JSONPath(node: Node(parent: node, component: .key(key))) }

    /// The element `index` of the array at this path.
    public func appending(index: Int) -> JSONPath { JSONPath(node: Node(parent: node, component: .index(index))) }

    /// The entry `key` of the map (a JSON object of arbitrary keys) at this path.
    public func appending(mapKey: String) -> JSONPath { JSONPath(node: Node(parent: node, component: .mapKey(mapKey))) }

    public var isRoot: Bool { node == nil }

    /// "spec.containers[0].ports[0].containerPort"; "" for the root.
    public var description: String {
        var components: [Component] = []
        var current = node
        while let step = current {
            components.append(step.component)
            current = step.parent
        }
        var text = ""
        for component in components.reversed() {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            case .mapKey(let key): text += "[\(key)]"
            }
        }
        return text
    }

    public static func == (left: JSONPath, right: JSONPath) -> Bool { left.description == right.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// JSONDecodingError is a value of the wrong type or form: `path: reason`, as in
/// `spec.containers[0].ports[0].containerPort: expected an integer, got "abc"`.
public struct JSONDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path of the value; "" for the document itself.
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(_ path: JSONPath, _ reason: String) {
        self.init(path: path.description, reason: reason)
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// JSONDecodingContext collects what decoding does not fail on but the caller may: members no
/// field has. The caller decides by the request's fieldValidation (see `FieldValidation`).
public struct JSONDecodingContext: Sendable {
    /// At most this many unknown fields are kept (a hostile document cannot grow the list);
    /// `unknownFieldCount` still counts them all.
    public static let maximumUnknownFields = 100

    /// Full paths of unknown members, in document order: `spec.containers[0].imagePullPolice`.
    public private(set) var unknownFields: [String] = []
    public private(set) var unknownFieldCount = 0

    public init() {}

    public mutating func recordUnknownField(_ path: JSONPath) {
        unknownFieldCount += 1
        if unknownFields.count < Self.maximumUnknownFields { unknownFields.append(path.description) }
    }
}

/// FieldValidation is the request's `fieldValidation` parameter: what unknown fields cause.
/// kubectl sends Strict by default (since 1.27).
public enum FieldValidation: String, Sendable, Hashable, CaseIterable {
    case strict = "Strict"
    case warn = "Warn"
    case ignore = "Ignore"

    /// Parses the query parameter; nil for an unknown value. The API server's default, when
    /// the parameter is absent, is Warn.
    public init?(parameter: String) {
        self.init(rawValue: parameter)
    }

    /// Applies the policy: Strict throws 400 BadRequest `strict decoding error: unknown field
    /// "spec.foo", unknown field "spec.bar"`; Warn returns the warnings (`unknown field
    /// "spec.foo"`, one per Warning header); Ignore returns nothing.
    public func check(unknownFields: [String]) throws(ApiError) -> [String] {
        guard !unknownFields.isEmpty else { return [] }
        let messages = unknownFields.map { "unknown field \"\($0)\"" }
        switch self {
        case .strict: throw ApiError.badRequest("strict decoding error: " + messages.joined(separator: ", "))
        case .warn: return messages
        case .ignore: return []
        }
    }
}

extension JSONValue {
    /// How an error message shows a value: strings and numbers as written (long strings cut),
    /// containers by type.
    var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text.count > 40 ? String(text.prefix(40)) + "…" : text
        case .string(let text):
            let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
            return JSONValue.string(shown).compactText
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
