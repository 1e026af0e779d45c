/// JSONPatch is RFC 6902: an array of operations (add, remove, replace, move, copy, test) on
/// JSON pointers (RFC 6901, `~0` for `~` and `~1` for `/`), applied in order; the first that
/// fails fails the patch with its index, operation and path.
public enum JSONPatch {
    /// Kubernetes refuses patches with more operations than this.
    public static let maximumOperations = 10_000

    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(ApiError) -> JSONValue {
        guard case .array(let operations) = patch else {
            throw ApiError.badPatch("a JSON patch is an array of operations, got \(patch.shortDescription)")
        }
        guard operations.count <= maximumOperations else {
            throw ApiError.badPatch("the JSON patch has \(operations.count) operations; at most \(maximumOperations) are allowed")
        }
        var result = document
        for (index, operation) in operations.enumerated() {
            try apply(operation, index: index, to: &result)
        }
        return result
    }

    static func apply(_ operation: JSONValue, index: Int, to document: inout JSONValue) throws(ApiError) {
        guard case .object(let members) = operation else {
            throw ApiError.badPatch("JSON patch operation \(index) is not an object")
        }
        guard let op = members["op"]?.stringValue else {
            throw ApiError.badPatch("JSON patch operation \(index) has no \"op\"")
        }
        guard let pathText = members["path"]?.stringValue else {
            throw ApiError.badPatch("JSON patch operation \(index) (\(op)) has no \"path\"")
        }
        func fail(_ problem: String) -> ApiError {
            .unprocessablePatch("JSON patch operation \(index) (\(op) \"\(pathText)\"): \(problem)")
        }
        func malformed(_ problem: String) -> ApiError {
            .badPatch("JSON patch operation \(index) (\(op) \"\(pathText)\"): \(problem)")
        }
        let path = try pointer(pathText, malformed: malformed)
        func value() throws(ApiError) -> JSONValue {
            guard let value = members["value"] else { throw malformed("missing \"value\"") }
            return value
        }
        func from() throws(ApiError) -> [String] {
            guard let text = members["from"]?.stringValue else { throw malformed("missing \"from\"") }
            return try pointer(text, malformed: malformed)
        }
        switch op {
        case "add":
            try add(try value(), at: path, in: &document, fail: fail)
        case "remove":
            _ = try remove(at: path, in: &document, fail: fail)
        case "replace":
            _ = try remove(at: path, in: &document, fail: fail)
            try add(try value(), at: path, in: &document, fail: fail)
        case "move":
            let source = try from()
            if path.count > source.count, Array(path.prefix(source.count)) == source {
                throw fail("cannot move a value into one of its own members")
            }
            let moved = try remove(at: source, in: &document, fail: fail)
            try add(moved, at: path, in: &document, fail: fail)
        case "copy":
            let copied = try get(try from(), in: document, fail: fail)
            try add(copied, at: path, in: &document, fail: fail)
        case "test":
            let expected = try value()
            let actual = try get(path, in: document, fail: fail)
            guard actual == expected else {
                throw fail("test failed: the value is \(actual.shortDescription), not \(expected.shortDescription)")
            }
        default:
            throw malformed("unknown op; expected add, remove, replace, move, copy or test")
        }
    }

    /// The reference tokens of a JSON pointer: "" is the whole document, "/a/b~1c" is a, b/c.
    static func pointer(_ text: String, malformed: (String) -> ApiError) throws(ApiError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw malformed("a JSON pointer starts with '/'") }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.makeIterator()
            while let character = iterator.next() {
                guard character == "~" else {
                    token.append(character)
                    continue
                }
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw malformed("'~' in a JSON pointer must be followed by 0 or 1")
                }
            }
            tokens.append(token)
        }
        return tokens
    }

    /// An array index token: digits without a leading zero.
    static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.allSatisfy(\.isASCII), token.allSatisfy(\.isNumber),
            token == "0" || !token.hasPrefix("0")
        else { return nil }
        return Int(token)
    }

    static func get(_ path: [String], in document: JSONValue, fail: (String) -> ApiError) throws(ApiError) -> JSONValue {
        var current = document
        for token in path {
            switch current {
            case .object(let members):
                guard let next = members[token] else { throw fail("the path does not exist") }
                current = next
            case .array(let elements):
                guard let index = arrayIndex(token), index < elements.count else { throw fail("the path does not exist") }
                current = elements[index]
            default:
                throw fail("the path does not exist")
            }
        }
        return current
    }

    /// Adds (RFC 6902 section 4.1): an object member is set or replaced; an array element is
    /// inserted before `index`, or appended for "-"; the root is replaced.
    static func add(_ value: JSONValue, at path: [String], in document: inout JSONValue, fail: (String) -> ApiError) throws(ApiError) {
        guard let last = path.last else {
            document = value
            return
        }
        try modify(Array(path.dropLast()), in: &document, fail: fail) { (parent) throws(ApiError) in
            switch parent {
            case .object(var members):
                members[last] = value
                parent = .object(members)
            case .array(var elements):
                if last == "-" {
                    elements.append(value)
                } else {
                    guard let index = arrayIndex(last), index <= elements.count else {
                        throw fail("array index \(last) is out of range (the array has \(elements.count) elements)")
                    }
                    elements.insert(value, at: index)
                }
                parent = .array(elements)
            default:
                throw fail("the parent is \(parent.typeDescription), not an object or array")
            }
        }
    }

    /// Removes and returns the value at `path` (the root cannot be removed).
    static func remove(at path: [String], in document: inout JSONValue, fail: (String) -> ApiError) throws(ApiError) -> JSONValue {
        guard let last = path.last else { throw fail("the whole document cannot be removed") }
        var removed = JSONValue.null
        try modify(Array(path.dropLast()), in: &document, fail: fail) { (parent) throws(ApiError) in
            switch parent {
            case .object(var members):
                guard let value = members[last] else { throw fail("the path does not exist") }
                removed = value
                members[last] = nil
                parent = .object(members)
            case .array(var elements):
                guard let index = arrayIndex(last), index < elements.count else { throw fail("the path does not exist") }
                removed = elements.remove(at: index)
                parent = .array(elements)
            default:
                throw fail("the path does not exist")
            }
        }
        return removed
    }

    /// Runs `change` on the value at `path`, which must exist.
    static func modify(
        _ path: [String], in document: inout JSONValue, fail: (String) -> ApiError,
        _ change: (inout JSONValue) throws(ApiError) -> Void
    ) throws(ApiError) {
        guard let first = path.first else {
            try change(&document)
            return
        }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            guard var child = members[first] else { throw fail("the path does not exist") }
            // Take the child out so it is uniquely referenced while it changes.
            members[first] = .null
            try modify(rest, in: &child, fail: fail, change)
            members[first] = child
            document = .object(members)
        case .array(var elements):
            guard let index = arrayIndex(first), index < elements.count else { throw fail("the path does not exist") }
            var child = elements[index]
            elements[index] = .null
            try modify(rest, in: &child, fail: fail, change)
            elements[index] = child
            document = .array(elements)
        default:
            throw fail("the path does not exist")
        }
    }
}
