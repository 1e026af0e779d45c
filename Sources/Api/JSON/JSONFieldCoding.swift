import Foundation

/// The field-level helpers generated codecs call. Each decoder takes the path of the enclosing
/// object and the member's key separately, so a scalar field costs no path allocation unless it
/// is wrong. Every decoder takes null as unset: nil for optionals, empty for lists and maps.
enum JSONField {
    // MARK: Scalars

    static func scalar<Value: JSONScalar>(
        _ value: JSONValue, at path: JSONPath, _ key: String
    ) throws(JSONDecodingError) -> Value? {
        if case .null = value { return nil }
        guard let decoded = Value(jsonScalar: value) else {
            throw JSONDecodingError(path.appending(key), Value.mismatch(value))
        }
        return decoded
    }

    static func scalars<Value: JSONScalar>(
        _ value: JSONValue, at path: JSONPath, _ key: String
    ) throws(JSONDecodingError) -> [Value] {
        let elements = try array(value, at: path, key)
        var result: [Value] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard let decoded = Value(jsonScalar: element) else {
                throw JSONDecodingError(
                    path.appending(key).appending(index: index),
                    Value.mismatch(element))
            }
            result.append(decoded)
        }
        return result
    }

    static func scalarMap<Value: JSONScalar>(
        _ value: JSONValue, at path: JSONPath, _ key: String
    ) throws(JSONDecodingError) -> [String: Value] {
        let members = try object(value, at: path, key)
        var result: [String: Value] = [:]
        result.reserveCapacity(members.count)
        for (entryKey, entry) in members {
            // A null map value means the empty value in Go's decoder; kubectl never sends it.
            if case .null = entry { continue }
            guard let decoded = Value(jsonScalar: entry) else {
                throw JSONDecodingError(
                    path.appending(key).appending(mapKey: entryKey),
                    Value.mismatch(entry))
            }
            result[entryKey] = decoded
        }
        return result
    }

    // MARK: Bytes (base64)

    static func bytes(_ value: JSONValue, at path: JSONPath, _ key: String) throws(JSONDecodingError) -> [UInt8]? {
        if case .null = value { return nil }
        return try decodeBase64(value, at: path.appending(key))
    }

    static func bytesList(_ value: JSONValue, at path: JSONPath, _ key: String) throws(JSONDecodingError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for (index, element) in try array(value, at: path, key).enumerated() {
            result.append(try decodeBase64(element, at: path.appending(key).appending(index: index)))
        }
        return result
    }

    static func bytesMap(_ value: JSONValue, at path: JSONPath, _ key: String) throws(JSONDecodingError) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for (entryKey, entry) in try object(value, at: path, key) {
            if case .null = entry { continue }
            result[entryKey] = try decodeBase64(entry, at: path.appending(key).appending(mapKey: entryKey))
        }
        return result
    }

    static func decodeBase64(_ value: JSONValue, at path: JSONPath) throws(JSONDecodingError) -> [UInt8] {
        guard case .string(let text) = value else {
            throw JSONDecodingError(path, "expected base64 text, got \(value.shortDescription)")
        }
        guard let data = Data(base64Encoded: text) else {
            throw JSONDecodingError(path, "illegal base64 data; expected standard base64 with padding, such as \"aGVsbG8=\"")
        }
        return [UInt8](data)
    }

    static func base64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }

    // MARK: Messages

    static func message<Value: JSONMessage>(
        _ value: JSONValue, at path: JSONPath, _ key: String, context: inout JSONDecodingContext
    ) throws(JSONDecodingError) -> Value? {
        if case .null = value { return nil }
        return try Value(json: value, at: path.appending(key), context: &context)
    }

    static func messages<Value: JSONMessage>(
        _ value: JSONValue, at path: JSONPath, _ key: String, context: inout JSONDecodingContext
    ) throws(JSONDecodingError) -> [Value] {
        let elements = try array(value, at: path, key)
        guard !elements.isEmpty else { return [] }
        let listPath = path.appending(key)
        var result: [Value] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try Value(json: element, at: listPath.appending(index: index), context: &context))
        }
        return result
    }

    static func messageMap<Value: JSONMessage>(
        _ value: JSONValue, at path: JSONPath, _ key: String, context: inout JSONDecodingContext
    ) throws(JSONDecodingError) -> [String: Value] {
        let members = try object(value, at: path, key)
        guard !members.isEmpty else { return [:] }
        let mapPath = path.appending(key)
        var result: [String: Value] = [:]
        result.reserveCapacity(members.count)
        for (entryKey, entry) in members {
            if case .null = entry { continue }
            result[entryKey] = try Value(json: entry, at: mapPath.appending(mapKey: entryKey), context: &context)
        }
        return result
    }

    // MARK: Containers

    static func array(_ value: JSONValue, at path: JSONPath, _ key: String) throws(JSONDecodingError) -> [JSONValue] {
        switch value {
        case .null: return []
        case .array(let elements): return elements
        default: throw JSONDecodingError(path.appending(key), "expected an array, got \(value.shortDescription)")
        }
    }

    static func object(_ value: JSONValue, at path: JSONPath, _ key: String) throws(JSONDecodingError) -> JSONObject {
        switch value {
        case .null: return JSONObject()
        case .object(let members): return members
        default: throw JSONDecodingError(path.appending(key), "expected an object, got \(value.shortDescription)")
        }
    }

    // MARK: Encoding

    /// A map as a JSON object with sorted keys, as Go writes maps: the same object always
    /// encodes to the same bytes (OpenAPI hashes, resourceVersion-free comparisons, tests).
    static func map<Value>(_ map: [String: Value], _ encode: (Value) -> JSONValue) -> JSONValue {
        var object = JSONObject()
        for key in map.keys.sorted() { object[key] = encode(map[key]!) }
        return .object(object)
    }
}

/// JSONScalar is a Swift type a protobuf scalar field maps to, with its JSON form.
protocol JSONScalar {
    init?(jsonScalar value: JSONValue)
    var jsonScalar: JSONValue { get }
    /// What an error says was expected: "an integer", "a string".
    static var jsonExpectation: String { get }
    /// The error message for a value that is not of this type.
    static func mismatch(_ value: JSONValue) -> String
}

extension JSONScalar {
    static func mismatch(_ value: JSONValue) -> String {
        "expected \(jsonExpectation), got \(value.shortDescription)"
    }
}

extension String: JSONScalar {
    init?(jsonScalar value: JSONValue) {
        guard case .string(let text) = value else { return nil }
        self = text
    }
    var jsonScalar: JSONValue { .string(self) }
    static var jsonExpectation: String { "a string" }
}

extension Bool: JSONScalar {
    init?(jsonScalar value: JSONValue) {
        guard case .bool(let flag) = value else { return nil }
        self = flag
    }
    var jsonScalar: JSONValue { .bool(self) }
    static var jsonExpectation: String { "a boolean" }
}

/// Integers accept only integer literals ("3", "-1"): "1.5" or "1e3" into an int32 field is an
/// error in Kubernetes too.
protocol JSONInteger: JSONScalar, FixedWidthInteger {}

extension JSONInteger {
    init?(jsonScalar value: JSONValue) {
        guard case .number(let text) = value, let number = Self(text, radix: 10) else { return nil }
        self = number
    }
    var jsonScalar: JSONValue { .number(String(self)) }
    static var jsonExpectation: String { "an integer" }
    /// An integer literal out of range says the range.
    static func mismatch(_ value: JSONValue) -> String {
        if case .number(let text) = value, !text.contains(where: { ".eE".contains($0) }) {
            return "expected an integer from \(Self.min) to \(Self.max), got \(value.shortDescription)"
        }
        return "expected an integer, got \(value.shortDescription)"
    }
}

extension Int32: JSONInteger {}
extension Int64: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt64: JSONInteger {}

extension Double: JSONScalar {
    init?(jsonScalar value: JSONValue) {
        guard case .number(let text) = value, let number = Double(text) else { return nil }
        self = number
    }
    /// JSON has no NaN or infinity; Go's encoder fails on them, Skiff writes null.
    var jsonScalar: JSONValue { isFinite ? .double(self) : .null }
    static var jsonExpectation: String { "a number" }
}

extension Float: JSONScalar {
    init?(jsonScalar value: JSONValue) {
        guard case .number(let text) = value, let number = Float(text) else { return nil }
        self = number
    }
    var jsonScalar: JSONValue {
        guard isFinite else { return .null }
        return self == rounded() && abs(self) < 1e7 ? .number(String(Int64(self))) : .number(String(self))
    }
    static var jsonExpectation: String { "a number" }
}
