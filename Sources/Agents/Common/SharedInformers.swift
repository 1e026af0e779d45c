import Api
import Synchronization

/// SharedInformers gives every consumer in one process the same informer per kind: one list and
/// one watch per kind, however many controllers or plugins read it (client-go's shared informer
/// factory). Informers are created on first request and started by `start()`; one requested
/// after `start()` starts at once.
public final class SharedInformers: Sendable {
    private struct Entry: @unchecked Sendable {
        // Safety of @unchecked Sendable: `informer` is an Informer<Object> (Sendable); the
        // closures capture it only.
        let informer: AnyObject
        let indexNames: Set<String>
        let start: @Sendable () -> Void
        let stop: @Sendable () async -> Void
        let waitUntilSynced: @Sendable () async -> Bool
    }

    private struct State {
        var entries: [ResourceType: Entry] = [:]
        var started = false
    }

    public let client: ApiClient
    public let configuration: Informer<Namespace>.Configuration
    /// Whether every informer keeps the standard indexes (`InformerIndexes.standard`).
    public let standardIndexes: Bool
    private let state = Mutex(State())

    /// `configuration` applies to every kind (resync period, page size); selectors in it are
    /// ignored: shared informers see every object unless `informer(_:…fieldSelector:)` says
    /// otherwise for a kind. A process whose consumers never look objects up by index (the
    /// scheduler, the hollow nodes) passes `standardIndexes: false`: keeping five indexes
    /// current costs ten index-function calls per cached change.
    public init(client: ApiClient, configuration: Informer<Namespace>.Configuration = .init(), standardIndexes: Bool = true) {
        self.client = client
        self.configuration = configuration
        self.standardIndexes = standardIndexes
    }

    /// The informer of `type`. `indexes` are added when this call creates it; a later call may
    /// only ask for indexes it already has (indexes are fixed once objects arrive), so register
    /// every consumer before `start()`, or use the standard indexes in `InformerIndexes`.
    /// `transform`, likewise fixed by the call that creates the informer, trims every object
    /// before it is cached (see `Informer.Configuration.transform`); every consumer of the kind
    /// in the process sees the trimmed objects. So does `fieldSelector` (e.g. a node agent's
    /// `spec.nodeName!=`: only pods bound to some node): every consumer sees only those objects.
    public func informer<Object: KubernetesObject>(
        _ type: Object.Type, indexes: [String: IndexFunction<Object>] = [:], transform: (@Sendable (Object) -> Object)? = nil,
        fieldSelector: String? = nil
    ) -> Informer<Object> {
        let (entry, startNow) = state.withLock { state -> (Entry, Bool) in
            if let existing = state.entries[Object.resourceType] {
                let missing = Set(indexes.keys).subtracting(existing.indexNames)
                precondition(
                    missing.isEmpty,
                    "the shared \(Object.resourceType) informer was created without indexes \(missing.sorted()); ask for them in the first call")
                return (existing, false)
            }
            var all = standardIndexes ? InformerIndexes.standard(Object.self) : [:]
            all.merge(indexes) { _, requested in requested }
            var perKind = Informer<Object>.Configuration()
            perKind.pageSize = configuration.pageSize
            perKind.resyncPeriodMilliseconds = configuration.resyncPeriodMilliseconds
            perKind.retryInitialMilliseconds = configuration.retryInitialMilliseconds
            perKind.retryMaximumMilliseconds = configuration.retryMaximumMilliseconds
            perKind.transform = transform
            perKind.fieldSelector = fieldSelector
            let informer = Informer<Object>(client: client, configuration: perKind, indexes: all)
            let entry = Entry(
                informer: informer, indexNames: Set(all.keys), start: { informer.start() }, stop: { await informer.stop() },
                waitUntilSynced: { await informer.waitUntilSynced() })
            state.entries[Object.resourceType] = entry
            return (entry, state.started)
        }
        if startNow { entry.start() }
        return entry.informer as! Informer<Object>
    }

    /// Starts every informer created so far; later ones start when created.
    public func start() {
        let entries = state.withLock { state -> [Entry] in
            precondition(!state.started, "shared informers started twice")
            state.started = true
            return Array(state.entries.values)
        }
        for entry in entries { entry.start() }
    }

    /// Waits until every informer created so far has listed once; false if one stopped first.
    public func waitForSync() async -> Bool {
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries where !(await entry.waitUntilSynced()) { return false }
        return true
    }

    public func stop() async {
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries { await entry.stop() }
    }
}

/// Indexes every shared informer has, so consumers never race to define them.
public enum InformerIndexes {
    /// Objects by namespace ("" for cluster-scoped kinds).
    public static let namespace = "namespace"
    /// Objects by the uid of their controller owner reference (ownerReferences with controller=true).
    public static let controllerUID = "controllerUID"
    /// Objects by the uid of every owner reference, for the garbage collector.
    public static let ownerUID = "ownerUID"
    /// Pods by spec.nodeName ("" for unscheduled pods).
    public static let nodeName = "nodeName"

    /// The `nodeName` index function of pods (for informers made without the standard indexes).
    public static let podNodeName: IndexFunction<Pod> = { [$0.spec?.nodeName ?? ""] }

    /// Objects without a controller owner reference, by namespace: the orphans a controller
    /// may adopt, found without scanning the objects other controllers own.
    public static let orphanNamespace = "orphanNamespace"

    // Index functions run twice per cached change; they use closures, not key paths, which
    // generic code instantiates on every call.
    static func standard<Object: KubernetesObject>(_ type: Object.Type) -> [String: IndexFunction<Object>] {
        var indexes: [String: IndexFunction<Object>] = [
            namespace: { [$0.metadata?.namespace ?? ""] },
            controllerUID: { object in
                (object.metadata?.ownerReferences ?? []).filter { $0.controller == true }.compactMap { $0.uid }
            },
            ownerUID: { object in (object.metadata?.ownerReferences ?? []).compactMap { $0.uid } },
            orphanNamespace: { object in
                let controlled = object.metadata?.ownerReferences.contains { $0.controller == true } ?? false
                return controlled ? [] : [object.metadata?.namespace ?? ""]
            },
        ]
        if Object.self == Pod.self {
            indexes[nodeName] = { object in podNodeName(object as! Pod) }
        }
        return indexes
    }
}
