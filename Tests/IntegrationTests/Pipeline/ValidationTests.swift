import Api
import Testing

@Suite("Pipeline: validation")
struct PipelineValidationTests {
    typealias F = PipelineFixtures

    /// "field: message" of each cause, for compact expectations.
    static func problems(_ object: any KubernetesObject, old: (any KubernetesObject)? = nil) -> [String] {
        Validation.validate(object: object, old: old).map { "\($0.field ?? ""): \($0.message ?? "")" }
    }

    static func reasons(_ object: any KubernetesObject, old: (any KubernetesObject)? = nil) -> [String] {
        Validation.validate(object: object, old: old).map { $0.reason ?? "" }
    }

    @Test("a well-formed pod, deployment and service have no problems")
    func valid() {
        #expect(Self.problems(F.pod()).isEmpty)
        #expect(Self.problems(F.deployment()).isEmpty)
        var service = Service()
        service.metadata = F.metadata("web")
        var spec = ServiceSpec()
        var port = ServicePort()
        port.port = 80
        spec.ports = [port]
        spec.selector = ["app": "web"]
        service.spec = spec
        #expect(Self.problems(service).isEmpty)
    }

    @Test("names: DNS-1123 subdomains for most kinds, labels for namespaces and services, generateName prefixes")
    func names() {
        var pod = F.pod("Web_1")
        #expect(Self.problems(pod).first?.hasPrefix("metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of") == true)
        pod = F.pod("web.example.com")
        #expect(Self.problems(pod).isEmpty)
        var namespace = Namespace()
        namespace.metadata = F.metadata("team.a", namespace: nil)
        #expect(Self.problems(namespace).first?.hasPrefix("metadata.name: Invalid value: \"team.a\": a lowercase RFC 1123 label must consist of") == true)
        pod.metadata?.name = nil
        #expect(Self.problems(pod) == ["metadata.name: Required value: name or generateName is required"])
        pod.metadata?.generateName = "web-"
        #expect(Self.problems(pod).isEmpty)
        pod.metadata?.generateName = "Web-"
        #expect(Self.reasons(pod) == ["FieldValueInvalid"])
        pod = F.pod(String(repeating: "a", count: 254))
        #expect(Self.problems(pod) == ["metadata.name: Invalid value: \"\(String(repeating: "a", count: 254))\": must be no more than 253 characters"])
    }

    @Test("namespace scope: namespaced kinds need one, cluster kinds refuse one; namespace and uid are immutable")
    func namespaceRules() {
        var pod = F.pod()
        pod.metadata?.namespace = nil
        #expect(Self.problems(pod) == ["metadata.namespace: Required value"])
        var node = Node()
        node.metadata = F.metadata("worker-1", namespace: "default")
        #expect(Self.problems(node) == ["metadata.namespace: Forbidden: not allowed on this type"])
        let old = F.pod()
        var moved = F.pod(namespace: "other")
        #expect(Self.problems(moved, old: old).contains("metadata.namespace: Invalid value: \"other\": field is immutable"))
        moved = F.pod()
        moved.metadata?.uid = "new-uid"
        var stored = F.pod()
        stored.metadata?.uid = "old-uid"
        #expect(Self.problems(moved, old: stored) == ["metadata.uid: Invalid value: \"new-uid\": field is immutable"])
    }

    @Test("label and annotation keys and values follow the qualified-name rules")
    func labels() {
        var pod = F.pod()
        pod.metadata?.labels = ["example.com/app": "web", "ok": ""]
        #expect(Self.problems(pod).isEmpty)
        pod.metadata?.labels = ["-bad": "x"]
        #expect(Self.problems(pod).first?.hasPrefix("metadata.labels: Invalid value: \"-bad\": name part must consist of") == true)
        pod.metadata?.labels = ["app": String(repeating: "v", count: 64)]
        #expect(Self.problems(pod) == ["metadata.labels[app]: Invalid value: \"\(String(repeating: "v", count: 64))\": must be no more than 63 characters"])
        pod.metadata?.labels = ["Bad_Prefix.com/app": "x"]
        #expect(Self.problems(pod).first?.hasPrefix("metadata.labels: Invalid value: \"Bad_Prefix.com/app\": prefix part a lowercase RFC 1123 subdomain") == true)
        // Only ASCII letters and digits count as alphanumeric; lengths are in bytes, as in Go.
        pod.metadata?.labels = ["caf\u{e9}": "x"]
        #expect(Self.problems(pod).first?.hasPrefix("metadata.labels: Invalid value: \"caf\u{e9}\": name part must consist of") == true)
        pod.metadata?.labels = ["app": "\u{661}\u{662}"]
        #expect(Self.problems(pod).first?.hasPrefix("metadata.labels[app]: Invalid value: \"\u{661}\u{662}\": a valid label must be an empty string") == true)
        pod.metadata?.labels = ["app": String(repeating: "\u{e9}", count: 32)]
        #expect(Self.problems(pod) == ["metadata.labels[app]: Invalid value: \"\(String(repeating: "\u{e9}", count: 32))\": must be no more than 63 characters"])
        pod.metadata?.labels = ["a/b/c": "x", "/x": "y", "x/": "z", "Example.com/x": "w", "example.com/My_Name-2.v": "V_1.2-3"]
        let problems = Self.problems(pod)
        #expect(problems.count == 4)
        #expect(problems[0].hasPrefix("metadata.labels: Invalid value: \"/x\": prefix part must be non-empty"))
        #expect(problems[1].hasPrefix("metadata.labels: Invalid value: \"Example.com/x\": prefix part a lowercase RFC 1123 subdomain"))
        #expect(problems[2].hasPrefix("metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of"))
        #expect(problems[3].hasPrefix("metadata.labels: Invalid value: \"x/\": name part must be non-empty"))
        pod.metadata?.labels = [:]
        pod.metadata?.annotations = ["big": String(repeating: "x", count: 256 * 1024)]
        #expect(Self.problems(pod) == ["metadata.annotations: Too long: must have at most 262144 bytes"])
    }

    @Test("pod required fields, duplicates, unsupported values and resource bounds use Kubernetes' paths and reasons")
    func podFields() {
        var pod = F.pod(containers: [])
        #expect(Self.problems(pod) == ["spec.containers: Required value"])
        pod = F.pod(containers: [F.container("web", image: nil), F.container("web")])
        #expect(Self.problems(pod) == ["spec.containers[0].image: Required value", "spec.containers[1].name: Duplicate value: \"web\""])
        #expect(Self.reasons(pod) == ["FieldValueRequired", "FieldValueDuplicate"])
        pod = F.pod()
        pod.spec?.restartPolicy = "Sometimes"
        #expect(Self.problems(pod) == ["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""])
        #expect(Self.reasons(pod) == ["FieldValueNotSupported"])
        pod = F.pod(containers: [F.container(requests: ["cpu": "2"], limits: ["cpu": "1"])])
        #expect(Self.problems(pod) == ["spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"])
        pod = F.pod(containers: [F.container(requests: ["memory": "12x"])])
        #expect(Self.problems(pod).first?.hasPrefix("spec.containers[0].resources.requests[memory]: Invalid value: \"12x\": \"12x\" is not a quantity") == true)
        pod = F.pod()
        var port = ContainerPort()
        port.containerPort = 70000
        pod.spec?.containers[0].ports = [port]
        var mount = VolumeMount()
        mount.name = "data"
        mount.mountPath = "/data"
        pod.spec?.containers[0].volumeMounts = [mount]
        #expect(Self.problems(pod) == [
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
        ])
    }

    @Test("pod updates may change only images, the deadline and added tolerations")
    func podUpdates() {
        let old = F.pod()
        var newImage = old
        newImage.spec?.containers[0].image = "nginx:1.28"
        #expect(Self.problems(newImage, old: old).isEmpty)
        var toleration = Toleration()
        toleration.key = "dedicated"
        toleration.operator = "Exists"
        var tolerated = old
        tolerated.spec?.tolerations = [toleration]
        #expect(Self.problems(tolerated, old: old).isEmpty)
        var deadline = old
        deadline.spec?.activeDeadlineSeconds = 30
        #expect(Self.problems(deadline, old: old).isEmpty)
        var changed = old
        changed.spec?.containers[0].command = ["sh"]
        #expect(Self.problems(changed, old: old).first?.hasPrefix("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`") == true)
        #expect(Self.reasons(changed, old: old) == ["FieldValueForbidden"])
        var untolerated = tolerated
        untolerated.spec?.tolerations = []
        #expect(Self.reasons(untolerated, old: tolerated) == ["FieldValueForbidden"])
    }

    @Test("services need ports, valid types and unique named ports; clusterIP is immutable")
    func services() {
        var service = Service()
        service.metadata = F.metadata("web")
        service.spec = ServiceSpec()
        #expect(Self.problems(service) == ["spec.ports: Required value"])
        var first = ServicePort()
        first.port = 80
        var second = ServicePort()
        second.port = 0
        service.spec?.ports = [first, second]
        service.spec?.type = "Magic"
        #expect(Self.problems(service) == [
            "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"NodePort\", \"LoadBalancer\", \"ExternalName\"",
            "spec.ports[0].name: Required value",
            "spec.ports[1].name: Required value",
            "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        ])
        var stored = Service()
        stored.metadata = F.metadata("web")
        var storedSpec = ServiceSpec()
        storedSpec.ports = [first]
        storedSpec.clusterIP = "127.97.0.20"
        stored.spec = storedSpec
        var updated = stored
        updated.spec?.clusterIP = "127.97.0.21"
        #expect(Self.problems(updated, old: stored) == ["spec.clusterIP: Invalid value: \"127.97.0.21\": field is immutable"])
        updated.spec?.clusterIP = "not-an-ip"
        #expect(Self.problems(updated).first == "spec.clusterIP: Invalid value: \"not-an-ip\": must be empty, 'None', or a valid IP address")
    }

    @Test("workloads need a selector matching the template labels; the selector is immutable")
    func workloads() {
        let mismatched = F.deployment(selector: ["app": "web"], templateLabels: ["app": "db"])
        #expect(Self.problems(mismatched) == ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"db\"}: `selector` does not match template `labels`"])
        var noSelector = F.deployment()
        noSelector.spec?.selector = nil
        #expect(Self.problems(noSelector) == ["spec.selector: Required value"])
        var negative = F.deployment()
        negative.spec?.replicas = -1
        #expect(Self.problems(negative) == ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"])
        var never = F.deployment()
        never.spec?.template?.spec?.restartPolicy = "Never"
        #expect(Self.problems(never) == ["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""])
        let old = F.deployment()
        let reselected = F.deployment(selector: ["app": "web", "tier": "x"], templateLabels: ["app": "web", "tier": "x"])
        #expect(Self.problems(reselected, old: old) == ["spec.selector: Invalid value: v1.LabelSelector{…}: field is immutable"])
    }

    @Test("jobs need OnFailure or Never and keep their template")
    func jobs() {
        var job = Job()
        job.metadata = F.metadata("migrate")
        var spec = JobSpec()
        spec.template = F.template(labels: ["job": "migrate"], restartPolicy: "Always")
        job.spec = spec
        #expect(Self.problems(job) == ["spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""])
        job.spec?.template?.spec?.restartPolicy = "Never"
        #expect(Self.problems(job).isEmpty)
        var changed = job
        changed.spec?.template?.spec?.containers[0].image = "migrate:2"
        #expect(Self.problems(changed, old: job) == ["spec.template: Invalid value: core.PodTemplateSpec{…}: field is immutable"])
    }

    @Test("config maps, claims and bindings: keys, required fields, immutable roleRef")
    func otherKinds() {
        var configMap = ConfigMap()
        configMap.metadata = F.metadata("settings")
        configMap.data = ["good.key": "1", "bad key": "2"]
        #expect(Self.problems(configMap).first?.hasPrefix("data[bad key]: Invalid value: \"bad key\": a valid config key must consist of") == true)
        var claim = PersistentVolumeClaim()
        claim.metadata = F.metadata("data")
        claim.spec = PersistentVolumeClaimSpec()
        #expect(Self.problems(claim) == ["spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"])
        let binding = F.roleBinding("b", namespace: "default", roleRef: F.roleRef("Role", "reader"), [F.subject("User", "alice")])
        #expect(Self.problems(binding).isEmpty)
        var rebound = binding
        rebound.roleRef = F.roleRef("ClusterRole", "admin")
        #expect(Self.problems(rebound, old: binding) == ["roleRef: Invalid value: rbac.RoleRef{…}: cannot change roleRef"])
        let clusterBinding = F.clusterRoleBinding("c", roleRef: F.roleRef("Role", "reader"), [F.subject("ServiceAccount", "robot"), F.subject("Robot", "x")])
        #expect(Self.problems(clusterBinding) == [
            "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
            "subjects[0].namespace: Required value",
            "subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
        ])
    }

    static func statusProblems(_ object: any KubernetesObject, old: any KubernetesObject) -> [String] {
        Validation.validateStatus(object: object, old: old).map { "\($0.field ?? ""): \($0.message ?? "")" }
    }

    static func terminated(_ name: String, exitCode: Int32) -> ContainerStatus {
        var done = ContainerStateTerminated()
        done.exitCode = exitCode
        var status = ContainerStatus()
        status.name = name
        status.state = ContainerState(terminated: done)
        return status
    }

    static func running(_ name: String) -> ContainerStatus {
        var status = ContainerStatus()
        status.name = name
        status.state = ContainerState(running: ContainerStateRunning())
        return status
    }

    @Test("pod status writes: condition types, nominated node, immutable QoS class, addresses, no restart of a finished container the policy does not restart")
    func podStatus() {
        var old = F.pod()
        old.status = PodStatus(phase: "Pending")
        old.status?.qosClass = "BestEffort"
        var new = old
        new.status?.phase = "Running"
        new.status?.podIP = "127.96.0.7"
        new.status?.podIPs = [PodIP(ip: "127.96.0.7")]
        new.status?.hostIP = "127.95.0.1"
        new.status?.hostIPs = [HostIP(ip: "127.95.0.1")]
        new.status?.conditions = [PodCondition(type: "Ready", status: "True"), PodCondition(type: "example.com/gate", status: "True")]
        #expect(Self.statusProblems(new, old: old).isEmpty)

        var bad = new
        bad.status?.conditions.append(PodCondition(type: "not a name!", status: "True"))
        bad.status?.nominatedNodeName = "Node_1"
        bad.status?.qosClass = "Guaranteed"
        #expect(Self.statusProblems(bad, old: old).map { String($0.prefix(60)) } == [
            "status.conditions[2].type: Invalid value: \"not a name!\": nam",
            "status.nominatedNodeName: Invalid value: \"Node_1\": a lowerca",
            "status.qosClass: Invalid value: \"Guaranteed\": field is immut",
        ])

        var addresses = new
        addresses.status?.podIP = "127.96.0.999"
        addresses.status?.podIPs = [PodIP(ip: "127.96.0.8"), PodIP(ip: "127.96.0.9")]
        #expect(Self.statusProblems(addresses, old: old) == [
            "status.podIP: Invalid value: \"127.96.0.999\": must be a valid IP address",
            "status.podIPs[0].ip: Invalid value: \"127.96.0.8\": must be the same address as status.podIP (\"127.96.0.999\")",
            "status.podIPs: Invalid value: [\"127.96.0.8\", \"127.96.0.9\"]: may specify no more than one IP for each IP family",
        ])
        var dualStack = new
        dualStack.status?.podIPs = [PodIP(ip: "127.96.0.7"), PodIP(ip: "fd00::7")]
        #expect(Self.statusProblems(dualStack, old: old).isEmpty)

        // A finished container comes back only if the restart policy restarts it.
        var finished = new
        finished.spec?.restartPolicy = "OnFailure"
        finished.status?.containerStatuses = [Self.terminated("app", exitCode: 0), Self.terminated("side", exitCode: 1)]
        var restarted = finished
        restarted.status?.containerStatuses = [Self.running("app"), Self.running("side")]
        #expect(Self.statusProblems(restarted, old: finished) == [
            "status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state (container \"app\" terminated and restartPolicy is OnFailure)",
        ])
        finished.spec?.restartPolicy = "Always"
        restarted.spec?.restartPolicy = "Always"
        #expect(Self.statusProblems(restarted, old: finished).isEmpty)
    }

    @Test("workload status writes: counts not negative, ready and available within replicas, collisionCount never decremented")
    func workloadStatus() {
        var deployment = F.deployment()
        deployment.status = DeploymentStatus()
        deployment.status?.replicas = 3
        deployment.status?.readyReplicas = 3
        deployment.status?.availableReplicas = 2
        deployment.status?.collisionCount = 2
        let old = deployment
        #expect(Self.statusProblems(deployment, old: old).isEmpty)
        deployment.status?.updatedReplicas = 4
        deployment.status?.availableReplicas = -1
        deployment.status?.collisionCount = 1
        #expect(Self.statusProblems(deployment, old: old) == [
            "status.availableReplicas: Invalid value: -1: must be greater than or equal to 0",
            "status.updatedReplicas: Invalid value: 4: cannot be greater than status.replicas",
            "status.collisionCount: Invalid value: 1: cannot be decremented",
        ])

        var replicaSet = ReplicaSet()
        replicaSet.metadata = F.metadata("web-abc")
        replicaSet.status = ReplicaSetStatus()
        replicaSet.status?.replicas = 2
        replicaSet.status?.readyReplicas = 1
        replicaSet.status?.availableReplicas = 2
        #expect(Self.statusProblems(replicaSet, old: replicaSet) == [
            "status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas",
        ])

        var job = Job()
        job.metadata = F.metadata("migrate")
        job.status = JobStatus()
        job.status?.failed = -2
        #expect(Self.statusProblems(job, old: job) == ["status.failed: Invalid value: -2: must be greater than or equal to 0"])

        var quota = ResourceQuota()
        quota.metadata = F.metadata("compute")
        quota.status = ResourceQuotaStatus()
        quota.status?.hard = ["pods": Quantity("10")]
        quota.status?.used = ["pods": Quantity("-1")]
        #expect(Self.statusProblems(quota, old: quota) == ["status.used[pods]: Invalid value: \"-1\": must be greater than or equal to 0"])
    }
}
