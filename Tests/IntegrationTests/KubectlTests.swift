import Bench
import Foundation
import Testing

/// Stock kubectl 1.32 against a loopback cluster over HTTPS/JSON: each test drives the real
/// binary and checks what a user sees (column headers, rows, confirmation lines, error lines).
@Suite("kubectl against the HTTPS gateway (real processes)", .serialized, .enabled(if: Kubectl.isAvailable, Kubectl.missing))
struct KubectlTests {
    /// A cell that reads like an age: "45s", "3m20s", "2d4h".
    static func isAge(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isNumber || "smhdy".contains($0) } && text.first?.isNumber == true
    }

    /// The manifest `apply -f` creates: a namespace, a config map, a deployment and a service.
    static func manifest(greeting: String, replicas: Int) -> String {
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          namespace: shop
        data:
          greeting: \(greeting)
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          labels:
            app: web
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
                image: nginx:1.27
                ports:
                - containerPort: 80
                resources:
                  requests:
                    cpu: 100m
                    memory: 64Mi
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: shop
        spec:
          selector:
            app: web
          ports:
          - port: 80
            targetPort: 80

        """
    }

    @Test("apply -f of a multi-document manifest, apply again after an edit, get, describe, delete -f")
    func applyGetDescribeDelete() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let path = try cluster.file("shop.yaml", Self.manifest(greeting: "hello", replicas: 2))
        let created = try await cluster.kubectl(["apply", "-f", path])
        #expect(created.status == 0, "\(created)")
        #expect(created.lines == ["namespace/shop created", "configmap/settings created", "deployment.apps/web created", "service/web created"], "\(created)")

        // The second apply patches what changed and leaves the rest alone.
        try Self.manifest(greeting: "bonjour", replicas: 3).write(toFile: path, atomically: true, encoding: .utf8)
        let patched = try await cluster.kubectl(["apply", "-f", path])
        #expect(patched.status == 0, "\(patched)")
        #expect(patched.lines == ["namespace/shop unchanged", "configmap/settings configured", "deployment.apps/web configured", "service/web unchanged"], "\(patched)")
        let greeting = try await cluster.kubectl(["get", "configmap", "settings", "-n", "shop", "-o", "jsonpath={.data.greeting}"])
        #expect(greeting.stdout == "bonjour", "\(greeting)")

        let deployments = try await cluster.kubectl(["get", "deployments", "-n", "shop"])
        #expect(deployments.status == 0, "\(deployments)")
        #expect(deployments.table.first == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], "\(deployments)")
        // No nodes: nothing is ready or available (UP-TO-DATE depends on how far the controllers got).
        #expect(deployments.table.dropFirst().first?.prefix(2) == ["web", "0/3"], "\(deployments)")
        #expect(deployments.table.dropFirst().first?[3] == "0", "\(deployments)")
        #expect(deployments.table.dropFirst().first.map { Self.isAge($0[4]) } == true, "\(deployments)")

        let wide = try await cluster.kubectl(["get", "deployment", "web", "-n", "shop", "-o", "wide"])
        #expect(wide.table.first == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"], "\(wide)")
        #expect(wide.table.dropFirst().first?.suffix(3) == ["web", "nginx:1.27", "app=web"], "\(wide)")

        let services = try await cluster.kubectl(["get", "services", "-n", "shop"])
        #expect(services.table.first == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], "\(services)")
        let service = services.table.dropFirst().first ?? []
        #expect(service.count == 6 && service[0] == "web" && service[1] == "ClusterIP" && service[3] == "<none>" && service[4] == "80/TCP", "\(services)")

        let configMaps = try await cluster.kubectl(["get", "configmaps", "-n", "shop"])
        #expect(configMaps.table.first == ["NAME", "DATA", "AGE"], "\(configMaps)")
        #expect(configMaps.table.contains { $0.prefix(2) == ["settings", "1"] }, "\(configMaps)")

        let namespaces = try await cluster.kubectl(["get", "namespace", "shop"])
        #expect(namespaces.table.first == ["NAME", "STATUS", "AGE"], "\(namespaces)")
        #expect(namespaces.table.dropFirst().first?.prefix(2) == ["shop", "Active"], "\(namespaces)")

        let yaml = try await cluster.kubectl(["get", "configmap", "settings", "-n", "shop", "-o", "yaml"])
        #expect(yaml.status == 0, "\(yaml)")
        for line in ["apiVersion: v1", "kind: ConfigMap", "  greeting: bonjour", "  name: settings", "  namespace: shop"] {
            #expect(yaml.lines.contains(line), "\(line) missing from\n\(yaml)")
        }
        #expect(yaml.stdout.contains("kubectl.kubernetes.io/last-applied-configuration"), "\(yaml)")

        let json = try await cluster.kubectl(["get", "deployment", "web", "-n", "shop", "-o", "json"])
        #expect(json.status == 0, "\(json)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let metadata = object?["metadata"] as? [String: Any]
        let spec = object?["spec"] as? [String: Any]
        #expect(object?["apiVersion"] as? String == "apps/v1")
        #expect(object?["kind"] as? String == "Deployment")
        #expect(metadata?["name"] as? String == "web")
        #expect((metadata?["creationTimestamp"] as? String)?.hasSuffix("Z") == true, "\(json.stdout)")
        #expect((metadata?["resourceVersion"] as? String)?.isEmpty == false)
        #expect(spec?["replicas"] as? Int == 3)
        let containers = ((spec?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]]
        let requests = (containers?.first?["resources"] as? [String: Any])?["requests"] as? [String: Any]
        #expect(requests?["cpu"] as? String == "100m" && requests?["memory"] as? String == "64Mi", "\(json.stdout)")

        let described = try await cluster.kubectl(["describe", "deployment", "web", "-n", "shop"])
        #expect(described.status == 0, "\(described)")
        let fields = Dictionary(described.lines.compactMap(Self.describeField), uniquingKeysWith: { first, _ in first })
        #expect(fields["Name"] == "web", "\(described)")
        #expect(fields["Namespace"] == "shop", "\(described)")
        #expect(fields["Selector"] == "app=web", "\(described)")
        #expect(fields["Replicas"]?.hasPrefix("3 desired") == true, "\(described)")
        #expect(fields["Image"] == "nginx:1.27", "\(described)")

        // The namespace goes first; its controller may empty it before kubectl reaches the rest,
        // so objects already gone are not errors here.
        let deleted = try await cluster.kubectl(["delete", "-f", path, "--ignore-not-found"])
        #expect(deleted.status == 0, "\(deleted)")
        #expect(deleted.lines.first == #"namespace "shop" deleted"#, "\(deleted)")
        let expectedLines: Set<String> = [#"configmap "settings" deleted"#, #"deployment.apps "web" deleted"#, #"service "web" deleted"#]
        #expect(Set(deleted.lines.dropFirst()).isSubset(of: expectedLines), "\(deleted)")
        // kubectl 1.32 explains a NotFound in a namespace that does not exist by the namespace.
        for arguments in [["get", "namespace", "shop"], ["get", "configmap", "settings", "-n", "shop"]] {
            let gone = try await cluster.kubectl(arguments)
            #expect(gone.status == 1)
            #expect(gone.stderr.contains(#"Error from server (NotFound): namespaces "shop" not found"#), "\(gone)")
        }
        let otherNamespace = try await cluster.kubectl(["get", "configmap", "settings", "-n", "default"])
        #expect(otherNamespace.stderr.contains(#"Error from server (NotFound): configmaps "settings" not found"#), "\(otherNamespace)")
    }

    /// "Name:   web" → ("Name", "web"), for `kubectl describe` output.
    static func describeField(_ line: String) -> (String, String)? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.firstIndex(of: ":"), trimmed[..<colon].allSatisfy({ $0.isLetter || $0 == " " }) else { return nil }
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return (String(trimmed[..<colon]), value)
    }

    /// kubectl prints "no", or "no - <reason>" when the authorizer gave one (Skiff's RBAC does).
    static func isNo(_ lines: [String]) -> Bool {
        lines.count == 1 && (lines[0] == "no" || lines[0].hasPrefix("no - "))
    }

    @Test("get pods, -o wide, -o yaml, describe, and the error lines of NotFound, AlreadyExists, Invalid, unknown fields and Conflict")
    func podsAndErrors() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let empty = try await cluster.kubectl(["get", "pods"])
        #expect(empty.status == 0 && empty.stdout.isEmpty, "\(empty)")
        #expect(empty.stderr.contains("No resources found in default namespace."), "\(empty)")

        let run = try await cluster.kubectl(["run", "web", "--image=nginx:1.27", "--labels=app=web"])
        #expect(run.lines == ["pod/web created"], "\(run)")

        let pods = try await cluster.kubectl(["get", "pods"])
        #expect(pods.table.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], "\(pods)")
        #expect(pods.table.dropFirst().first?.prefix(4) == ["web", "0/1", "Pending", "0"], "\(pods)")
        let wide = try await cluster.kubectl(["get", "pods", "-o", "wide"])
        #expect(wide.table.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"], "\(wide)")
        #expect(wide.table.dropFirst().first?.suffix(4) == ["<none>", "<none>", "<none>", "<none>"], "\(wide)")
        let byLabel = try await cluster.kubectl(["get", "pods", "-l", "app=web", "-o", "name"])
        #expect(byLabel.lines == ["pod/web"], "\(byLabel)")
        let noMatch = try await cluster.kubectl(["get", "pods", "-l", "app=db"])
        #expect(noMatch.stderr.contains("No resources found in default namespace."), "\(noMatch)")

        let yaml = try await cluster.kubectl(["get", "pod", "web", "-o", "yaml"])
        for line in ["apiVersion: v1", "kind: Pod", "  name: web", "  - image: nginx:1.27"] {
            #expect(yaml.lines.contains(line), "\(line) missing from\n\(yaml)")
        }
        let described = try await cluster.kubectl(["describe", "pod", "web"])
        #expect(described.status == 0, "\(described)")
        let fields = Dictionary(described.lines.compactMap(Self.describeField), uniquingKeysWith: { first, _ in first })
        #expect(fields["Name"] == "web" && fields["Namespace"] == "default" && fields["Labels"] == "app=web", "\(described)")
        #expect(fields["Node"] == "<none>" && fields["Image"] == "nginx:1.27", "\(described)")

        let missing = try await cluster.kubectl(["get", "pod", "missing"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(#"Error from server (NotFound): pods "missing" not found"#), "\(missing)")
        let missingDeployment = try await cluster.kubectl(["get", "deployment", "missing"])
        #expect(missingDeployment.stderr.contains(#"Error from server (NotFound): deployments.apps "missing" not found"#), "\(missingDeployment)")

        let podFile = try cluster.file("web.yaml", Self.pod(name: "web", extra: ""))
        let again = try await cluster.kubectl(["create", "-f", podFile])
        #expect(again.status == 1)
        #expect(again.stderr.contains(#"Error from server (AlreadyExists): error when creating "\#(podFile)": pods "web" already exists"#), "\(again)")

        let invalid = try await cluster.kubectl(["create", "-f", try cluster.file("bad.yaml", Self.pod(name: "Bad_Name", extra: ""))])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains(#"The Pod "Bad_Name" is invalid: "#) && invalid.stderr.contains("metadata.name"), "\(invalid)")

        let unknownField = try await cluster.kubectl(["create", "-f", try cluster.file("typo.yaml", Self.pod(name: "typo", extra: "    imagePullPolicee: Always\n"))])
        #expect(unknownField.status == 1)
        #expect(unknownField.stderr.contains(#"unknown field "spec.containers[0].imagePullPolicee""#), "\(unknownField)")

        // A status patch is validated too: the status write is refused and the pod keeps its class.
        let badStatus = try await cluster.kubectl([
            "patch", "pod", "web", "--subresource=status", "--type=merge", "-p", #"{"status":{"qosClass":"Guaranteed","podIP":"not-an-ip"}}"#,
        ])
        #expect(badStatus.status == 1)
        #expect(
            badStatus.stderr.contains(#"The Pod "web" is invalid: "#) && badStatus.stderr.contains(#"status.qosClass: Invalid value: "Guaranteed": field is immutable"#)
                && badStatus.stderr.contains(#"status.podIP: Invalid value: "not-an-ip": must be a valid IP address"#),
            "\(badStatus)")
        let qos = try await cluster.kubectl(["get", "pod", "web", "-o", "jsonpath={.status.qosClass}"])
        #expect(qos.stdout == "BestEffort", "\(qos)")

        // Replacing with an object read before someone else's write is a conflict.
        let read = try await cluster.kubectl(["get", "pod", "web", "-o", "yaml"])
        let stale = try cluster.file("stale.yaml", read.stdout)
        let labeled = try await cluster.kubectl(["label", "pod", "web", "tier=front"])
        #expect(labeled.lines == ["pod/web labeled"], "\(labeled)")
        let conflict = try await cluster.kubectl(["replace", "-f", stale])
        #expect(conflict.status == 1)
        #expect(
            conflict.stderr.contains(
                #"Error from server (Conflict): error when replacing "\#(stale)": Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again"#),
            "\(conflict)")
    }

    static func pod(name: String, extra: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
        spec:
          containers:
          - name: web
            image: nginx:1.27
        \(extra)
        """
    }

    @Test("apply --server-side, a conflict with another field manager, and --force-conflicts")
    func serverSideApply() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        func configMap(_ value: String) -> String {
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  mode: \(value)\n"
        }
        let first = try await cluster.kubectl(["apply", "--server-side", "-f", try cluster.file("flags.yaml", configMap("fast"))])
        #expect(first.lines == ["configmap/flags serverside-applied"], "\(first)")
        let same = try await cluster.kubectl(["apply", "--server-side", "-f", try cluster.file("flags.yaml", configMap("fast"))])
        #expect(same.lines == ["configmap/flags serverside-applied"], "\(same)")

        let intruder = try cluster.file("intruder.yaml", configMap("slow"))
        let conflict = try await cluster.kubectl(["apply", "--server-side", "--field-manager=intruder", "-f", intruder])
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains(#"Apply failed with 1 conflict: conflict with "kubectl""#), "\(conflict)")
        #expect(conflict.stderr.contains(".data.mode"), "\(conflict)")
        #expect(conflict.stderr.contains("--force-conflicts"), "\(conflict)")
        let unchanged = try await cluster.kubectl(["get", "configmap", "flags", "-o", "jsonpath={.data.mode}"])
        #expect(unchanged.stdout == "fast", "\(unchanged)")

        let forced = try await cluster.kubectl(["apply", "--server-side", "--field-manager=intruder", "--force-conflicts", "-f", intruder])
        #expect(forced.lines == ["configmap/flags serverside-applied"], "\(forced)")
        let taken = try await cluster.kubectl(["get", "configmap", "flags", "-o", "jsonpath={.data.mode}"])
        #expect(taken.stdout == "slow", "\(taken)")
        let managers = try await cluster.kubectl(
            ["get", "configmap", "flags", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}"])
        #expect(managers.stdout.split(separator: " ").contains("intruder"), "\(managers)")
    }

    @Test("get pods -w prints an ADDED and a DELETED row while kubectl runs and deletes a pod")
    func watchPods() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let first = try await cluster.kubectl(["run", "first", "--image=nginx:1.27"])
        #expect(first.lines == ["pod/first created"], "\(first)")
        // kubectl lists (the existing pod shows as ADDED), then watches from the list's version.
        let watch = try cluster.kubectlInBackground(["get", "pods", "--watch", "--output-watch-events"])
        let listed = await watch.waitForOutput { $0.contains("first") }
        #expect(listed, "the existing pod was not listed; kubectl printed:\n\(watch.stdout)\(watch.stderr)")

        let run = try await cluster.kubectl(["run", "watched", "--image=nginx:1.27"])
        #expect(run.lines == ["pod/watched created"], "\(run)")
        let added = await watch.waitForOutput { $0.contains("ADDED") && $0.contains("watched") }
        #expect(added, "no ADDED row; kubectl printed:\n\(watch.stdout)\(watch.stderr)")

        let deleted = try await cluster.kubectl(["delete", "pod", "watched"])
        #expect(deleted.lines == [#"pod "watched" deleted"#], "\(deleted)")
        let removed = await watch.waitForOutput { $0.contains("DELETED") }
        let outcome = watch.stop()
        #expect(removed, "no DELETED row; kubectl printed:\n\(outcome)")
        let rows = outcome.table
        #expect(rows.first == ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"], "\(outcome)")
        #expect(rows.contains { $0.prefix(5) == ["ADDED", "first", "0/1", "Pending", "0"] }, "\(outcome)")
        #expect(rows.contains { $0.prefix(5) == ["ADDED", "watched", "0/1", "Pending", "0"] }, "\(outcome)")
        #expect(rows.contains { $0.prefix(2) == ["DELETED", "watched"] }, "\(outcome)")
    }

    @Test("scale, label, annotate, and edit through KUBE_EDITOR")
    func scaleLabelAnnotateEdit() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let created = try await cluster.kubectl(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=1"])
        #expect(created.lines == ["deployment.apps/web created"], "\(created)")

        let scaled = try await cluster.kubectl(["scale", "deployment", "web", "--replicas=4"])
        #expect(scaled.lines == ["deployment.apps/web scaled"], "\(scaled)")
        let replicas = try await cluster.kubectl(["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"])
        #expect(replicas.stdout == "4", "\(replicas)")

        let labeled = try await cluster.kubectl(["label", "deployment", "web", "tier=front"])
        #expect(labeled.lines == ["deployment.apps/web labeled"], "\(labeled)")
        let selected = try await cluster.kubectl(["get", "deployments", "-l", "tier=front", "-o", "name"])
        #expect(selected.lines == ["deployment.apps/web"], "\(selected)")
        let refused = try await cluster.kubectl(["label", "deployment", "web", "tier=back"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("'tier' already has a value (front), and --overwrite is false"), "\(refused)")
        let unlabeled = try await cluster.kubectl(["label", "deployment", "web", "tier-"])
        #expect(unlabeled.lines == ["deployment.apps/web unlabeled"], "\(unlabeled)")

        let annotated = try await cluster.kubectl(["annotate", "deployment", "web", "owner=team-a"])
        #expect(annotated.lines == ["deployment.apps/web annotated"], "\(annotated)")
        let owner = try await cluster.kubectl(["get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.owner}"])
        #expect(owner.stdout == "team-a", "\(owner)")

        let configMap = try await cluster.kubectl(["create", "configmap", "settings", "--from-literal=greeting=hello"])
        #expect(configMap.lines == ["configmap/settings created"], "\(configMap)")
        let editor = try cluster.file("editor.sh", "#!/bin/sh\nsed -i 's/greeting: hello/greeting: bonjour/' \"$1\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: editor)
        let edited = try await cluster.kubectl(["edit", "configmap", "settings"], environment: ["KUBE_EDITOR": editor])
        #expect(edited.lines == ["configmap/settings edited"], "\(edited)")
        let greeting = try await cluster.kubectl(["get", "configmap", "settings", "-o", "jsonpath={.data.greeting}"])
        #expect(greeting.stdout == "bonjour", "\(greeting)")
        // The same edit again changes nothing.
        let noChange = try await cluster.kubectl(["edit", "configmap", "settings"], environment: ["KUBE_EDITOR": editor])
        #expect(noChange.status == 0)
        #expect((noChange.stdout + noChange.stderr).contains("Edit cancelled, no changes made."), "\(noChange)")
    }

    @Test("get componentstatuses, api-resources and explain pod.spec.containers")
    func discoveryAndSchema() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let components = try await cluster.kubectl(["get", "componentstatuses"])
        #expect(components.status == 0, "\(components)")
        #expect(components.table.first == ["NAME", "STATUS", "MESSAGE", "ERROR"], "\(components)")
        let store = "store-\(cluster.api.store.endpoints[0])"
        #expect(components.table.contains { $0.first == store && $0.dropFirst().first == "Healthy" }, "\(components)")
        #expect(components.table.contains { $0.prefix(2) == ["scheduler", "Unhealthy"] }, "\(components)")

        let resources = try await cluster.kubectl(["api-resources"])
        #expect(resources.status == 0, "\(resources)")
        #expect(resources.table.first == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], "\(resources)")
        for row in [
            ["pods", "po", "v1", "true", "Pod"], ["namespaces", "ns", "v1", "false", "Namespace"],
            ["deployments", "deploy", "apps/v1", "true", "Deployment"], ["componentstatuses", "cs", "v1", "false", "ComponentStatus"],
            ["leases", "coordination.k8s.io/v1", "true", "Lease"], ["rolebindings", "rbac.authorization.k8s.io/v1", "true", "RoleBinding"],
        ] {
            #expect(resources.table.contains(row), "\(row) missing from\n\(resources)")
        }

        let explained = try await cluster.kubectl(["explain", "pod.spec.containers"])
        #expect(explained.status == 0, "\(explained)")
        let words = explained.lines.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        #expect(words.contains("KIND: Pod"), "\(explained)")
        #expect(words.contains("VERSION: v1"), "\(explained)")
        #expect(words.contains("FIELD: containers <[]Container>"), "\(explained)")
        #expect(words.contains("FIELDS:"), "\(explained)")
        #expect(words.contains("image <string>"), "\(explained)")
        #expect(words.contains { $0.hasPrefix("name <string>") }, "\(explained)")
        #expect(words.contains("ports <[]ContainerPort>"), "\(explained)")
    }

    @Test("a token without rights is Forbidden; auth can-i follows a Role and RoleBinding")
    func rbac() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let forbidden = try await cluster.kubectl(["get", "pods"], as: .jane)
        #expect(forbidden.status == 1)
        #expect(
            forbidden.stderr.contains(
                #"Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#),
            "\(forbidden)")
        let before = try await cluster.kubectl(["auth", "can-i", "list", "pods"], as: .jane)
        #expect(before.status == 1 && Self.isNo(before.lines), "\(before)")

        let grant = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: pod-reader
              namespace: default
            rules:
            - apiGroups: [""]
              resources: ["pods"]
              verbs: ["get", "list", "watch"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: read-pods
              namespace: default
            subjects:
            - kind: User
              name: jane
              apiGroup: rbac.authorization.k8s.io
            roleRef:
              kind: Role
              name: pod-reader
              apiGroup: rbac.authorization.k8s.io

            """
        let granted = try await cluster.kubectl(["apply", "-f", try cluster.file("grant.yaml", grant)])
        #expect(
            granted.lines == ["role.rbac.authorization.k8s.io/pod-reader created", "rolebinding.rbac.authorization.k8s.io/read-pods created"],
            "\(granted)")

        let roles = try await cluster.kubectl(["get", "roles"])
        #expect(roles.table.first == ["NAME", "CREATED AT"], "\(roles)")
        #expect(roles.table.dropFirst().first?.first == "pod-reader", "\(roles)")
        let bindings = try await cluster.kubectl(["get", "rolebindings", "-o", "wide"])
        #expect(bindings.table.first == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"], "\(bindings)")
        #expect(bindings.table.dropFirst().first.map { [$0[0], $0[1], $0[3]] } == ["read-pods", "Role/pod-reader", "jane"], "\(bindings)")

        for (arguments, answer) in [
            (["list", "pods"], "yes"), (["watch", "pods"], "yes"), (["delete", "pods"], "no"), (["list", "secrets"], "no"),
            (["list", "pods", "-n", "kube-system"], "no"),
        ] {
            let asked = try await cluster.kubectl(["auth", "can-i"] + arguments, as: .jane)
            let answered = answer == "yes" ? asked.lines == ["yes"] : Self.isNo(asked.lines)
            #expect(answered && asked.status == (answer == "yes" ? 0 : 1), "can-i \(arguments): \(asked)")
        }
        let allowed = try await cluster.kubectl(["get", "pods"], as: .jane)
        #expect(allowed.status == 0 && allowed.stderr.contains("No resources found in default namespace."), "\(allowed)")
        let secrets = try await cluster.kubectl(["get", "secrets"], as: .jane)
        #expect(
            secrets.stderr.contains(
                #"Error from server (Forbidden): secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "default""#),
            "\(secrets)")
    }

    @Test("without credentials or with a wrong token nothing is answered but 401; a client not trusting the cluster CA refuses the server")
    func unauthenticated() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        // A kubeconfig user without credentials makes kubectl ask for a user name (its own
        // behaviour, whatever the server); without a terminal it stops there, showing nothing.
        let anonymous = try await cluster.kubectl(["get", "pods"], as: .anonymous)
        #expect(anonymous.status == 1)
        #expect(anonymous.stdout == "Please enter Username: ", "\(anonymous)")

        // Asked directly, the server answers a request without credentials with 401 only.
        let curl = "/usr/bin/curl"
        if FileManager.default.isExecutableFile(atPath: curl) {
            for path in ["/api/v1/namespaces/default/pods", "/apis/apps/v1/deployments", "/version"] {
                let answer = try await cluster.runner.run(
                    curl, ["-sS", "--cacert", cluster.pkiDirectory + "/ca.crt", "-w", "\n%{http_code}", cluster.server + path],
                    environment: cluster.environment(.anonymous))
                #expect(answer.lines.last == "401", "\(path): \(answer)")
                let status = try? JSONSerialization.jsonObject(with: Data((answer.lines.first ?? "").utf8)) as? [String: Any]
                #expect(status?["kind"] as? String == "Status" && status?["reason"] as? String == "Unauthorized", "\(path): \(answer)")
            }
        }

        // A token the server does not know: kubectl's discovery is refused, then the request.
        let wrong = try cluster.file("wrong.kubeconfig", cluster.tokenKubeconfig(token: "not-a-token", user: "mallory"))
        let refused = try await cluster.kubectl(["get", "pods", "--kubeconfig", wrong])
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        let lastLine = refused.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(lastLine.hasPrefix("error: You must be logged in to the server ("), "\(refused)")

        // TLS: a client that does not trust the cluster CA refuses the server's certificate.
        let untrusting = try cluster.file(
            "untrusting.kubeconfig",
            cluster.tokenKubeconfig(token: cluster.api.adminToken, user: "admin")
                .replacingOccurrences(of: "    certificate-authority: \(cluster.pkiDirectory)/ca.crt\n", with: ""))
        let untrusted = try await cluster.kubectl(["get", "pods", "--kubeconfig", untrusting])
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.contains("certificate signed by unknown authority"), "\(untrusted)")

        // The same admin token over a trusted connection works: the failures above are the credentials'.
        let admin = try cluster.file("token-admin.kubeconfig", cluster.tokenKubeconfig(token: cluster.api.adminToken, user: "admin"))
        let allowed = try await cluster.kubectl(["get", "namespaces", "--kubeconfig", admin])
        #expect(allowed.status == 0 && allowed.table.first == ["NAME", "STATUS", "AGE"], "\(allowed)")
    }

    @Test("describe shows a pod that was just created as Pending")
    func newPodIsPending() async throws {
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()
        let run = try await cluster.kubectl(["run", "web", "--image=nginx:1.27"])
        #expect(run.lines == ["pod/web created"], "\(run)")
        let described = try await cluster.kubectl(["describe", "pod", "web"])
        let fields = Dictionary(described.lines.compactMap(Self.describeField), uniquingKeysWith: { first, _ in first })
        #expect(fields["Status"] == "Pending", "\(described)")
        let phase = try await cluster.kubectl(["get", "pod", "web", "-o", "jsonpath={.status.phase}"])
        #expect(phase.stdout == "Pending", "\(phase)")
    }
}
