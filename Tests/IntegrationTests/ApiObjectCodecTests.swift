import Api
import Testing
import Wire

/// Round trips of fully populated Kubernetes objects through the generated protobuf codec
/// (proto/api), plus hand-built bytes that pin the upstream Kubernetes field numbers.
@Suite("API object codec")
struct ApiObjectCodecTests {
    @Test("a fully populated Pod survives encode and decode")
    func podRoundTrip() throws {
        let pod = Samples.pod()
        let bytes = pod.protobufBytes()
        let decoded = try Pod(protobuf: bytes)
        #expect(decoded == pod)
        // Encoding is deterministic (maps are written in key order), so the bytes repeat.
        #expect(decoded.protobufBytes() == bytes)
        #expect(pod.protobufSize == bytes.count)
    }

    @Test("a fully populated Deployment survives encode and decode")
    func deploymentRoundTrip() throws {
        let deployment = Samples.deployment()
        let bytes = deployment.protobufBytes()
        let decoded = try Deployment(protobuf: bytes)
        #expect(decoded == deployment)
        #expect(decoded.protobufBytes() == bytes)
        #expect(decoded.spec?.strategy?.rollingUpdate?.maxSurge == IntOrString(type: 1, strVal: "25%"))
    }

    @Test("a fully populated Service survives encode and decode")
    func serviceRoundTrip() throws {
        let service = Samples.service()
        let bytes = service.protobufBytes()
        let decoded = try Service(protobuf: bytes)
        #expect(decoded == service)
        #expect(decoded.protobufBytes() == bytes)
    }

    @Test("lists, watch events and statuses round-trip too")
    func envelopes() throws {
        let list = PodList(metadata: ListMeta(resourceVersion: "42", continue: "token", remainingItemCount: 7), items: [Samples.pod(), Pod()])
        #expect(try PodList(protobuf: list.protobufBytes()) == list)

        let event = WatchEvent(type: "ADDED", object: RawExtension(raw: Samples.pod().protobufBytes()))
        let decodedEvent = try WatchEvent(protobuf: event.protobufBytes())
        #expect(decodedEvent == event)
        #expect(try Pod(protobuf: decodedEvent.object?.raw ?? []) == Samples.pod())

        let status = Status(
            metadata: ListMeta(), status: "Failure", message: "pods \"web\" not found", reason: "NotFound",
            details: StatusDetails(name: "web", group: "", kind: "pods", uid: "u", causes: [StatusCause(reason: "FieldValueRequired", message: "required", field: "spec.containers")], retryAfterSeconds: 1),
            code: 404)
        #expect(try Status(protobuf: status.protobufBytes()) == status)
    }

    @Test("absent fields stay absent and empty strings stay present")
    func presence() throws {
        let meta = ObjectMeta(name: "", generation: 0)
        let decoded = try ObjectMeta(protobuf: meta.protobufBytes())
        #expect(decoded.name == "")
        #expect(decoded.generation == 0)
        #expect(decoded.namespace == nil)
        #expect(decoded.creationTimestamp == nil)
        #expect(try Pod(protobuf: Pod().protobufBytes()) == Pod())
    }

    @Test("field numbers are Kubernetes' own")
    func upstreamFieldNumbers() throws {
        // Pod{metadata(1){name(1) "web", namespace(3) "default"},
        //     spec(2){containers(2){name(1) "c", image(2) "nginx"}, nodeName(10) "n1"}}
        let podBytes: [UInt8] =
            [0x0A, 0x0E, 0x0A, 0x03] + Array("web".utf8) + [0x1A, 0x07] + Array("default".utf8)
            + [0x12, 0x10, 0x12, 0x0A, 0x0A, 0x01] + Array("c".utf8) + [0x12, 0x05] + Array("nginx".utf8)
            + [0x52, 0x02] + Array("n1".utf8)
        let pod = Pod(
            metadata: ObjectMeta(name: "web", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "c", image: "nginx")], nodeName: "n1"))
        #expect(try Pod(protobuf: podBytes) == pod)
        #expect(pod.protobufBytes() == podBytes)

        // Service{spec(2){ports(1){port(3) 80, targetPort(4) IntOrString{type(1) 0, intVal(2) 8080}}}}
        let serviceBytes: [UInt8] = [0x12, 0x0B, 0x0A, 0x09, 0x18, 0x50, 0x22, 0x05, 0x08, 0x00, 0x10, 0x90, 0x3F]
        let service = Service(spec: ServiceSpec(ports: [ServicePort(port: 80, targetPort: IntOrString(type: 0, intVal: 8080))]))
        #expect(try Service(protobuf: serviceBytes) == service)
        #expect(service.protobufBytes() == serviceBytes)

        // Deployment{spec(2){replicas(1) 3, progressDeadlineSeconds(9) 600}}; Quantity{string(1) "1Gi"}
        let deploymentBytes: [UInt8] = [0x12, 0x05, 0x08, 0x03, 0x48, 0xD8, 0x04]
        #expect(try Deployment(protobuf: deploymentBytes) == Deployment(spec: DeploymentSpec(replicas: 3, progressDeadlineSeconds: 600)))
        #expect(Quantity(string: "1Gi").protobufBytes() == [0x0A, 0x03] + Array("1Gi".utf8))
    }
}

/// Samples builds objects with every field of the kind set, down to the leaves.
enum Samples {
    static func time(_ seconds: Int64, nanos: Int32 = 0) -> Time { Time(seconds: seconds, nanos: nanos) }
    static func quantity(_ text: String) -> Quantity { Quantity(string: text) }
    static func port(_ number: Int32) -> IntOrString { IntOrString(type: 0, intVal: number) }
    static func port(_ name: String) -> IntOrString { IntOrString(type: 1, strVal: name) }

    static func metadata(name: String, kind: String) -> ObjectMeta {
        ObjectMeta(
            name: name, generateName: "\(name)-", namespace: "default", selfLink: "",
            uid: "0d9b6c7e-1f0a-4c1e-9d51-\(name.count)", resourceVersion: "1234", generation: 3,
            creationTimestamp: time(1_714_550_400), deletionTimestamp: time(1_714_560_000, nanos: 5),
            deletionGracePeriodSeconds: 30,
            labels: ["app": name, "tier": "frontend", "empty": ""],
            annotations: ["note": "sample \(kind)", "kubectl.kubernetes.io/last-applied-configuration": "{}"],
            ownerReferences: [
                OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "owner", uid: "owner-uid", controller: true, blockOwnerDeletion: true),
                OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "other", uid: "other-uid", controller: false, blockOwnerDeletion: false),
            ],
            finalizers: ["example.com/cleanup", "foregroundDeletion"],
            managedFields: [
                ManagedFieldsEntry(
                    manager: "kubectl", operation: "Apply", apiVersion: "v1", time: time(1_714_550_401), fieldsType: "FieldsV1",
                    fieldsV1: FieldsV1(raw: Array(#"{"f:metadata":{}}"#.utf8)), subresource: "")
            ])
    }

    static func labelSelector() -> LabelSelector {
        LabelSelector(
            matchLabels: ["app": "web"],
            matchExpressions: [
                LabelSelectorRequirement(key: "tier", operator: "In", values: ["frontend", "edge"]),
                LabelSelectorRequirement(key: "canary", operator: "DoesNotExist", values: []),
            ])
    }

    static func probe(_ handler: ProbeHandler) -> Probe {
        Probe(
            handler: handler, initialDelaySeconds: 5, timeoutSeconds: 2, periodSeconds: 10, successThreshold: 1,
            failureThreshold: 3, terminationGracePeriodSeconds: 15)
    }

    static func container(_ name: String) -> Container {
        Container(
            name: name, image: "registry.local/\(name):1.0", command: ["/bin/server"], args: ["--port", "8080", "--verbose"],
            workingDir: "/srv",
            ports: [
                ContainerPort(name: "http", hostPort: 18080, containerPort: 8080, protocol: "TCP", hostIP: "127.95.0.1"),
                ContainerPort(name: "dns", containerPort: 53, protocol: "UDP"),
            ],
            envFrom: [
                EnvFromSource(prefix: "CFG_", configMapRef: ConfigMapEnvSource(localObjectReference: LocalObjectReference(name: "config"), optional: true)),
                EnvFromSource(secretRef: SecretEnvSource(localObjectReference: LocalObjectReference(name: "creds"), optional: false)),
            ],
            env: [
                EnvVar(name: "PLAIN", value: "value"),
                EnvVar(name: "POD_NAME", valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(apiVersion: "v1", fieldPath: "metadata.name"))),
                EnvVar(name: "CPU", valueFrom: EnvVarSource(resourceFieldRef: ResourceFieldSelector(containerName: name, resource: "limits.cpu", divisor: quantity("1m")))),
                EnvVar(name: "MODE", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(localObjectReference: LocalObjectReference(name: "config"), key: "mode", optional: true))),
                EnvVar(name: "TOKEN", valueFrom: EnvVarSource(secretKeyRef: SecretKeySelector(localObjectReference: LocalObjectReference(name: "creds"), key: "token", optional: false))),
            ],
            resources: ResourceRequirements(
                limits: ["cpu": quantity("500m"), "memory": quantity("256Mi")],
                requests: ["cpu": quantity("250m"), "memory": quantity("128Mi"), "ephemeral-storage": quantity("1Gi")]),
            restartPolicy: "Always",
            volumeMounts: [
                VolumeMount(name: "data", readOnly: false, mountPath: "/data", subPath: "sub", mountPropagation: "None"),
                VolumeMount(name: "config", readOnly: true, mountPath: "/etc/config", subPathExpr: "$(POD_NAME)"),
            ],
            livenessProbe: probe(ProbeHandler(httpGet: HTTPGetAction(
                path: "/healthz", port: port("http"), host: "127.0.0.1", scheme: "HTTP",
                httpHeaders: [HTTPHeader(name: "X-Probe", value: "1")]))),
            readinessProbe: probe(ProbeHandler(tcpSocket: TCPSocketAction(port: port(8080), host: "localhost"))),
            startupProbe: probe(ProbeHandler(exec: ExecAction(command: ["cat", "/tmp/ready"]))),
            lifecycle: Lifecycle(
                postStart: LifecycleHandler(exec: ExecAction(command: ["/bin/warm-up"])),
                preStop: LifecycleHandler(sleep: SleepAction(seconds: 5)), stopSignal: "SIGTERM"),
            terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "FallbackToLogsOnError",
            imagePullPolicy: "IfNotPresent",
            securityContext: SecurityContext(
                capabilities: Capabilities(add: ["NET_BIND_SERVICE"], drop: ["ALL"]), privileged: false,
                seLinuxOptions: SELinuxOptions(user: "u", role: "r", type: "t", level: "s0"), runAsUser: 1000, runAsGroup: 1000,
                runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, procMount: "Default",
                seccompProfile: SeccompProfile(type: "RuntimeDefault"), appArmorProfile: AppArmorProfile(type: "Localhost", localhostProfile: "skiff")),
            stdin: true, stdinOnce: false, tty: true)
    }

    static func podSpec() -> PodSpec {
        let term = PodAffinityTerm(
            labelSelector: labelSelector(), namespaces: ["default"], topologyKey: "kubernetes.io/hostname",
            namespaceSelector: LabelSelector(matchLabels: ["team": "a"]), matchLabelKeys: ["pod-template-hash"], mismatchLabelKeys: ["other"])
        return PodSpec(
            volumes: [
                Volume(name: "data", volumeSource: VolumeSource(emptyDir: EmptyDirVolumeSource(medium: "Memory", sizeLimit: quantity("64Mi")))),
                Volume(name: "host", volumeSource: VolumeSource(hostPath: HostPathVolumeSource(path: "/var/log", type: "Directory"))),
                Volume(name: "config", volumeSource: VolumeSource(configMap: ConfigMapVolumeSource(
                    localObjectReference: LocalObjectReference(name: "config"), items: [KeyToPath(key: "a", path: "a.conf", mode: 0o400)],
                    defaultMode: 0o644, optional: false))),
                Volume(name: "secret", volumeSource: VolumeSource(secret: SecretVolumeSource(
                    secretName: "creds", items: [KeyToPath(key: "token", path: "token")], defaultMode: 0o600, optional: true))),
                Volume(name: "claim", volumeSource: VolumeSource(persistentVolumeClaim: PersistentVolumeClaimVolumeSource(claimName: "pvc", readOnly: false))),
                Volume(name: "info", volumeSource: VolumeSource(downwardAPI: DownwardAPIVolumeSource(
                    items: [DownwardAPIVolumeFile(path: "labels", fieldRef: ObjectFieldSelector(fieldPath: "metadata.labels"), mode: 0o444)],
                    defaultMode: 0o644))),
                Volume(name: "projected", volumeSource: VolumeSource(projected: ProjectedVolumeSource(
                    sources: [
                        VolumeProjection(secret: SecretProjection(localObjectReference: LocalObjectReference(name: "creds"), items: [KeyToPath(key: "k", path: "p")], optional: true)),
                        VolumeProjection(configMap: ConfigMapProjection(localObjectReference: LocalObjectReference(name: "config"), optional: false)),
                        VolumeProjection(downwardAPI: DownwardAPIProjection(items: [DownwardAPIVolumeFile(
                            path: "cpu", resourceFieldRef: ResourceFieldSelector(containerName: "web", resource: "requests.cpu"))])),
                        VolumeProjection(serviceAccountToken: ServiceAccountTokenProjection(audience: "skiff", expirationSeconds: 3600, path: "token")),
                    ],
                    defaultMode: 0o420))),
                Volume(name: "nfs", volumeSource: VolumeSource(nfs: NFSVolumeSource(server: "127.0.0.1", path: "/export", readOnly: true))),
                Volume(name: "csi", volumeSource: VolumeSource(csi: CSIVolumeSource(
                    driver: "csi.example.com", readOnly: true, fsType: "ext4", volumeAttributes: ["size": "1"],
                    nodePublishSecretRef: LocalObjectReference(name: "csi-secret")))),
                Volume(name: "scratch", volumeSource: VolumeSource(ephemeral: EphemeralVolumeSource(volumeClaimTemplate: PersistentVolumeClaimTemplate(
                    metadata: ObjectMeta(labels: ["kind": "scratch"]),
                    spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: VolumeResourceRequirements(requests: ["storage": quantity("1Gi")])))))),
                Volume(name: "image", volumeSource: VolumeSource(image: ImageVolumeSource(reference: "registry.local/data:1", pullPolicy: "IfNotPresent"))),
            ],
            initContainers: [container("init")],
            containers: [container("web"), container("sidecar")],
            restartPolicy: "Always", terminationGracePeriodSeconds: 30, activeDeadlineSeconds: 3600, dnsPolicy: "ClusterFirst",
            nodeSelector: ["disk": "ssd", "kubernetes.io/os": "linux"], serviceAccountName: "web", serviceAccount: "web",
            automountServiceAccountToken: false, nodeName: "node-1", hostNetwork: false, hostPID: false, hostIPC: false,
            shareProcessNamespace: true,
            securityContext: PodSecurityContext(
                seLinuxOptions: SELinuxOptions(level: "s0:c1"), runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true,
                supplementalGroups: [3000, 4000], fsGroup: 2000, sysctls: [Sysctl(name: "net.core.somaxconn", value: "1024")],
                fsGroupChangePolicy: "OnRootMismatch", seccompProfile: SeccompProfile(type: "Localhost", localhostProfile: "p.json"),
                appArmorProfile: AppArmorProfile(type: "RuntimeDefault")),
            imagePullSecrets: [LocalObjectReference(name: "registry")],
            hostname: "web-0", subdomain: "web",
            affinity: Affinity(
                nodeAffinity: NodeAffinity(
                    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: [
                        NodeSelectorTerm(
                            matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["a", "b"])],
                            matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "NotIn", values: ["node-9"])])
                    ]),
                    preferredDuringSchedulingIgnoredDuringExecution: [
                        PreferredSchedulingTerm(weight: 50, preference: NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "cores", operator: "Gt", values: ["4"])]))
                    ]),
                podAffinity: PodAffinity(
                    requiredDuringSchedulingIgnoredDuringExecution: [term],
                    preferredDuringSchedulingIgnoredDuringExecution: [WeightedPodAffinityTerm(weight: 10, podAffinityTerm: term)]),
                podAntiAffinity: PodAntiAffinity(
                    requiredDuringSchedulingIgnoredDuringExecution: [term],
                    preferredDuringSchedulingIgnoredDuringExecution: [WeightedPodAffinityTerm(weight: 100, podAffinityTerm: term)])),
            schedulerName: "default-scheduler",
            tolerations: [
                Toleration(key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300),
                Toleration(key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule"),
            ],
            hostAliases: [HostAlias(ip: "127.0.0.2", hostnames: ["db.local", "cache.local"])],
            priorityClassName: "high", priority: 1000,
            dnsConfig: PodDNSConfig(nameservers: ["127.97.0.10"], searches: ["svc.cluster.local"], options: [PodDNSConfigOption(name: "ndots", value: "2"), PodDNSConfigOption(name: "edns0")]),
            readinessGates: [PodReadinessGate(conditionType: "example.com/ready")],
            runtimeClassName: "runc", enableServiceLinks: false, preemptionPolicy: "PreemptLowerPriority",
            overhead: ["cpu": quantity("10m")],
            topologySpreadConstraints: [
                TopologySpreadConstraint(
                    maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: labelSelector(), minDomains: 2,
                    nodeAffinityPolicy: "Honor", nodeTaintsPolicy: "Ignore", matchLabelKeys: ["pod-template-hash"])
            ],
            setHostnameAsFQDN: false, os: PodOS(name: "linux"), hostUsers: true,
            schedulingGates: [PodSchedulingGate(name: "example.com/wait")],
            resources: ResourceRequirements(limits: ["memory": quantity("1Gi")]))
    }

    static func containerStatus(_ name: String) -> ContainerStatus {
        ContainerStatus(
            name: name,
            state: ContainerState(running: ContainerStateRunning(startedAt: time(1_714_550_500))),
            lastState: ContainerState(terminated: ContainerStateTerminated(
                exitCode: 137, signal: 9, reason: "OOMKilled", message: "out of memory", startedAt: time(1_714_550_410),
                finishedAt: time(1_714_550_490), containerID: "runc://old")),
            ready: true, restartCount: 1, image: "registry.local/\(name):1.0", imageID: "sha256:abc", containerID: "runc://new",
            started: true, allocatedResources: ["cpu": quantity("250m")],
            resources: ResourceRequirements(limits: ["cpu": quantity("500m")], requests: ["cpu": quantity("250m")]),
            stopSignal: "SIGTERM")
    }

    static func pod() -> Pod {
        Pod(
            metadata: metadata(name: "web-0", kind: "Pod"),
            spec: podSpec(),
            status: PodStatus(
                observedGeneration: 3, phase: "Running",
                conditions: [
                    PodCondition(type: "Ready", observedGeneration: 3, status: "True", lastProbeTime: time(1_714_550_600), lastTransitionTime: time(1_714_550_550), reason: "", message: ""),
                    PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: time(1_714_550_401)),
                ],
                message: "running", reason: "Started", nominatedNodeName: "node-2", hostIP: "127.95.0.1",
                hostIPs: [HostIP(ip: "127.95.0.1")], podIP: "127.96.1.5", podIPs: [PodIP(ip: "127.96.1.5")],
                startTime: time(1_714_550_402),
                initContainerStatuses: [ContainerStatus(
                    name: "init", state: ContainerState(terminated: ContainerStateTerminated(exitCode: 0, reason: "Completed")),
                    ready: false, restartCount: 0)],
                containerStatuses: [
                    containerStatus("web"),
                    ContainerStatus(name: "sidecar", state: ContainerState(waiting: ContainerStateWaiting(reason: "CrashLoopBackOff", message: "back-off 10s")), ready: false, restartCount: 4, started: false),
                ],
                qosClass: "Burstable", resize: ""))
    }

    static func deployment() -> Deployment {
        Deployment(
            metadata: metadata(name: "web", kind: "Deployment"),
            spec: DeploymentSpec(
                replicas: 3, selector: labelSelector(),
                template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web", "tier": "frontend"], annotations: ["a": "b"]), spec: podSpec()),
                strategy: DeploymentStrategy(type: "RollingUpdate", rollingUpdate: RollingUpdateDeployment(maxUnavailable: port(1), maxSurge: port("25%"))),
                minReadySeconds: 5, revisionHistoryLimit: 10, paused: false, progressDeadlineSeconds: 600),
            status: DeploymentStatus(
                observedGeneration: 3, replicas: 3, updatedReplicas: 2, availableReplicas: 2, unavailableReplicas: 1,
                conditions: [
                    DeploymentCondition(
                        type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "ok",
                        lastUpdateTime: time(1_714_550_700), lastTransitionTime: time(1_714_550_650)),
                    DeploymentCondition(type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: "rolling"),
                ],
                readyReplicas: 2, collisionCount: 0, terminatingReplicas: 1))
    }

    static func service() -> Service {
        Service(
            metadata: metadata(name: "web", kind: "Service"),
            spec: ServiceSpec(
                ports: [
                    ServicePort(name: "http", protocol: "TCP", port: 80, targetPort: port("http"), nodePort: 30080, appProtocol: "http"),
                    ServicePort(name: "metrics", protocol: "TCP", port: 9090, targetPort: port(9090), nodePort: 30090),
                ],
                selector: ["app": "web"], clusterIP: "127.97.0.20", type: "LoadBalancer", externalIPs: ["127.0.0.50"],
                sessionAffinity: "ClientIP", loadBalancerIP: "127.0.0.60", loadBalancerSourceRanges: ["127.0.0.0/8"],
                externalName: "", externalTrafficPolicy: "Local", healthCheckNodePort: 30100, publishNotReadyAddresses: true,
                sessionAffinityConfig: SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 10800)),
                ipFamilyPolicy: "SingleStack", clusterIPs: ["127.97.0.20"], ipFamilies: ["IPv4"],
                allocateLoadBalancerNodePorts: true, loadBalancerClass: "skiff.io/lb", internalTrafficPolicy: "Cluster",
                trafficDistribution: "PreferClose"),
            status: ServiceStatus(
                loadBalancer: LoadBalancerStatus(ingress: [
                    LoadBalancerIngress(ip: "127.0.0.60", hostname: "web.local", ipMode: "VIP", ports: [PortStatus(port: 80, protocol: "TCP", error: "")])
                ]),
                conditions: [
                    Condition(type: "LoadBalancerReady", status: "True", observedGeneration: 3, lastTransitionTime: time(1_714_550_800), reason: "Provisioned", message: "ok")
                ]))
    }
}
