import Api
import Testing

@Suite("Pipeline: admission plugins")
struct PipelineAdmissionTests {
    typealias F = PipelineFixtures
    static let admin = UserInfo(name: "admin", groups: ["system:masters"])

    static func createPod(_ pod: Pod, lookups: FixedAdmissionLookups) -> AdmissionRequest {
        AdmissionRequest(
            attributes: RequestAttributes(user: admin, verb: .create, type: Pod.resourceType, namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? ""),
            object: pod, oldObject: nil, lookups: lookups)
    }

    static let defaultLookups = FixedAdmissionLookups(
        namespaces: [FixedAdmissionLookups.namespace("default")], serviceAccounts: [FixedAdmissionLookups.serviceAccount("default")])

    @Test("the chain is built from the flag in Kubernetes' order; unknown names list the known plugins")
    func chainFromFlag() throws {
        let chain = try AdmissionChain.make(enabled: ["ResourceQuota,AlwaysPullImages", "NamespaceLifecycle"])
        #expect(chain.pluginNames == ["NamespaceLifecycle", "AlwaysPullImages", "ResourceQuota"])
        #expect(throws: AdmissionConfigurationError(
            message: "--enable-admission-plugins: unknown admission plugin \"PodSecurity\"; known plugins: AlwaysPullImages, DefaultTolerationSeconds, LimitRanger, NamespaceLifecycle, ResourceQuota, ServiceAccount")) {
            try AdmissionChain.make(enabled: ["NamespaceLifecycle,PodSecurity"])
        }
        #expect(try AdmissionChain.make(enabled: AdmissionChain.defaultEnabled).pluginNames == [
            "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultTolerationSeconds", "ResourceQuota",
        ])
        var negative = AdmissionOptions()
        negative.defaultUnreachableTolerationSeconds = -1
        #expect(throws: AdmissionConfigurationError(message: "--default-unreachable-toleration-seconds must not be negative, not -1")) {
            try AdmissionChain.make(enabled: AdmissionChain.defaultEnabled, options: negative)
        }
    }

    @Test("NamespaceLifecycle refuses creates in missing and terminating namespaces and deleting system namespaces")
    func namespaceLifecycle() throws {
        let plugin = NamespaceLifecycleAdmission()
        let lookups = FixedAdmissionLookups(namespaces: [FixedAdmissionLookups.namespace("default"), FixedAdmissionLookups.namespace("leaving", terminating: true)])
        var good = Self.createPod(F.pod(), lookups: lookups)
        try plugin.admit(&good)
        var missing = Self.createPod(F.pod(namespace: "nowhere"), lookups: lookups)
        #expect(throws: ApiError.notFound(Namespace.resourceType, "nowhere")) { try plugin.admit(&missing) }
        var terminating = Self.createPod(F.pod(namespace: "leaving"), lookups: lookups)
        do {
            try plugin.admit(&terminating)
            Issue.record("a terminating namespace must refuse new pods")
        } catch {
            #expect(error.code == 403)
            #expect(error.message == "pods \"web\" is forbidden: unable to create new content in namespace leaving because it is being terminated")
        }
        var deleteSystem = AdmissionRequest(
            attributes: RequestAttributes(user: Self.admin, verb: .delete, type: Namespace.resourceType, name: "kube-system"),
            object: nil, oldObject: FixedAdmissionLookups.namespace("kube-system"), lookups: lookups)
        #expect(throws: ApiError.admissionForbidden(deleteSystem.attributes, "this namespace may not be deleted")) { try plugin.admit(&deleteSystem) }
        var deleteOther = AdmissionRequest(
            attributes: RequestAttributes(user: Self.admin, verb: .delete, type: Namespace.resourceType, name: "leaving"),
            object: nil, oldObject: nil, lookups: lookups)
        try plugin.admit(&deleteOther)
    }

    @Test("ServiceAccount gives pods the default account and refuses a missing one with Kubernetes' message")
    func serviceAccount() throws {
        let plugin = ServiceAccountAdmission()
        var request = Self.createPod(F.pod(), lookups: Self.defaultLookups)
        try plugin.admit(&request)
        #expect((request.object as? Pod)?.spec?.serviceAccountName == "default")
        var pod = F.pod()
        pod.spec?.serviceAccountName = "builder"
        var missing = Self.createPod(pod, lookups: Self.defaultLookups)
        do {
            try plugin.admit(&missing)
            Issue.record("a missing service account must be refused")
        } catch {
            #expect(error.message == "pods \"web\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found")
        }
    }

    @Test("AlwaysPullImages sets Always on every container and init container")
    func alwaysPullImages() throws {
        var pod = F.pod(containers: [F.container("a"), F.container("b")])
        pod.spec?.initContainers = [F.container("setup")]
        pod.spec?.containers[0].imagePullPolicy = "Never"
        var request = Self.createPod(pod, lookups: Self.defaultLookups)
        try AlwaysPullImagesAdmission().admit(&request)
        let admitted = try #require(request.object as? Pod)
        #expect(admitted.spec?.containers.map(\.imagePullPolicy) == ["Always", "Always"])
        #expect(admitted.spec?.initContainers.map(\.imagePullPolicy) == ["Always"])
    }

    static func toleration(_ key: String?, effect: String?, seconds: Int64? = nil, operator op: String = "Exists") -> Toleration {
        Toleration(key: key, operator: op, effect: effect, tolerationSeconds: seconds)
    }

    @Test("DefaultTolerationSeconds gives a pod without them NoExecute tolerations of not-ready and unreachable for 300 s")
    func defaultTolerations() throws {
        var pod = F.pod()
        pod.spec?.tolerations = [Self.toleration("dedicated", effect: "NoSchedule", operator: "Equal")]
        pod.spec?.tolerations[0].value = "gpu"
        var request = Self.createPod(pod, lookups: Self.defaultLookups)
        try DefaultTolerationSecondsAdmission().admit(&request)
        let admitted = try #require(request.object as? Pod)
        #expect(admitted.spec?.tolerations == [
            pod.spec!.tolerations[0],
            Self.toleration("node.kubernetes.io/not-ready", effect: "NoExecute", seconds: 300),
            Self.toleration("node.kubernetes.io/unreachable", effect: "NoExecute", seconds: 300),
        ])
    }

    @Test("DefaultTolerationSeconds keeps the pod's own tolerations of the two taints (a key or effect left empty covers them) and takes its seconds from the flags")
    func defaultTolerationsRespectThePod() throws {
        let plugin = DefaultTolerationSecondsAdmission(notReadySeconds: 30, unreachableSeconds: 5)
        // Its own unreachable toleration (forever) stays; only not-ready is added, with the flag's seconds.
        var own = F.pod()
        own.spec?.tolerations = [Self.toleration("node.kubernetes.io/unreachable", effect: "NoExecute")]
        var request = Self.createPod(own, lookups: Self.defaultLookups)
        try plugin.admit(&request)
        #expect((request.object as? Pod)?.spec?.tolerations == [
            Self.toleration("node.kubernetes.io/unreachable", effect: "NoExecute"),
            Self.toleration("node.kubernetes.io/not-ready", effect: "NoExecute", seconds: 30),
        ])
        // An empty key with Exists tolerates every taint; an empty effect every effect.
        var everything = F.pod()
        everything.spec?.tolerations = [Self.toleration(nil, effect: nil)]
        request = Self.createPod(everything, lookups: Self.defaultLookups)
        try plugin.admit(&request)
        #expect((request.object as? Pod)?.spec?.tolerations == [Self.toleration(nil, effect: nil)])
        var anyEffect = F.pod()
        anyEffect.spec?.tolerations = [Self.toleration("node.kubernetes.io/not-ready", effect: nil, seconds: 60)]
        request = Self.createPod(anyEffect, lookups: Self.defaultLookups)
        try plugin.admit(&request)
        #expect((request.object as? Pod)?.spec?.tolerations == [
            Self.toleration("node.kubernetes.io/not-ready", effect: nil, seconds: 60),
            Self.toleration("node.kubernetes.io/unreachable", effect: "NoExecute", seconds: 5),
        ])
        // A NoSchedule toleration of the same key does not cover NoExecute.
        var noSchedule = F.pod()
        noSchedule.spec?.tolerations = [Self.toleration("node.kubernetes.io/unreachable", effect: "NoSchedule")]
        request = Self.createPod(noSchedule, lookups: Self.defaultLookups)
        try plugin.admit(&request)
        #expect((request.object as? Pod)?.spec?.tolerations.count == 3)
    }

    @Test("DefaultTolerationSeconds leaves subresources, other kinds and deletions alone")
    func defaultTolerationsOnlyForPods() throws {
        let plugin = DefaultTolerationSecondsAdmission()
        let pod = F.pod()
        var status = AdmissionRequest(
            attributes: RequestAttributes(user: Self.admin, verb: .update, type: Pod.resourceType, subresource: "status", namespace: "default", name: "web"),
            object: pod, oldObject: pod, lookups: Self.defaultLookups)
        try plugin.admit(&status)
        #expect((status.object as? Pod)?.spec?.tolerations == [])
        var deletion = AdmissionRequest(
            attributes: RequestAttributes(user: Self.admin, verb: .delete, type: Pod.resourceType, namespace: "default", name: "web"),
            object: nil, oldObject: pod, lookups: Self.defaultLookups)
        try plugin.admit(&deletion)
        #expect(deletion.object == nil)
        var update = AdmissionRequest(
            attributes: RequestAttributes(user: Self.admin, verb: .update, type: Pod.resourceType, namespace: "default", name: "web"),
            object: pod, oldObject: pod, lookups: Self.defaultLookups)
        try plugin.admit(&update)
        #expect((update.object as? Pod)?.spec?.tolerations.count == 2, "updates are admitted as in Kubernetes (adding tolerations is allowed)")
    }

    static func quota(_ name: String, hard: [String: String], used: [String: String]) -> ResourceQuota {
        var quota = ResourceQuota()
        quota.metadata = F.metadata(name)
        var spec = ResourceQuotaSpec()
        spec.hard = hard.mapValues { Quantity($0) }
        quota.spec = spec
        var status = ResourceQuotaStatus()
        status.hard = spec.hard
        status.used = used.mapValues { Quantity($0) }
        quota.status = status
        return quota
    }

    @Test("ResourceQuota admits within the hard limits and reports the raised usage")
    func quotaWithinLimits() throws {
        var lookups = Self.defaultLookups
        lookups.quotas = [Self.quota("compute", hard: ["pods": "10", "requests.cpu": "1", "limits.memory": "1Gi"], used: ["pods": "3", "requests.cpu": "500m", "limits.memory": "512Mi"])]
        var request = Self.createPod(F.pod(containers: [F.container(requests: ["cpu": "250m"], limits: ["memory": "256Mi"]), F.container("side", requests: ["cpu": "250m"], limits: ["memory": "256Mi"])]), lookups: lookups)
        try ResourceQuotaAdmission().admit(&request)
        let used = try #require(request.quotaStatusUpdates.first?.status?.used)
        #expect(used["pods"]?.string == "4")
        #expect(used["requests.cpu"]?.string == "1")
        #expect(used["limits.memory"]?.string == "1Gi")
    }

    @Test("ResourceQuota refuses what would exceed a hard limit with Kubernetes' message")
    func quotaExceeded() {
        var lookups = Self.defaultLookups
        lookups.quotas = [Self.quota("compute", hard: ["requests.cpu": "1", "limits.memory": "1Gi"], used: ["requests.cpu": "900m", "limits.memory": "0"])]
        var request = Self.createPod(F.pod(containers: [F.container(requests: ["cpu": "200m"], limits: ["memory": "2Gi"])]), lookups: lookups)
        do {
            try ResourceQuotaAdmission().admit(&request)
            Issue.record("an exceeding pod must be refused")
        } catch {
            #expect(error.code == 403)
            #expect(error.message == "pods \"web\" is forbidden: exceeded quota: compute, requested: limits.memory=2Gi,requests.cpu=200m, used: limits.memory=0,requests.cpu=900m, limited: limits.memory=1Gi,requests.cpu=1")
        }
    }

    @Test("ResourceQuota requires pods to state constrained resources, counts objects, and refuses an uncounted quota")
    func quotaRequirements() throws {
        var lookups = Self.defaultLookups
        lookups.quotas = [Self.quota("compute", hard: ["limits.cpu": "2"], used: ["limits.cpu": "0"])]
        var unstated = Self.createPod(F.pod(), lookups: lookups)
        #expect(throws: ApiError.admissionForbidden(unstated.attributes, "failed quota: compute: must specify limits.cpu for: web")) {
            try ResourceQuotaAdmission().admit(&unstated)
        }
        lookups.quotas = [Self.quota("objects", hard: ["count/configmaps": "2"], used: ["count/configmaps": "2"])]
        var configMap = ConfigMap()
        configMap.metadata = F.metadata("settings")
        var third = AdmissionRequest(
            attributes: RequestAttributes(user: Self.admin, verb: .create, type: ConfigMap.resourceType, namespace: "default", name: "settings"),
            object: configMap, oldObject: nil, lookups: lookups)
        #expect(throws: ApiError.admissionForbidden(third.attributes, "exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2")) {
            try ResourceQuotaAdmission().admit(&third)
        }
        lookups.quotas = [Self.quota("fresh", hard: ["pods": "5"], used: [:])]
        var uncounted = Self.createPod(F.pod(), lookups: lookups)
        #expect(throws: ApiError.admissionForbidden(uncounted.attributes, "status unknown for quota: fresh, resource: pods")) {
            try ResourceQuotaAdmission().admit(&uncounted)
        }
    }

    static func limitRange(_ item: LimitRangeItem) -> LimitRange {
        var range = LimitRange()
        range.metadata = F.metadata("limits")
        var spec = LimitRangeSpec()
        spec.limits = [item]
        range.spec = spec
        return range
    }

    @Test("LimitRanger fills default requests and limits into containers")
    func limitRangerDefaults() throws {
        var item = LimitRangeItem()
        item.type = "Container"
        item.default = ["cpu": Quantity("500m"), "memory": Quantity("256Mi")]
        item.defaultRequest = ["cpu": Quantity("100m")]
        var lookups = Self.defaultLookups
        lookups.limitRanges = [Self.limitRange(item)]
        var request = Self.createPod(F.pod(containers: [F.container(), F.container("side", limits: ["cpu": "1"])]), lookups: lookups)
        try LimitRangerAdmission().admit(&request)
        let pod = try #require(request.object as? Pod)
        #expect(pod.spec?.containers[0].resources?.limits["cpu"]?.string == "500m")
        #expect(pod.spec?.containers[0].resources?.limits["memory"]?.string == "256Mi")
        #expect(pod.spec?.containers[0].resources?.requests["cpu"]?.string == "100m")
        #expect(pod.spec?.containers[1].resources?.limits["cpu"]?.string == "1")
    }

    @Test("LimitRanger refuses values outside min and max, and ratios above the bound")
    func limitRangerBounds() {
        var item = LimitRangeItem()
        item.type = "Container"
        item.min = ["cpu": Quantity("100m")]
        item.max = ["memory": Quantity("1Gi")]
        item.maxLimitRequestRatio = ["cpu": Quantity("2")]
        var lookups = Self.defaultLookups
        lookups.limitRanges = [Self.limitRange(item)]
        var request = Self.createPod(F.pod(containers: [F.container(requests: ["cpu": "50m"], limits: ["cpu": "200m", "memory": "2Gi"])]), lookups: lookups)
        do {
            try LimitRangerAdmission().admit(&request)
            Issue.record("out-of-range containers must be refused")
        } catch {
            #expect(error.message == "pods \"web\" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi, cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000]")
        }
        var noLimit = Self.createPod(F.pod(containers: [F.container(requests: ["cpu": "100m"], limits: ["cpu": "150m"])]), lookups: lookups)
        #expect(throws: ApiError.admissionForbidden(noLimit.attributes, "maximum memory usage per Container is 1Gi.  No limit is specified")) {
            try LimitRangerAdmission().admit(&noLimit)
        }
    }
}

@Suite("Pipeline: the whole request pipeline")
struct PipelineRequestPipelineTests {
    @Test("authenticate, authorize, admit and validate a pod create in order, each with its status code")
    func stages() throws {
        let pipeline = RequestPipeline(
            authenticators: AuthenticatorChain([
                StaticTokenAuthenticator(users: [
                    "admin-token": UserInfo(name: "admin", groups: ["system:masters"]),
                    "guest-token": UserInfo(name: "guest"),
                ])
            ]),
            authorizer: AuthorizerChain([RBACAuthorizer(source: DefaultRoles.source)]),
            admission: try AdmissionChain.make(enabled: ["NamespaceLifecycle", "ServiceAccount", "AlwaysPullImages"]))
        #expect(throws: ApiError.unauthorized("Unauthorized: no authenticator recognizes the bearer token")) { try pipeline.authenticate(token: "x") }
        let guest = try pipeline.authenticate(token: "guest-token")
        do {
            try pipeline.authorize(RequestAttributes(user: guest, verb: .create, type: Pod.resourceType, namespace: "default", name: "web"))
            Issue.record("a guest must not create pods")
        } catch {
            #expect(error.code == 403)
        }
        let admin = try pipeline.authenticate(token: "admin-token")
        let attributes = RequestAttributes(user: admin, verb: .create, type: Pod.resourceType, namespace: "default", name: "web")
        try pipeline.authorize(attributes)
        var request = AdmissionRequest(attributes: attributes, object: PipelineFixtures.pod(), oldObject: nil, lookups: PipelineAdmissionTests.defaultLookups)
        try pipeline.admitAndValidate(&request)
        let pod = try #require(request.object as? Pod)
        #expect(pod.spec?.serviceAccountName == "default")
        #expect(pod.spec?.containers[0].imagePullPolicy == "Always")
        var invalid = AdmissionRequest(
            attributes: attributes, object: PipelineFixtures.pod(containers: [PipelineFixtures.container(image: nil)]), oldObject: nil,
            lookups: PipelineAdmissionTests.defaultLookups)
        do {
            try pipeline.admitAndValidate(&invalid)
            Issue.record("a pod without an image must be refused")
        } catch {
            #expect(error.code == 422)
            #expect(error.message == "Pod \"web\" is invalid: spec.containers[0].image: Required value")
        }
    }
}
