import Api

/// PipelineFixtures builds the objects the pipeline tests use.
enum PipelineFixtures {
    static let signingKey = Array("0123456789abcdef0123456789abcdef-test-key".utf8)
    static let otherKey = Array("fedcba9876543210fedcba9876543210-other-key".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    static func metadata(_ name: String, namespace: String? = "default", labels: [String: String] = [:]) -> ObjectMeta {
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.namespace = namespace
        metadata.labels = labels
        return metadata
    }

    static func container(_ name: String = "web", image: String? = "nginx:1.27", requests: [String: String] = [:], limits: [String: String] = [:]) -> Container {
        var container = Container()
        container.name = name
        container.image = image
        if !requests.isEmpty || !limits.isEmpty {
            var resources = ResourceRequirements()
            resources.requests = requests.mapValues { Quantity($0) }
            resources.limits = limits.mapValues { Quantity($0) }
            container.resources = resources
        }
        return container
    }

    static func pod(_ name: String = "web", namespace: String = "default", containers: [Container] = [container()], nodeName: String? = nil) -> Pod {
        var pod = Pod()
        pod.metadata = metadata(name, namespace: namespace, labels: ["app": "web"])
        var spec = PodSpec()
        spec.containers = containers
        spec.nodeName = nodeName
        pod.spec = spec
        return pod
    }

    static func template(labels: [String: String], restartPolicy: String? = nil) -> PodTemplateSpec {
        var template = PodTemplateSpec()
        var metadata = ObjectMeta()
        metadata.labels = labels
        template.metadata = metadata
        var spec = PodSpec()
        spec.containers = [container()]
        spec.restartPolicy = restartPolicy
        template.spec = spec
        return template
    }

    static func deployment(selector: [String: String] = ["app": "web"], templateLabels: [String: String] = ["app": "web"]) -> Deployment {
        var deployment = Deployment()
        deployment.metadata = metadata("web")
        var spec = DeploymentSpec()
        spec.replicas = 2
        var labelSelector = LabelSelector()
        labelSelector.matchLabels = selector
        spec.selector = labelSelector
        spec.template = template(labels: templateLabels)
        deployment.spec = spec
        return deployment
    }

    static func rule(verbs: [String], groups: [String] = [""], resources: [String], names: [String] = []) -> PolicyRule {
        var rule = PolicyRule()
        rule.verbs = verbs
        rule.apiGroups = groups
        rule.resources = resources
        rule.resourceNames = names
        return rule
    }

    static func subject(_ kind: String, _ name: String, namespace: String? = nil) -> Subject {
        var subject = Subject()
        subject.kind = kind
        subject.name = name
        subject.namespace = namespace
        subject.apiGroup = kind == "ServiceAccount" ? "" : "rbac.authorization.k8s.io"
        return subject
    }

    static func roleRef(_ kind: String, _ name: String) -> RoleRef {
        var roleRef = RoleRef()
        roleRef.apiGroup = "rbac.authorization.k8s.io"
        roleRef.kind = kind
        roleRef.name = name
        return roleRef
    }

    static func role(_ name: String, namespace: String, _ rules: [PolicyRule]) -> Role {
        var role = Role()
        role.metadata = metadata(name, namespace: namespace)
        role.rules = rules
        return role
    }

    static func clusterRole(_ name: String, _ rules: [PolicyRule]) -> ClusterRole {
        var role = ClusterRole()
        role.metadata = metadata(name, namespace: nil)
        role.rules = rules
        return role
    }

    static func roleBinding(_ name: String, namespace: String, roleRef: RoleRef, _ subjects: [Subject]) -> RoleBinding {
        var binding = RoleBinding()
        binding.metadata = metadata(name, namespace: namespace)
        binding.roleRef = roleRef
        binding.subjects = subjects
        return binding
    }

    static func clusterRoleBinding(_ name: String, roleRef: RoleRef, _ subjects: [Subject]) -> ClusterRoleBinding {
        var binding = ClusterRoleBinding()
        binding.metadata = metadata(name, namespace: nil)
        binding.roleRef = roleRef
        binding.subjects = subjects
        return binding
    }
}

/// FixedAdmissionLookups answers admission lookups from fixed lists.
struct FixedAdmissionLookups: AdmissionLookups {
    var namespaces: [Namespace] = []
    var serviceAccounts: [ServiceAccount] = []
    var quotas: [ResourceQuota] = []
    var limitRanges: [LimitRange] = []

    func namespace(named name: String) -> Namespace? { namespaces.first { $0.metadata?.name == name } }
    func serviceAccounts(inNamespace namespace: String) -> [ServiceAccount] {
        serviceAccounts.filter { $0.metadata?.namespace == namespace }
    }
    func resourceQuotas(inNamespace namespace: String) -> [ResourceQuota] { quotas.filter { $0.metadata?.namespace == namespace } }
    func limitRanges(inNamespace namespace: String) -> [LimitRange] { limitRanges.filter { $0.metadata?.namespace == namespace } }

    static func namespace(_ name: String, terminating: Bool = false) -> Namespace {
        var namespace = Namespace()
        namespace.metadata = PipelineFixtures.metadata(name, namespace: nil)
        var status = NamespaceStatus()
        status.phase = terminating ? "Terminating" : "Active"
        namespace.status = status
        return namespace
    }

    static func serviceAccount(_ name: String, namespace: String = "default") -> ServiceAccount {
        var account = ServiceAccount()
        account.metadata = PipelineFixtures.metadata(name, namespace: namespace)
        return account
    }
}
