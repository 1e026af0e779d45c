@testable import Api

/// JSONSamples builds, from the generated schema table, a JSON document in which every member of
/// a message is set (lists and maps with one element, nested messages down to a depth bound),
/// with values of each special form. Decoding it and encoding again must give it back: that
/// checks every field of every kind against its JSON name and type, without hand-written
/// fixtures that would miss fields added later.
enum JSONSamples {
    static func document(for schemaName: String, depth: Int = 0, variant: Int = 0) -> JSONValue {
        guard let schema = MessageSchema.named(schemaName) else {
            preconditionFailure("no schema \(schemaName)")
        }
        switch schema.form {
        case .time: return "2026-11-24T21:00:00Z"
        case .microTime: return "2026-11-24T21:00:00.123456Z"
        case .quantity: return variant % 2 == 0 ? "500m" : "1Gi"
        case .intOrString: return variant % 2 == 0 ? 8080 : "http"
        case .rawExtension: return ["kind": "Sample", "n": 1]
        case .fieldsV1: return ["f:metadata": ["f:labels": ["f:app": [:]]]]
        case .stringArray: return ["get", "list"]
        case .object: break
        }
        var object = JSONObject()
        for (index, field) in schema.fields.enumerated() {
            if let value = sample(field.type, name: field.name, depth: depth, variant: variant + index) {
                object[field.name] = value
            }
        }
        return .object(object)
    }

    static let maximumDepth = 12

    static func sample(_ type: FieldType, name: String, depth: Int, variant: Int) -> JSONValue? {
        switch type {
        case .string: return .string("\(name)-value")
        case .boolean: return true
        case .int32, .uint32: return 7
        // Beyond a double's 53 bits: the value must survive as text.
        case .int64, .uint64: return .number("9007199254740993")
        case .double, .float: return .number("0.5")
        case .bytes: return "aGVsbG8="
        case .message(let name):
            guard depth < maximumDepth else { return nil }
            return document(for: name, depth: depth + 1, variant: variant)
        case .array(let element):
            return sample(element, name: name, depth: depth, variant: variant).map { .array([$0]) }
        case .map(let value):
            return sample(value, name: name, depth: depth, variant: variant).map { ["key": $0] }
        }
    }
}
