import Testing

@testable import Api

@Suite struct ApplyTests {
    static let type = Deployment.resourceType
    static let now = Time(seconds: 1_795_554_000)

    static func deploymentYAML(replicas: Int = 3, image: String = "nginx:1.27", labels: String = "app: web", extraContainer: String = "") -> [UInt8] {
        Array("""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: shop
              labels:
                \(labels)
            spec:
              replicas: \(replicas)
              selector:
                matchLabels:
                  app: web
              template:
                metadata:
                  labels:
                    app: web
                spec:
                  containers:
                  - name: web
                    image: \(image)
                    ports:
                    - containerPort: 80
            \(extraContainer)
            """.utf8)
    }

    static func apply(
        _ body: [UInt8], to live: (any KubernetesObject)?, manager: String = "kubectl", force: Bool = false
    ) throws(ApiError) -> Deployment {
        let result = try ApplyEngine.apply(patch: body, to: live, type: type, manager: manager, force: force, now: now)
        guard let deployment = result.object as? Deployment else { preconditionFailure("a deployment") }
        return deployment
    }

    static func owners(_ deployment: Deployment) -> [String: FieldSet] {
        var result: [String: FieldSet] = [:]
        for entry in deployment.metadata?.managedFields ?? [] {
            let fields = entry.fieldsV1.flatMap { $0.raw }.flatMap { try? JSONValue(parsing: $0) }.flatMap(FieldSet.init(fieldsV1:))
            result["\(entry.manager ?? "")/\(entry.operation ?? "")"] = fields
        }
        return result
    }

    static let replicasPath = ["f:spec", "f:replicas"]

    @Test func applyCreatesAndRecordsTheAppliedFields() throws {
        let result = try ApplyEngine.apply(patch: Self.deploymentYAML(), to: nil, type: Self.type, manager: "kubectl", force: false, now: Self.now)
        #expect(result.created)
        #expect(result.unknownFields == [])
        let deployment = try #require(result.object as? Deployment)
        #expect(deployment.spec?.replicas == 3)
        #expect(deployment.spec?.template?.spec?.containers.first?.ports.first?.containerPort == 80)
        let entry = try #require(deployment.metadata?.managedFields.first)
        #expect(entry.manager == "kubectl")
        #expect(entry.operation == "Apply")
        #expect(entry.apiVersion == "apps/v1")
        #expect(entry.fieldsType == "FieldsV1")
        #expect(entry.time == Self.now)
        let fields = try JSONValue(parsing: try #require(entry.fieldsV1?.raw))
        // Kubernetes' FieldsV1 shape: list elements by key with ".", leaves as {}, selector's
        // matchLabels as a map entry.
        #expect(fields == JSONValue.object(try #require(try JSONValue(parsing: #"""
            {"f:metadata":{"f:labels":{"f:app":{}}},
             "f:spec":{"f:replicas":{},"f:selector":{"f:matchLabels":{"f:app":{}}},
              "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
               "f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},
                 "f:ports":{"k:{\"containerPort\":80}":{".":{},"f:containerPort":{}}}}}}}}}
            """#).objectValue)))
    }

    @Test func reapplyingIsIdempotentAndKeepsOneEntry() throws {
        let first = try Self.apply(Self.deploymentYAML(), to: nil)
        let second = try Self.apply(Self.deploymentYAML(), to: first)
        var withoutMeta = second
        withoutMeta.metadata = first.metadata
        #expect(withoutMeta == first)
        #expect(second.metadata?.managedFields.count == 1)
    }

    /// A `kubectl scale`/`edit` (an Update by another manager) owns the replica count; applying
    /// a different count conflicts, Kubernetes' message names the owner and the field, and
    /// --force-conflicts takes the field over.
    @Test func conflictWithAnotherManagerAndForce() throws {
        let created = try Self.apply(Self.deploymentYAML(), to: nil)
        var scaled = created
        scaled.spec?.replicas = 5
        let updated = try #require(
            ManagedFields.recordUpdate(manager: "kubectl-client-side-apply", old: created, new: scaled, now: Self.now) as? Deployment)
        #expect(Self.owners(updated)["kubectl-client-side-apply/Update"]?.contains(Self.replicasPath) == true)
        #expect(Self.owners(updated)["kubectl/Apply"]?.contains(Self.replicasPath) == false)

        do {
            _ = try Self.apply(Self.deploymentYAML(replicas: 4), to: updated)
            Issue.record("applied over another manager's field")
        } catch {
            #expect(error.code == 409)
            #expect(error.reason == "Conflict")
            #expect(error.message == #"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#)
            #expect(error.details?.causes.first?.field == ".spec.replicas")
            #expect(error.details?.causes.first?.reason == "FieldManagerConflict")
        }

        let forced = try Self.apply(Self.deploymentYAML(replicas: 4), to: updated, force: true)
        #expect(forced.spec?.replicas == 4)
        #expect(Self.owners(forced)["kubectl/Apply"]?.contains(Self.replicasPath) == true)
        #expect(Self.owners(forced)["kubectl-client-side-apply/Update"]?.contains(Self.replicasPath) != true)
    }

    @Test func applyingTheSameValueSharesOwnership() throws {
        let created = try Self.apply(Self.deploymentYAML(), to: nil)
        var scaled = created
        scaled.spec?.replicas = 5
        let updated = try #require(ManagedFields.recordUpdate(manager: "kubectl-edit", old: created, new: scaled, now: Self.now) as? Deployment)
        let shared = try Self.apply(Self.deploymentYAML(replicas: 5), to: updated)
        #expect(Self.owners(shared)["kubectl/Apply"]?.contains(Self.replicasPath) == true)
        #expect(Self.owners(shared)["kubectl-edit/Update"]?.contains(Self.replicasPath) == true)
    }

    @Test func severalConflictsAreListedByManager() throws {
        let created = try Self.apply(Self.deploymentYAML(), to: nil)
        var edited = created
        edited.spec?.replicas = 5
        edited.spec?.template?.spec?.containers[0].image = "nginx:edited"
        let updated = try #require(ManagedFields.recordUpdate(manager: "kubectl-edit", old: created, new: edited, now: Self.now) as? Deployment)
        do {
            _ = try Self.apply(Self.deploymentYAML(replicas: 4, image: "nginx:1.28"), to: updated, manager: "kubectl")
            Issue.record("no conflict")
        } catch {
            #expect(error.message == """
                Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:
                - .spec.replicas
                - .spec.template.spec.containers[name="web"].image
                """)
            #expect(error.details?.causes.count == 2)
        }
    }

    /// Fields the manager stops applying are removed, unless another manager owns them.
    @Test func fieldsNoLongerAppliedAreRemoved() throws {
        let first = try Self.apply(Self.deploymentYAML(labels: "{app: web, tier: front, team: a}"), to: nil)
        let second = try Self.apply(Self.deploymentYAML(labels: "{app: web}"), to: first)
        #expect(second.metadata?.labels == ["app": "web"])

        // Another manager set "team": it stays when the applier drops it.
        var labelled = first
        labelled.metadata?.labels["team"] = "b"
        let updated = try #require(ManagedFields.recordUpdate(manager: "labeller", old: first, new: labelled, now: Self.now) as? Deployment)
        let third = try Self.apply(Self.deploymentYAML(labels: "{app: web}"), to: updated)
        #expect(third.metadata?.labels == ["app": "web", "team": "b"])
    }

    /// Containers are an associative list: two appliers each own their own container.
    @Test func associativeListsMergeByKey() throws {
        let first = try Self.apply(Self.deploymentYAML(), to: nil)
        let sidecar = Array("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              template:
                spec:
                  containers:
                  - name: proxy
                    image: envoy
            """.utf8)
        let second = try Self.apply(sidecar, to: first, manager: "injector")
        #expect(second.spec?.template?.spec?.containers.map(\.name) == ["web", "proxy"])
        // The first applier re-applies its own intent: the injector's container stays.
        let third = try Self.apply(Self.deploymentYAML(image: "nginx:1.28"), to: second)
        #expect(third.spec?.template?.spec?.containers.map(\.name) == ["web", "proxy"])
        #expect(third.spec?.template?.spec?.containers.first?.image == "nginx:1.28")
        // A container the applier dropped goes.
        let helper = "      - name: helper\n        image: busybox"
        let withHelper = try Self.apply(Self.deploymentYAML(extraContainer: helper), to: third)
        #expect(withHelper.spec?.template?.spec?.containers.map(\.name) == ["web", "proxy", "helper"])
        let withoutHelper = try Self.apply(Self.deploymentYAML(), to: withHelper)
        #expect(withoutHelper.spec?.template?.spec?.containers.map(\.name) == ["web", "proxy"])
    }

    @Test func statusIsNotAppliedThroughTheMainResource() throws {
        let body = Array(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1},"status":{"replicas":9}}"#.utf8)
        let deployment = try Self.apply(body, to: nil)
        #expect(deployment.status == nil)
        #expect(deployment.spec?.replicas == 1)
    }

    @Test func badRequestsAreRefusedWithTheReason() {
        func failure(_ body: String, manager: String = "kubectl") -> ApiError? {
            do {
                _ = try ApplyEngine.apply(patch: Array(body.utf8), to: nil, type: Self.type, manager: manager, force: false, now: Self.now)
                return nil
            } catch {
                return error
            }
        }
        #expect(failure("{}", manager: "")?.message.contains("fieldManager") == true)
        #expect(failure("metadata: {name: web}")?.message.contains("must set apiVersion and kind") == true)
        #expect(failure("apiVersion: v1\nkind: Pod\nmetadata: {name: web}")?.message.contains("does not match the expected API version") == true)
        let typeError = failure("apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: \"3\"}")
        #expect(typeError?.code == 400)
        #expect(typeError?.message.contains(#"spec.replicas: expected an integer, got "3""#) == true)
        #expect(failure("key: [unclosed")?.code == 400)
    }

    @Test func unknownFieldsOfTheConfigurationAreReported() throws {
        let body = Array("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1, replica: 2}".utf8)
        let result = try ApplyEngine.apply(patch: body, to: nil, type: Self.type, manager: "kubectl", force: false, now: Self.now)
        #expect(result.unknownFields == ["spec.replica"])
    }

    // MARK: Updates by other writers

    @Test func updatesMoveOwnershipOfChangedFields() throws {
        var pod = Pod()
        pod.metadata = ObjectMeta(name: "p", namespace: "default", labels: ["app": "a"])
        pod.spec = PodSpec(containers: [Container(name: "c", image: "busybox")])
        let created = try #require(ManagedFields.recordUpdate(manager: "kubectl-create", old: nil, new: pod, now: Self.now) as? Pod)
        let createFields = try #require(Self.podOwners(created)["kubectl-create"])
        #expect(createFields.contains(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:image"]))
        #expect(createFields.contains(["f:metadata", "f:labels", "f:app"]))
        #expect(!createFields.contains(["f:metadata", "f:name"]))

        var edited = created
        edited.spec?.containers[0].image = "busybox:2"
        let after = try #require(ManagedFields.recordUpdate(manager: "kubectl-edit", old: created, new: edited, now: Self.now) as? Pod)
        let owners = Self.podOwners(after)
        #expect(owners["kubectl-edit"] == {
            var set = FieldSet()
            set.insert(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:image"])
            return set
        }())
        #expect(owners["kubectl-create"]?.contains(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:image"]) == false)
        #expect(owners["kubectl-create"]?.contains(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:name"]) == true)
        // A write that changes nothing leaves the records as they were.
        let unchanged = try #require(ManagedFields.recordUpdate(manager: "kubectl-edit", old: after, new: after, now: Time(seconds: 1)) as? Pod)
        #expect(unchanged.metadata?.managedFields == after.metadata?.managedFields)
    }

    /// `kubectl apply --server-side` on an object managed by client-side apply first rewrites
    /// managedFields with a JSON patch, moving the client-side-apply entry to its Apply entry;
    /// the apply that follows then changes the image without a conflict.
    @Test func clientSentManagedFieldsReplaceTheRecords() throws {
        let created = try #require(
            ManagedFields.recordUpdate(manager: "kubectl-client-side-apply", old: nil, new: try Self.apply(Self.deploymentYAML(), to: nil), now: Self.now)
                as? Deployment)
        var upgraded = created
        upgraded.metadata?.managedFields = created.metadata!.managedFields.map { entry in
            var moved = entry
            moved.manager = "kubectl"
            moved.operation = "Apply"
            return moved
        }
        let migrated = try #require(ManagedFields.recordUpdate(manager: "kubectl", old: created, new: upgraded, now: Self.now) as? Deployment)
        #expect(migrated.metadata?.managedFields.map { "\($0.manager ?? "")/\($0.operation ?? "")" } == ["kubectl/Apply"])
        let applied = try Self.apply(Self.deploymentYAML(image: "nginx:1.28"), to: migrated)
        #expect(applied.spec?.template?.spec?.containers.first?.image == "nginx:1.28")
        // Without the migration the same apply conflicts with the client-side history.
        #expect(throws: ApiError.self) {
            try Self.apply(Self.deploymentYAML(image: "nginx:1.28"), to: try #require(
                ManagedFields.recordUpdate(manager: "kubectl-client-side-apply", old: nil, new: created, now: Self.now) as? Deployment))
        }
        // [{}] clears the records; an unchanged list leaves them.
        var cleared = migrated
        cleared.metadata?.managedFields = [ManagedFieldsEntry()]
        #expect((ManagedFields.recordUpdate(manager: "x", old: migrated, new: cleared, now: Self.now) as? Deployment)?.metadata?.managedFields == [])
        #expect((ManagedFields.recordUpdate(manager: "x", old: migrated, new: migrated, now: Self.now) as? Deployment)?.metadata?.managedFields
            == migrated.metadata?.managedFields)
    }

    static func podOwners(_ pod: Pod) -> [String: FieldSet] {
        var result: [String: FieldSet] = [:]
        for entry in pod.metadata?.managedFields ?? [] {
            result[entry.manager ?? ""] = entry.fieldsV1.flatMap { $0.raw }.flatMap { try? JSONValue(parsing: $0) }.flatMap(FieldSet.init(fieldsV1:))
        }
        return result
    }

    @Test func updateEntriesAreBounded() throws {
        var pod = Pod(metadata: ObjectMeta(name: "p"))
        var current: any KubernetesObject = pod
        for index in 0..<15 {
            pod.metadata?.labels["l\(index)"] = "v"
            current = ManagedFields.recordUpdate(manager: "writer-\(index)", old: current, new: pod, now: Time(seconds: Int64(index)))
            pod = current as! Pod
        }
        let managers = pod.metadata?.managedFields.map { $0.manager ?? "" } ?? []
        #expect(managers.count == ManagedFields.maximumUpdateEntries + 1)
        #expect(managers.first == "ancient-changes")
        #expect(managers.last == "writer-14")
    }

    // MARK: Field sets and YAML

    @Test func fieldSetsRoundTripThroughFieldsV1() throws {
        var set = FieldSet()
        set.insert(["f:spec", "f:containers", #"k:{"name":"web"}"#])
        set.insert(["f:spec", "f:containers", #"k:{"name":"web"}"#, "f:image"])
        set.insert(["f:metadata", "f:finalizers", #"v:"x""#])
        let encoded = set.fieldsV1
        #expect(encoded.compactText == #"{"f:metadata":{"f:finalizers":{"v:\"x\"":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}"#)
        #expect(FieldSet(fieldsV1: encoded) == set)
        #expect(FieldSet.describe(["f:spec", "f:ports", #"k:{"port":80,"protocol":"TCP"}"#, "f:targetPort"]) == #".spec.ports[port=80,protocol="TCP"].targetPort"#)
        #expect(FieldSet.describe(["f:metadata", "f:finalizers", #"v:"x""#]) == #".metadata.finalizers[="x"]"#)
    }

    @Test func yamlBecomesJSONAsKubernetesReadsIt() throws {
        let value = try YAMLDocument.parse(Array("""
            a: 1
            b: "80"
            c: 0.5
            d: true
            e: ~
            f: 2026-11-24T21:00:00Z
            g: [x, 'y']
            h: {nested: {deep: 1e3}}
            """.utf8))
        #expect(value == JSONValue.object(JSONObject([
            ("a", 1), ("b", "80"), ("c", .number("0.5")), ("d", true), ("e", .null), ("f", "2026-11-24T21:00:00Z"),
            ("g", ["x", "y"]), ("h", ["nested": ["deep": .number("1e3")]]),
        ])))
        #expect(try YAMLDocument.parse(Array(#"{"kind":"Pod","n":9007199254740993}"#.utf8))["n"] == .number("9007199254740993"))
        #expect(throws: JSONDecodingError.self) { try YAMLDocument.parse(Array("a: 1\na: 2".utf8)) }
    }
}
