/// FieldSet is a set of field paths in an object, the unit of ownership of server-side apply,
/// stored as a trie keyed by Kubernetes' path elements and written as FieldsV1:
///
/// * `f:<name>`: a member of an object (`f:spec`, `f:replicas`);
/// * `k:<json>`: the element of an associative list (`+listType=map`) with these key fields
///   (`k:{"name":"web"}`, `k:{"containerPort":80,"protocol":"TCP"}`; keys sorted);
/// * `v:<json>`: the element of a set list (`+listType=set`) with this value (`v:"finalizer"`);
/// * `i:<n>`: an element by position (lists with no other identity).
///
/// In FieldsV1 a member leaf is `{}` and an inner node that is itself a member carries `".": {}`.
public struct FieldSet: Sendable, Hashable {
    /// Whether the path to this node is in the set.
    public var isMember = false
    public var children: [String: FieldSet] = [:]

    public init() {}

    public var isEmpty: Bool { !isMember && children.isEmpty }

    public mutating func insert(_ path: ArraySlice<String>) {
        guard let first = path.first else {
            isMember = true
            return
        }
        children[first, default: FieldSet()].insert(path.dropFirst())
    }

    public mutating func insert(_ path: [String]) { insert(path[...]) }

    public func contains(_ path: [String]) -> Bool {
        var node = self
        for element in path {
            guard let child = node.children[element] else { return false }
            node = child
        }
        return node.isMember
    }

    /// The node at `path`, if any part of the set lies under it.
    public func node(at path: [String]) -> FieldSet? {
        var node = self
        for element in path {
            guard let child = node.children[element] else { return nil }
            node = child
        }
        return node
    }

    public func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.isMember = isMember || other.isMember
        for (key, child) in other.children {
            result.children[key] = (result.children[key] ?? FieldSet()).union(child)
        }
        return result
    }

    public func subtracting(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.isMember = isMember && !other.isMember
        for (key, child) in children {
            let remaining = other.children[key].map { child.subtracting($0) } ?? child
            if !remaining.isEmpty { result.children[key] = remaining }
        }
        return result
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.isMember = isMember && other.isMember
        for (key, child) in children {
            guard let otherChild = other.children[key] else { continue }
            let common = child.intersection(otherChild)
            if !common.isEmpty { result.children[key] = common }
        }
        return result
    }

    /// Every member path, parents before children, siblings in sorted order.
    public var paths: [[String]] {
        var result: [[String]] = []
        func walk(_ node: FieldSet, _ prefix: [String]) {
            if node.isMember && !prefix.isEmpty { result.append(prefix) }
            for key in node.children.keys.sorted() { walk(node.children[key]!, prefix + [key]) }
        }
        walk(self, [])
        return result
    }

    /// Removes the members `path` and below.
    public mutating func remove(prefix path: ArraySlice<String>) {
        guard let first = path.first else {
            self = FieldSet()
            return
        }
        guard var child = children[first] else { return }
        child.remove(prefix: path.dropFirst())
        children[first] = child.isEmpty ? nil : child
    }

    // MARK: FieldsV1

    /// The FieldsV1 JSON of the set, keys sorted (stable bytes).
    public var fieldsV1: JSONValue {
        var object = JSONObject()
        for key in children.keys.sorted() {
            let child = children[key]!
            var encoded = child.fieldsV1.objectValue ?? JSONObject()
            if child.isMember && !child.children.isEmpty {
                var withDot = JSONObject()
                withDot["."] = .object(JSONObject())
                for (name, value) in encoded { withDot[name] = value }
                encoded = withDot
            }
            object[key] = .object(encoded)
        }
        return .object(object)
    }

    /// Reads FieldsV1; nil when the document is not a field set.
    public init?(fieldsV1 value: JSONValue) {
        guard case .object(let members) = value else { return nil }
        self.init()
        for (key, child) in members {
            if key == "." {
                isMember = true
                continue
            }
            guard var node = FieldSet(fieldsV1: child) else { return nil }
            if node.children.isEmpty { node.isMember = true }
            children[key] = node
        }
    }

    // MARK: Path elements

    static func field(_ name: String) -> String { "f:" + name }

    static func key(_ fields: JSONObject) -> String {
        var sorted = JSONObject()
        for name in fields.keys.sorted() { sorted[name] = fields[name] }
        return "k:" + JSONValue.object(sorted).compactText
    }

    static func value(_ value: JSONValue) -> String { "v:" + value.compactText }

    static func index(_ index: Int) -> String { "i:\(index)" }

    /// A path as Kubernetes prints it in conflicts: `.spec.template.spec.containers[name="web"].image`,
    /// `.metadata.finalizers[="x"]`, `.spec.ports[port=80,protocol="TCP"]`.
    public static func describe(_ path: [String]) -> String {
        var text = ""
        for element in path {
            let body = String(element.dropFirst(2))
            switch element.prefix(2) {
            case "f:":
                text += "." + body
            case "k:":
                if let keys = try? JSONValue(parsing: body).objectValue {
                    text += "[" + keys.map { "\($0.key)=\($0.value.compactText)" }.joined(separator: ",") + "]"
                } else {
                    text += "[" + body + "]"
                }
            case "v:":
                text += "[=" + body + "]"
            case "i:":
                text += "[" + body + "]"
            default:
                text += "." + element
            }
        }
        return text
    }
}
