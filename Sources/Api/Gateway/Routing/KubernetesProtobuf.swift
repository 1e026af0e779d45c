import Foundation
import Wire

/// KubernetesProtobuf reads request bodies in Kubernetes' protobuf encoding
/// (`application/vnd.kubernetes.protobuf`), which kubectl's typed clients send for built-in
/// kinds (`kubectl create configmap …`, `kubectl auth can-i`): the 4 bytes `k8s\0`, then a
/// runtime.Unknown with the kind, apiVersion and the object's protobuf. Skiff's proto/api types
/// use Kubernetes' field numbers, so the object decodes with the kind's own decoder. Answers
/// stay JSON (kubectl accepts both).
enum KubernetesProtobuf {
    static let mediaType = "application/vnd.kubernetes.protobuf"
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The kind, apiVersion and raw protobuf of an enveloped body.
    static func unwrap(_ body: [UInt8]) throws(ApiError) -> (apiVersion: String, kind: String, raw: [UInt8]) {
        guard body.count >= magic.count, Array(body.prefix(magic.count)) == magic else {
            throw .badRequest("the protobuf body does not start with Kubernetes' k8s\\0 prefix")
        }
        let unknown: Unknown
        do {
            unknown = try Unknown(protobuf: Array(body.dropFirst(magic.count)))
        } catch {
            throw .badRequest("the protobuf body is not a runtime.Unknown: \(error)")
        }
        if let encoding = unknown.contentEncoding, !encoding.isEmpty {
            throw ApiError(code: 415, reason: "UnsupportedMediaType", message: "protobuf bodies with content encoding \(encoding) are not supported")
        }
        return (unknown.typeMeta?.apiVersion ?? "", unknown.typeMeta?.kind ?? "", unknown.raw ?? [])
    }

    /// Decodes `body` as a `kind` of `apiVersion` with `decode`.
    static func decode<Value>(
        _ body: [UInt8], apiVersion: String, kind: String, _ decode: ([UInt8]) throws -> Value
    ) throws(ApiError) -> Value {
        let envelope = try unwrap(body)
        if !envelope.kind.isEmpty && envelope.kind != kind {
            throw .badRequest("the body is a \(envelope.kind), expected a \(kind)")
        }
        if !envelope.apiVersion.isEmpty && envelope.apiVersion != apiVersion {
            throw .badRequest("the body's apiVersion \(envelope.apiVersion) is not \(apiVersion) (\(kind))")
        }
        do {
            return try decode(envelope.raw)
        } catch {
            throw .badRequest("\(kind) in version \"\(apiVersion)\" cannot be handled as a \(kind): \(error)")
        }
    }
}

extension KubernetesProtobuf {
    /// An object decoded from Go's protobuf, with empty strings taken as unset. Go writes every
    /// non-pointer string field, even empty ones, while its JSON leaves them out (omitempty); so
    /// `spec.type: ""` from kubectl's protobuf means what an absent `type` means in JSON, and
    /// the object is normalized through its JSON form to read that way.
    static func normalized(_ object: any KubernetesObject, type: ResourceType) throws(ApiError) -> any KubernetesObject {
        let pruned = pruneEmptyStrings(type.encodeJSON(object), schema: MessageSchema.named(type.schemaName))
        do {
            return try type.decodeJSON(pruned).object
        } catch {
            throw error.apiError(for: type)
        }
    }

    /// Drops members that are string fields holding "" and zero times (by the message's schema:
    /// map entries and list items keep their empty strings, which are data).
    static func pruneEmptyStrings(_ value: JSONValue, schema: MessageSchema?) -> JSONValue {
        guard let schema, case .object(let object) = value, schema.form == .object else { return value }
        var result = JSONObject()
        for (key, member) in object {
            guard let field = schema.field(key) else {
                result[key] = member
                continue
            }
            if field.type == .string, case .string(let text) = member, text.isEmpty { continue }
            // Go sends a zero metav1.Time as an empty message: unset, not the epoch.
            if case .message(let name) = field.type, MessageSchema.named(name)?.form == .time,
                member == .string("1970-01-01T00:00:00Z")
            {
                continue
            }
            result[key] = prune(member, as: field.type)
        }
        return .object(result)
    }

    private static func prune(_ value: JSONValue, as type: FieldType) -> JSONValue {
        switch (type, value) {
        case (.message(let name), _):
            return pruneEmptyStrings(value, schema: MessageSchema.named(name))
        case (.array(let element), .array(let items)):
            return .array(items.map { prune($0, as: element) })
        case (.map(.message(let name)), .object(let entries)):
            var result = JSONObject()
            for (key, entry) in entries { result[key] = pruneEmptyStrings(entry, schema: MessageSchema.named(name)) }
            return .object(result)
        default:
            return value
        }
    }
}

/// ProtobufFields is a protobuf message read field by field, for the few request types Skiff
/// has no generated message for (SelfSubjectAccessReview).
struct ProtobufFields {
    private(set) var fields: [(number: Int, varint: UInt64?, bytes: [UInt8]?)] = []

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    init(_ bytes: [UInt8]) throws(Malformed) {
        var index = 0
        func varint() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.count, shift < 64 else { throw Malformed(description: "truncated varint at byte \(index)") }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while index < bytes.count {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0:
                fields.append((number, try varint(), nil))
            case 1, 5:
                let size = key & 7 == 1 ? 8 : 4
                guard index + size <= bytes.count else { throw Malformed(description: "truncated fixed field \(number)") }
                index += size
            case 2:
                let length = Int(try varint())
                guard length >= 0, index + length <= bytes.count else { throw Malformed(description: "truncated field \(number)") }
                fields.append((number, nil, Array(bytes[index..<index + length])))
                index += length
            default:
                throw Malformed(description: "unsupported wire type \(key & 7) of field \(number)")
            }
        }
    }

    /// The last length-delimited value of field `number` (proto2: the last one wins).
    func bytes(_ number: Int) -> [UInt8]? {
        fields.last { $0.number == number && $0.bytes != nil }?.bytes
    }

    func string(_ number: Int) -> String? {
        bytes(number).map { String(decoding: $0, as: UTF8.self) }
    }

    func message(_ number: Int) throws(Malformed) -> ProtobufFields? {
        guard let bytes = bytes(number) else { return nil }
        return try ProtobufFields(bytes)
    }
}
