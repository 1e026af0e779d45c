import Synchronization
import Wire

/// IndexFunction maps an object to the values it is indexed under (none to leave it out), such
/// as `spec.nodeName` for pods.
public typealias IndexFunction<Object: KubernetesObject> = @Sendable (Object) -> [String]

/// ObjectKey is how the cache names an object: "namespace/name", or "name" for cluster-scoped
/// kinds (client-go's MetaNamespaceKeyFunc).
public enum ObjectKey {
    public static func of<Object: KubernetesObject>(_ object: Object) -> String {
        make(namespace: object.metadata?.namespace, name: object.metadata?.name ?? "")
    }

    public static func make(namespace: String?, name: String) -> String {
        guard let namespace, !namespace.isEmpty else { return name }
        return namespace + "/" + name
    }

    /// Splits a key back into namespace (empty for cluster-scoped) and name.
    public static func split(_ key: String) -> (namespace: String, name: String) {
        guard let slash = key.firstIndex(of: "/") else { return ("", key) }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }
}

/// Indexer is an informer's cache: objects by key plus named secondary indexes, kept consistent
/// on every change. Thread-safe: the informer writes from its loop, workers read from anywhere.
/// Objects are value types, so every read returns a copy; no caller can mutate the cache.
public final class Indexer<Object: KubernetesObject>: Sendable {
    struct State {
        var objects: [String: Object] = [:]
        /// index name → index value → keys of the objects with that value.
        var indexes: [String: [String: Set<String>]] = [:]
    }

    /// The index functions, fixed at creation so every index covers every object.
    public let indexFunctions: [String: IndexFunction<Object>]
    private let state: Mutex<State>

    public init(indexes: [String: IndexFunction<Object>] = [:]) {
        indexFunctions = indexes
        var initial = State()
        for name in indexes.keys { initial.indexes[name] = [:] }
        state = Mutex(initial)
    }

    // MARK: Reads

    public func get(key: String) -> Object? {
        state.withLock { $0.objects[key] }
    }

    public var count: Int { state.withLock { $0.objects.count } }

    public var keys: [String] { state.withLock { Array($0.objects.keys) } }

    public func all() -> [Object] {
        state.withLock { Array($0.objects.values) }
    }

    /// Objects whose index `name` holds `value`, such as the pods bound to one node.
    public func byIndex(_ name: String, _ value: String) -> [Object] {
        state.withLock { state in
            guard let index = state.indexes[name] else {
                preconditionFailure("no index named \(name); indexes are \(indexFunctions.keys.sorted())")
            }
            return (index[value] ?? []).compactMap { state.objects[$0] }
        }
    }

    /// How many objects index `name` holds under `value`, without copying them.
    public func countByIndex(_ name: String, _ value: String) -> Int {
        state.withLock { state in
            guard let index = state.indexes[name] else {
                preconditionFailure("no index named \(name); indexes are \(indexFunctions.keys.sorted())")
            }
            return index[value]?.count ?? 0
        }
    }

    /// Values of index `name` that hold at least one object.
    public func indexValues(_ name: String) -> [String] {
        state.withLock { state in
            precondition(state.indexes[name] != nil, "no index named \(name)")
            return Array(state.indexes[name]!.keys)
        }
    }

    // MARK: Writes (the informer's)

    /// Stores `object` under its key; returns the object it replaced.
    @discardableResult
    func upsert(_ object: Object) -> Object? {
        let key = ObjectKey.of(object)
        return state.withLock { state in
            let old = state.objects.updateValue(object, forKey: key)
            guard let old else {
                index(object, key: key, in: &state)
                return nil
            }
            // Most updates (status writes) leave every index value as it was: touch only the
            // indexes whose values changed.
            for (name, function) in indexFunctions {
                let oldValues = function(old), newValues = function(object)
                guard oldValues != newValues else { continue }
                for value in oldValues {
                    state.indexes[name]![value]?.remove(key)
                    if state.indexes[name]![value]?.isEmpty == true { state.indexes[name]![value] = nil }
                }
                for value in newValues { state.indexes[name]![value, default: []].insert(key) }
            }
            return old
        }
    }

    /// Removes the object at `key`; returns it.
    @discardableResult
    func remove(key: String) -> Object? {
        state.withLock { state in
            guard let old = state.objects.removeValue(forKey: key) else { return nil }
            unindex(old, key: key, in: &state)
            return old
        }
    }

    /// A copy of every object by key, for diffing a relist.
    func snapshot() -> [String: Object] {
        state.withLock { $0.objects }
    }

    private func index(_ object: Object, key: String, in state: inout State) {
        for (name, function) in indexFunctions {
            for value in function(object) { state.indexes[name]![value, default: []].insert(key) }
        }
    }

    private func unindex(_ object: Object, key: String, in state: inout State) {
        for (name, function) in indexFunctions {
            for value in function(object) {
                state.indexes[name]![value]?.remove(key)
                if state.indexes[name]![value]?.isEmpty == true { state.indexes[name]![value] = nil }
            }
        }
    }
}

/// Lister reads an informer's cache the way controllers do: by namespace and name, or by
/// namespace and label selector. It never calls the API server.
public struct Lister<Object: KubernetesObject>: Sendable {
    public let indexer: Indexer<Object>

    public init(indexer: Indexer<Object>) {
        self.indexer = indexer
    }

    /// The cached object; `namespace` is nil or empty for cluster-scoped kinds.
    public func get(namespace: String? = nil, name: String) -> Object? {
        indexer.get(key: ObjectKey.make(namespace: namespace, name: name))
    }

    /// Cached objects in `namespace` (every namespace when nil) whose labels match `selector`
    /// (`ParsedLabelSelector(parsing: "app=web,tier!=db")`; nil matches everything), sorted by key.
    public func list(namespace: String? = nil, selector: ParsedLabelSelector? = nil) -> [Object] {
        indexer.all()
            .filter { object in
                guard namespace == nil || object.metadata?.namespace == namespace else { return false }
                return selector?.matches(object.metadata?.labels ?? [:]) ?? true
            }
            .sorted { ObjectKey.of($0) < ObjectKey.of($1) }
    }

    public func byIndex(_ name: String, _ value: String) -> [Object] {
        indexer.byIndex(name, value).sorted { ObjectKey.of($0) < ObjectKey.of($1) }
    }
}
