import Yams

/// YAMLDocument reads a YAML document into JSONValue the way Kubernetes' sigs.k8s.io/yaml does
/// (YAML to JSON, then JSON decoding): plain scalars take their YAML 1.1 type (`3` a number,
/// `true` a boolean, `~` null), quoted scalars stay strings, timestamps stay their text, and
/// mapping keys become strings. Server-side apply bodies arrive as YAML or JSON; JSON goes
/// through the exact JSON parser (numbers keep their text).
public enum YAMLDocument {
    public static func parse(_ bytes: [UInt8]) throws(JSONDecodingError) -> JSONValue {
        if let first = bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        {
            do {
                return try JSONValue(parsing: bytes)
            } catch {
                throw JSONDecodingError(path: "", reason: "\(error)")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw JSONDecodingError(path: "", reason: "the YAML document is not valid UTF-8")
        }
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw JSONDecodingError(path: "", reason: "invalid YAML: \(error)")
        }
        guard let root else { return .null }
        return try json(root, at: .root, depth: 0)
    }

    static func json(_ node: Yams.Node, at path: JSONPath, depth: Int) throws(JSONDecodingError) -> JSONValue {
        guard depth <= JSONValue.maximumDepth else {
            throw JSONDecodingError(path, "nested deeper than \(JSONValue.maximumDepth) levels")
        }
        switch node {
        case .scalar(let scalar):
            // Tag.name is internal to Yams; its description is the resolved tag's name.
            switch Tag.Name(rawValue: node.tag.description) {
            case .null:
                return .null
            case .bool:
                guard let value = node.bool else { return .string(scalar.string) }
                return .bool(value)
            case .int:
                guard let value = node.int else {
                    throw JSONDecodingError(path, "\(scalar.string) is an integer out of range")
                }
                return .int(value)
            case .float:
                if let number = try? JSONValue(parsing: scalar.string), case .number = number { return number }
                guard let value = node.float, value.isFinite else {
                    throw JSONDecodingError(path, "\(scalar.string) has no JSON form; write a finite number")
                }
                return .double(value)
            default:
                return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object = JSONObject()
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw JSONDecodingError(path, "a mapping key must be a scalar")
                }
                let key = keyScalar.string
                guard object[key] == nil else {
                    throw JSONDecodingError(path, "duplicate member \"\(key)\"")
                }
                object[key] = try json(valueNode, at: path.appending(key), depth: depth + 1)
            }
            return .object(object)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                elements.append(try json(element, at: path.appending(index: index), depth: depth + 1))
            }
            return .array(elements)
        }
    }
}
