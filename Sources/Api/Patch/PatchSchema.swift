/// PatchSchema is where a patch or apply walk stands in an object's schema: a message (its
/// fields carry merge keys and list types), a map with values of one type, or an opaque value
/// (embedded JSON, scalars, members the schema does not know) that is merged without metadata.
enum PatchSchema {
    case message(MessageSchema)
    case map(FieldType)
    case opaque

    /// The schema of a top-level object of `type`.
    static func of(_ type: ResourceType) -> PatchSchema {
        MessageSchema.named(type.schemaName).map(PatchSchema.message) ?? .opaque
    }

    /// The schema of a value of `type`.
    static func of(_ type: FieldType) -> PatchSchema {
        switch type {
        case .message(let name):
            guard let schema = MessageSchema.named(name), schema.form == .object else { return .opaque }
            return .message(schema)
        case .map(let value): return .map(value)
        default: return .opaque
        }
    }

    /// The field metadata (for message members) and the schema of the member `key`.
    func member(_ key: String) -> (field: FieldSchema?, schema: PatchSchema) {
        switch self {
        case .message(let schema):
            guard let field = schema.field(key) else { return (nil, .opaque) }
            return (field, .of(field.type))
        case .map(let value):
            return (nil, .of(value))
        case .opaque:
            return (nil, .opaque)
        }
    }

    /// The schema of the elements of the list member described by `field`.
    static func elements(of field: FieldSchema?) -> PatchSchema {
        guard let field, case .array(let element) = field.type else { return .opaque }
        return .of(element)
    }

    var isAtomicStruct: Bool {
        if case .message(let schema) = self { return schema.form != .object }
        return false
    }
}

extension ApiError {
    /// 400: the patch document itself is malformed.
    static func badPatch(_ message: String) -> ApiError { .badRequest(message) }

    /// 422: the patch is well formed but cannot be applied to this object.
    static func unprocessablePatch(_ message: String) -> ApiError {
        ApiError(code: 422, reason: "Invalid", message: message)
    }

    /// 415: a Content-Type the PATCH verb does not take.
    static func unsupportedPatchType(_ type: String) -> ApiError {
        ApiError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: "
                + PatchEngine.patchTypes.joined(separator: ", ") + " (got \"\(type)\")")
    }
}
