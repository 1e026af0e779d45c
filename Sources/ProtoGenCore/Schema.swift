/// The parsed form of a .proto file, before type names are resolved.

public enum Syntax: String, Sendable, Hashable {
    case proto2
    case proto3
}

/// ScalarType is a protobuf scalar value type.
public enum ScalarType: String, Sendable, Hashable, CaseIterable {
    case double, float, int32, int64, uint32, uint64, sint32, sint64
    case fixed32, fixed64, sfixed32, sfixed64, bool, string, bytes

    /// isValidMapKey follows the protobuf rule: any integral or string type, never float or bytes.
    var isValidMapKey: Bool {
        switch self {
        case .double, .float, .bytes: false
        default: true
        }
    }
}

/// FieldLabel is the cardinality written (or implied) for a field.
public enum FieldLabel: String, Sendable, Hashable {
    /// proto3 singular field (no label).
    case singular
    /// proto2 `optional`.
    case optional
    /// proto2 `required`.
    case required
    case repeated
}

/// TypeReference is a field type as written: a scalar, a name still to resolve, or a map.
public indirect enum TypeReference: Sendable, Hashable {
    case scalar(ScalarType)
    case named(String)
    case map(key: ScalarType, value: TypeReference)
}

public struct FieldDeclaration: Sendable, Hashable {
    public var name: String
    public var number: Int
    public var label: FieldLabel
    public var type: TypeReference
    /// True when the field has a `default = ...` option (proto2 only).
    public var hasDefault: Bool
    public var comment: [String]
    /// Where the field name is.
    public var location: SourceLocation
    /// Where the type is, for errors about the type.
    public var typeLocation: SourceLocation
}

public struct EnumValueDeclaration: Sendable, Hashable {
    public var name: String
    public var number: Int32
    public var comment: [String]
    public var location: SourceLocation
}

public struct EnumDeclaration: Sendable, Hashable {
    public var name: String
    public var values: [EnumValueDeclaration]
    public var comment: [String]
    public var location: SourceLocation
}

public struct MessageDeclaration: Sendable, Hashable {
    public var name: String
    public var fields: [FieldDeclaration]
    public var messages: [MessageDeclaration]
    public var enums: [EnumDeclaration]
    public var comment: [String]
    public var location: SourceLocation
}

public struct ImportDeclaration: Sendable, Hashable {
    /// The path as written, relative to the proto root (e.g. `wire/wire.proto`).
    public var path: String
    /// `import public`: the imported file's names are visible to files importing this one.
    public var isPublic: Bool
    public var location: SourceLocation
}

/// ProtoFile is one parsed .proto file.
public struct ProtoFile: Sendable, Hashable {
    /// Path relative to the proto root, with `/` separators (e.g. `wire/wire.proto`).
    public var path: String
    public var syntax: Syntax
    /// The package, e.g. `skiff.wire`; empty when the file has no package statement.
    public var package: String
    public var imports: [ImportDeclaration]
    public var messages: [MessageDeclaration]
    public var enums: [EnumDeclaration]
}
