import Testing
import Wire

@testable import Api

@Suite struct JSONCodecTests {
    static let kinds = ResourceCatalog.all

    // MARK: Round trips

    /// Every member of every kind, set: JSON -> object -> JSON gives the document back, the object
    /// survives protobuf and a second JSON trip unchanged, and nothing is reported unknown.
    @Test(arguments: kinds)
    func everyFieldOfEveryKindRoundTrips(type: ResourceType) throws {
        var document = JSONSamples.document(for: type.schemaName).objectValue!
        document["kind"] = .string(type.kind)
        document["apiVersion"] = .string(type.apiVersion)
        let (object, unknown) = try type.decodeJSON(.object(document))
        #expect(unknown == [])
        let encoded = type.encodeJSON(object)
        #expect(encoded == .object(document), "\(type): \(encoded.compactText)")
        let again = try type.decodeJSON(encoded).object
        #expect(again.protobufBytes() == object.protobufBytes())
        let fromProtobuf = try type.decode(object.protobufBytes())
        #expect(type.encodeJSON(fromProtobuf) == encoded)
    }

    @Test func objectToJSONToObjectKeepsEveryValue() throws {
        let deployment = Self.sampleDeployment()
        let json = Deployment.resourceType.encodeJSON(deployment)
        let decoded = try #require(try Deployment.resourceType.decodeJSON(json).object as? Deployment)
        #expect(decoded == deployment)
    }

    // MARK: Golden documents (Kubernetes' JSON shapes)

    static let creation = Time(seconds: 1_795_554_000)  // 2026-11-24T21:00:00Z

    @Test func podMatchesKubernetesJSON() throws {
        var pod = Pod()
        var meta = ObjectMeta()
        meta.name = "web"
        meta.namespace = "default"
        meta.uid = "3f1c"
        meta.resourceVersion = "42"
        meta.creationTimestamp = Time(seconds: 1_795_554_000, nanos: 250_000_000)
        meta.labels = ["tier": "front", "app": "web"]
        pod.metadata = meta
        var container = Container()
        container.name = "web"
        container.image = "nginx:1.27"
        container.ports = [ContainerPort(name: "http", containerPort: 80, protocol: "TCP")]
        container.resources = ResourceRequirements(limits: ["memory": Quantity("128Mi"), "cpu": Quantity("500m")])
        var probe = Probe()
        probe.handler = ProbeHandler(httpGet: HTTPGetAction(path: "/healthz", port: IntOrString(type: 1, strVal: "http")))
        probe.initialDelaySeconds = 5
        container.livenessProbe = probe
        container.readinessProbe = Probe(handler: ProbeHandler(tcpSocket: TCPSocketAction(port: IntOrString(type: 0, intVal: 80))))
        var configRef = ConfigMapKeySelector()
        configRef.localObjectReference = LocalObjectReference(name: "settings")
        configRef.key = "mode"
        container.env = [EnvVar(name: "MODE", valueFrom: EnvVarSource(configMapKeyRef: configRef))]
        var spec = PodSpec()
        spec.containers = [container]
        spec.volumes = [Volume(name: "config", volumeSource: VolumeSource(configMap: ConfigMapVolumeSource(localObjectReference: LocalObjectReference(name: "settings"))))]
        spec.terminationGracePeriodSeconds = 30
        pod.spec = spec
        var status = PodStatus()
        status.phase = "Running"
        status.startTime = Self.creation
        status.conditions = [PodCondition(type: "Ready", status: "True", lastTransitionTime: Self.creation)]
        pod.status = status

        let expected = #"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","uid":"3f1c","resourceVersion":"42","creationTimestamp":"2026-11-24T21:00:00Z","labels":{"app":"web","tier":"front"}},"spec":{"volumes":[{"name":"config","configMap":{"name":"settings"}}],"containers":[{"name":"web","image":"nginx:1.27","ports":[{"name":"http","containerPort":80,"protocol":"TCP"}],"env":[{"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"settings","key":"mode"}}}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"}},"livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"initialDelaySeconds":5},"readinessProbe":{"tcpSocket":{"port":80}}}],"terminationGracePeriodSeconds":30},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-24T21:00:00Z"}],"startTime":"2026-11-24T21:00:00Z"}}"#
        #expect(Pod.resourceType.encodeJSON(pod).compactText == expected)
        // And back: Kubernetes' document decodes to the same pod (times lose their fraction).
        let decoded = try #require(try Pod.resourceType.decodeJSON(JSONValue(parsing: expected)).object as? Pod)
        pod.metadata?.creationTimestamp = Self.creation
        #expect(decoded == pod)
    }

    static func sampleDeployment() -> Deployment {
        var deployment = Deployment()
        deployment.metadata = ObjectMeta(name: "web", namespace: "shop", generation: 3)
        var spec = DeploymentSpec()
        spec.replicas = 3
        spec.selector = LabelSelector(matchLabels: ["app": "web"])
        var template = PodTemplateSpec()
        template.metadata = ObjectMeta(labels: ["app": "web"])
        template.spec = PodSpec(containers: [Container(name: "web", image: "nginx")])
        spec.template = template
        spec.strategy = DeploymentStrategy(
            type: "RollingUpdate",
            rollingUpdate: RollingUpdateDeployment(maxUnavailable: IntOrString(type: 0, intVal: 0), maxSurge: IntOrString(type: 1, strVal: "25%")))
        deployment.spec = spec
        var status = DeploymentStatus()
        status.observedGeneration = 3
        status.replicas = 3
        status.conditions = [
            DeploymentCondition(type: "Available", status: "True", reason: "MinimumReplicasAvailable", lastUpdateTime: creation, lastTransitionTime: creation)
        ]
        deployment.status = status
        return deployment
    }

    @Test func deploymentMatchesKubernetesJSON() {
        let expected = #"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"shop","generation":3},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}}},"status":{"observedGeneration":3,"replicas":3,"conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable","lastUpdateTime":"2026-11-24T21:00:00Z","lastTransitionTime":"2026-11-24T21:00:00Z"}]}}"#
        #expect(Deployment.resourceType.encodeJSON(Self.sampleDeployment()).compactText == expected)
    }

    @Test func serviceMatchesKubernetesJSON() {
        var service = Service()
        service.metadata = ObjectMeta(name: "web", namespace: "shop")
        var spec = ServiceSpec()
        spec.type = "ClusterIP"
        spec.selector = ["app": "web"]
        spec.ports = [
            ServicePort(name: "http", protocol: "TCP", port: 80, targetPort: IntOrString(type: 1, strVal: "http")),
            ServicePort(name: "metrics", protocol: "TCP", port: 9090, targetPort: IntOrString(type: 0, intVal: 9091)),
        ]
        spec.clusterIP = "127.97.0.10"
        spec.clusterIPs = ["127.97.0.10"]
        service.spec = spec
        service.status = ServiceStatus(loadBalancer: LoadBalancerStatus())
        let expected = #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"shop"},"spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":"http"},{"name":"metrics","protocol":"TCP","port":9090,"targetPort":9091}],"selector":{"app":"web"},"clusterIP":"127.97.0.10","type":"ClusterIP","clusterIPs":["127.97.0.10"]},"status":{"loadBalancer":{}}}"#
        #expect(Service.resourceType.encodeJSON(service).compactText == expected)
    }

    @Test func secretDataIsBase64() throws {
        var secret = Secret()
        secret.metadata = ObjectMeta(name: "db")
        secret.data = ["password": Array("s3cr3t".utf8), "user": Array("admin".utf8)]
        secret.type = "Opaque"
        let expected = #"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db"},"data":{"password":"czNjcjN0","user":"YWRtaW4="},"type":"Opaque"}"#
        #expect(Secret.resourceType.encodeJSON(secret).compactText == expected)
        let decoded = try #require(try Secret.resourceType.decodeJSON(JSONValue(parsing: expected)).object as? Secret)
        #expect(decoded.data["user"] == Array("admin".utf8))
        #expect(throws: JSONDecodingError(path: "data[user]", reason: "illegal base64 data; expected standard base64 with padding, such as \"aGVsbG8=\"")) {
            try Secret.resourceType.decodeJSON(JSONValue(parsing: #"{"data":{"user":"not base64!"}}"#))
        }
    }

    @Test func listHasKindMetadataAndItemsWithoutTypes() {
        var listMeta = ListMeta()
        listMeta.resourceVersion = "17"
        listMeta.continue = "token"
        let pods: [any KubernetesObject] = [Pod(metadata: ObjectMeta(name: "a")), Pod(metadata: ObjectMeta(name: "b"))]
        let json = Pod.resourceType.encodeJSONList(items: pods, listMeta: listMeta)
        #expect(json.compactText == #"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"17","continue":"token"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#)
    }

    // MARK: What kubectl sends

    @Test func decodesYAMLConvertedManifests() throws {
        let manifest = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":null},
             "spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":1,"memory":"64Mi"},"limits":{"cpu":0.5}},
               "ports":[{"containerPort":8080}],"livenessProbe":{"httpGet":{"port":8080},"periodSeconds":10}}],
               "nodeSelector":{"disk":"ssd"},"securityContext":null}}
            """#
        let (object, unknown) = try Pod.resourceType.decodeJSON(JSONValue(parsing: manifest))
        #expect(unknown == [])
        let pod = try #require(object as? Pod)
        let container = try #require(pod.spec?.containers.first)
        #expect(container.resources?.requests["cpu"] == Quantity("1"))
        #expect(container.resources?.limits["cpu"] == Quantity("0.5"))
        #expect(container.ports.first?.containerPort == 8080)
        #expect(container.livenessProbe?.handler?.httpGet?.port == IntOrString(type: 0, intVal: 8080))
        #expect(pod.spec?.securityContext == nil)
        #expect(pod.metadata?.labels == [:])
    }

    @Test func timesAcceptRFC3339WithFractionsAndOffsets() throws {
        var context = JSONDecodingContext()
        #expect(try Time(json: "2026-11-24T22:30:00+01:30", at: .root, context: &context) == Time(seconds: 1_795_554_000))
        #expect(try MicroTime(json: "2026-11-24T21:00:00.5Z", at: .root, context: &context) == MicroTime(seconds: 1_795_554_000, nanos: 500_000_000))
        #expect(MicroTime(seconds: 1_795_554_000, nanos: 123_456_789).jsonValue() == "2026-11-24T21:00:00.123456Z")
        #expect(Time(seconds: -1).jsonValue() == "1969-12-31T23:59:59Z")
        #expect(Time(seconds: 951_782_400).jsonValue() == "2000-02-29T00:00:00Z")
        #expect(throws: JSONDecodingError(path: "", reason: #""2026-02-30T00:00:00Z" is not an RFC 3339 time; expected such as "2026-11-24T21:00:00Z""#)) {
            try Time(json: "2026-02-30T00:00:00Z", at: .root, context: &context)
        }
    }

    // MARK: Errors and unknown fields

    @Test(arguments: [
        (#"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":"abc"}]}]}}"#,
         #"spec.containers[0].ports[0].containerPort: expected an integer, got "abc""#),
        (#"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":99999999999}]}]}}"#,
         "spec.containers[0].ports[0].containerPort: expected an integer from -2147483648 to 2147483647, got 99999999999"),
        (#"{"spec":{"containers":{"name":"c"}}}"#, "spec.containers: expected an array, got an object"),
        (#"{"metadata":{"labels":{"app":1}}}"#, "metadata.labels[app]: expected a string, got 1"),
        (#"{"spec":{"hostNetwork":"yes"}}"#, #"spec.hostNetwork: expected a boolean, got "yes""#),
        (#"{"spec":{"containers":[{"resources":{"limits":{"cpu":"lots"}}}]}}"#,
         #"spec.containers[0].resources.limits[cpu]: "lots" is not a quantity: "#),
        (#"{"spec":{"containers":[{"livenessProbe":{"httpGet":{"port":true}}}]}}"#,
         "spec.containers[0].livenessProbe.httpGet.port: expected an integer or a string, got true"),
        (#"{"metadata":{"creationTimestamp":"yesterday"}}"#, #"metadata.creationTimestamp: "yesterday" is not an RFC 3339 time"#),
        (#"{"apiVersion":"apps/v1","kind":"Pod"}"#, "the API version in the data (apps/v1) does not match the expected API version (v1)"),
        (#"{"apiVersion":"v1","kind":"Service"}"#, "the kind in the data (Service) does not match the expected kind (Pod)"),
        (#"[1]"#, "expected a Pod object, got an array"),
    ])
    func wrongTypesNameThePath(document: String, message: String) throws {
        do {
            let value = try Pod.resourceType.decodeJSON(JSONValue(parsing: document))
            Issue.record("decoded \(value.object)")
        } catch {
            #expect("\(error)".hasPrefix(message), "\(error)")
        }
    }

    @Test func unknownFieldsAreCollectedWithFullPaths() throws {
        let document = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labelz":{}},"spec":{"foo":1,
             "containers":[{"name":"a"},{"name":"b","imagePullPolice":"Always","ports":[{"containerPort":1,"hostPorts":2}]}],
             "volumes":[{"name":"v","configMap":{"name":"c","itemz":[]},"emptyDirr":{}}]}}
            """#
        let (_, unknown) = try Pod.resourceType.decodeJSON(JSONValue(parsing: document))
        #expect(unknown == [
            "metadata.labelz", "spec.foo", "spec.containers[1].imagePullPolice", "spec.containers[1].ports[0].hostPorts",
            "spec.volumes[0].configMap.itemz", "spec.volumes[0].emptyDirr",
        ])
        #expect(throws: ApiError.badRequest(#"strict decoding error: unknown field "metadata.labelz", unknown field "spec.foo""#)) {
            try FieldValidation.strict.check(unknownFields: ["metadata.labelz", "spec.foo"])
        }
        #expect(try FieldValidation.warn.check(unknownFields: ["spec.foo"]) == [#"unknown field "spec.foo""#])
        #expect(try FieldValidation.ignore.check(unknownFields: ["spec.foo"]) == [])
    }

    @Test func decodeErrorsBecomeBadRequests() throws {
        let error = JSONDecodingError(path: "spec.replicas", reason: "expected an integer, got \"x\"")
        let apiError = error.apiError(for: Deployment.resourceType)
        #expect(apiError.code == 400)
        #expect(apiError.message == #"Deployment in version "v1" cannot be handled as a Deployment: spec.replicas: expected an integer, got "x""#)
    }

    @Test func nestedObjectsMayCarryTheirType() throws {
        // volumeClaimTemplates are full PersistentVolumeClaims; manifests often give their type.
        let document = #"{"spec":{"volumeClaimTemplates":[{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data"}}]}}"#
        let (object, unknown) = try StatefulSet.resourceType.decodeJSON(JSONValue(parsing: document))
        #expect(unknown == [])
        #expect((object as? StatefulSet)?.spec?.volumeClaimTemplates.first?.metadata?.name == "data")
    }
}
