import Api
import Bench
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The API server's HTTPS door driven by the real kubectl (skipped, saying so, where kubectl is
/// not installed): discovery, CRUD with Kubernetes' error messages, a watch stream, client
/// certificate and token authentication, 401 without credentials, health and metrics.
@Suite("HTTPS gateway with real kubectl (real processes)", .serialized, .enabled(if: Kubectl.isAvailable, "kubectl is not installed"))
struct GatewayTests {
    /// A running cluster and an admin kubectl (client certificate).
    struct Fixture {
        let cluster: ApiCluster
        let admin: Kubectl

        init() async throws {
            cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
            try cluster.start()
            try await cluster.waitUntilServing()
            admin = Kubectl(kubeconfig: try cluster.writeKubeconfig())
        }

        func file(_ name: String, _ text: String) throws -> String {
            let path = cluster.store.workDirectory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    static let podManifest = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            ports:
            - containerPort: 80
        """

    @Test("discovery, version, api-resources, health, readiness and metrics")
    func discoveryAndHealth() async throws {
        let fixture = try await Fixture()
        defer { fixture.cluster.stop() }
        let kubectl = fixture.admin

        let version = try kubectl.run(["version", "-o", "json"])
        #expect(version.status == 0, "\(version)")
        let server = try JSONValue(parsing: version.stdout)["serverVersion"]
        #expect(server?["major"] == "1")
        #expect(server?["minor"] == "32")
        #expect(server?["gitVersion"]?.stringValue?.hasPrefix("v1.32.0-skiff") == true)
        #expect(!version.stderr.contains("WARNING"), "kubectl 1.32 sees no version skew")

        let resources = try kubectl.run(["api-resources", "--no-headers"])
        #expect(resources.status == 0, "\(resources)")
        let rows = resources.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.contains(["pods", "po", "v1", "true", "Pod"]))
        #expect(rows.contains(["deployments", "deploy", "apps/v1", "true", "Deployment"]))
        #expect(rows.contains(["selfsubjectaccessreviews", "authorization.k8s.io/v1", "false", "SelfSubjectAccessReview"]))

        let healthz = try kubectl.run(["get", "--raw", "/healthz?verbose"])
        #expect(healthz.stdout.contains("[+]etcd ok"), "\(healthz)")
        #expect(healthz.stdout.contains("healthz check passed"))
        // Ready once every watch cache has loaded (on a busy machine that may lag the first answers).
        let ready = await clientEventually(seconds: 120) { (try? kubectl.run(["get", "--raw", "/readyz"]).stdout) == "ok" }
        #expect(ready, "readyz: \((try? kubectl.run(["get", "--raw", "/readyz?verbose"]))?.description ?? "")")
        let livez = try kubectl.run(["get", "--raw", "/livez/ping"])
        #expect(livez.stdout == "ok", "\(livez)")

        _ = try kubectl.run(["get", "pods", "-A"])
        let metrics = try kubectl.run(["get", "--raw", "/metrics"])
        #expect(metrics.status == 0, "\(metrics)")
        #expect(metrics.stdout.contains(#"apiserver_request_total{verb="list",group="",resource="pods",subresource="",code="200"}"#))
        #expect(metrics.stdout.contains("apiserver_request_duration_seconds_bucket"))
        #expect(metrics.stdout.contains("skiff_store_request_duration_seconds"))
        #expect(metrics.stdout.contains("process_resident_memory_bytes"))
        #expect(metrics.stdout.contains(#"apiserver_registered_watchers{group="",resource="pods"}"#))

        let openapi = try kubectl.run(["explain", "pod.spec.containers.image"])
        #expect(openapi.status == 0, "\(openapi)")
        #expect(openapi.stdout.contains("FIELD: image"))
    }

    @Test("create, get, list as a table and as JSON, label, replace, delete; Kubernetes' errors as kubectl prints them")
    func crudAndErrors() async throws {
        let fixture = try await Fixture()
        defer { fixture.cluster.stop() }
        let kubectl = fixture.admin
        let manifest = try fixture.file("pod.yaml", Self.podManifest)

        let created = try kubectl.run(["create", "-f", manifest])
        #expect(created.stdout.contains("pod/web created"), "\(created)")
        let again = try kubectl.run(["create", "-f", manifest])
        #expect(again.status != 0)
        #expect(again.stderr.contains(#"Error from server (AlreadyExists): error when creating "\#(manifest)": pods "web" already exists"#), "\(again)")

        let table = try kubectl.run(["get", "pods"])
        #expect(table.stdout.hasPrefix("NAME"), "\(table)")
        #expect(table.stdout.contains("web"))
        let listed = try JSONValue(parsing: try kubectl.run(["get", "pods", "-l", "app=web", "-o", "json"]).stdout)
        #expect(listed["kind"] == "List")
        #expect(listed["items"]?.arrayValue?.first?["metadata"]?["name"] == "web")
        let none = try kubectl.run(["get", "pods", "-l", "app=db"])
        #expect(none.stderr.contains("No resources found in default namespace."), "\(none)")

        let missing = try kubectl.run(["get", "pod", "nope"])
        #expect(missing.stderr.contains(#"Error from server (NotFound): pods "nope" not found"#), "\(missing)")

        let labeled = try kubectl.run(["label", "pod", "web", "tier=front"])
        #expect(labeled.stdout.contains("pod/web labeled"), "\(labeled)")
        let pod = try JSONValue(parsing: try kubectl.run(["get", "pod", "web", "-o", "json"]).stdout)
        #expect(pod["metadata"]?["labels"]?["tier"] == "front")

        // A stale resourceVersion: 409 Conflict.
        var stale = pod.objectValue!
        var meta = stale["metadata"]!.objectValue!
        meta["resourceVersion"] = "1"
        stale["metadata"] = .object(meta)
        let conflict = try kubectl.run(["replace", "-f", "-"], stdin: JSONValue.object(stale).compactText)
        #expect(conflict.stderr.contains(#"Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on pods "web""#), "\(conflict)")

        // An invalid object: 422 with the field path.
        let invalid = try kubectl.run(["create", "-f", "-"], stdin: """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}
            """)
        #expect(invalid.stderr.contains(#"The Pod "Bad_Name" is invalid: metadata.name"#), "\(invalid)")

        // Strict field validation (kubectl's default): an unknown field is refused with its path.
        let unknown = try kubectl.run(["create", "-f", "-"], stdin: """
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"dta":{"a":"b"}}
            """)
        #expect(unknown.stderr.contains(#"unknown field "dta""#), "\(unknown)")
        #expect(unknown.stderr.contains("BadRequest"))

        let deleted = try kubectl.run(["delete", "pod", "web", "--wait=false"])
        #expect(deleted.stdout.contains(#"pod "web" deleted"#), "\(deleted)")
        let gone = try kubectl.run(["get", "pod", "web"])
        #expect(gone.stderr.contains("NotFound"), "\(gone)")
    }

    @Test("exec and attach over WebSocket, logs and scale: the node-agent error as kubectl prints it; scale through the subresource")
    func podStreamsAndScale() async throws {
        let fixture = try await Fixture()
        defer { fixture.cluster.stop() }
        let kubectl = fixture.admin
        _ = try kubectl.run(["create", "-f", try fixture.file("pod.yaml", Self.podManifest)])
        let message = "pod default/web is not running on a node agent: node agents are not available yet"

        let exec = try kubectl.run(["exec", "web", "--", "ls"])
        #expect(exec.status != 0)
        #expect(exec.stderr.contains("error: " + message), "\(exec)")
        let logs = try kubectl.run(["logs", "web"])
        #expect(logs.stderr.contains("Error from server (BadRequest): " + message), "\(logs)")
        let missing = try kubectl.run(["exec", "nope", "--", "ls"])
        #expect(missing.stderr.contains(#"pods "nope" not found"#), "\(missing)")

        _ = try kubectl.run(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=2"])
        let scaled = try kubectl.run(["scale", "deployment", "web", "--replicas=4"])
        #expect(scaled.stdout.contains("deployment.apps/web scaled"), "\(scaled)")
        let scale = try JSONValue(parsing: try kubectl.run(["get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale"]).stdout)
        #expect(scale["kind"] == "Scale")
        #expect(scale["apiVersion"] == "autoscaling/v1")
        #expect(scale["spec"]?["replicas"]?.int64Value == 4)
        #expect(scale["status"]?["selector"] == "app=web")
    }

    @Test("kubectl get -w receives events as they happen; a raw watch is newline-delimited WatchEvent JSON that ends after timeoutSeconds")
    func watchStreams() async throws {
        let fixture = try await Fixture()
        defer { fixture.cluster.stop() }
        let kubectl = fixture.admin
        let manifest = try fixture.file("pod.yaml", Self.podManifest)

        let watch = try kubectl.start(["get", "pods", "-w", "--output-watch-events"])
        defer { watch.stop() }
        let raw = try kubectl.start(["get", "--raw", "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=20"])
        defer { raw.stop() }
        // kubectl prints nothing for an empty list; give both a moment to open their watch.
        let listed = await clientEventually(seconds: 30) {
            (try? kubectl.run(["get", "--raw", "/metrics"]).stdout.contains(#"apiserver_registered_watchers{group="",resource="pods"} 2"#)) == true
        }
        #expect(listed, "both watches registered")
        _ = try kubectl.run(["create", "-f", manifest])
        #expect(watch.waitFor("ADDED"), "kubectl get -w saw: \(watch.output.text) \(watch.errors.text)")
        #expect(watch.output.text.contains("web"))
        _ = try kubectl.run(["delete", "pod", "web", "--wait=false"])
        #expect(watch.waitFor("DELETED"), "kubectl get -w saw: \(watch.output.text)")

        #expect(raw.waitFor("\"DELETED\""), "raw watch: \(raw.output.text) \(raw.errors.text)")
        let events = raw.output.text.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "DELETED"])
        #expect(events.first?["object"]?["kind"] == "Pod")
        #expect(events.first?["object"]?["metadata"]?["name"] == "web")
        // timeoutSeconds ends the stream: kubectl --raw exits by itself.
        let ended = await clientEventually(seconds: 40) { !raw.process.isRunning }
        #expect(ended, "the watch ended after timeoutSeconds")
    }

    @Test("an HTTP watcher that stops reading is cut off by the same rule as binary watchers, while another HTTP watcher receives every event")
    func slowHTTPWatcherIsCutOff() async throws {
        guard let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("curl is not installed: the slow-reader check did not run")
            return
        }
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        cluster.apiServerArguments = ["--connection-buffer-bytes", "1048576", "--slow-watcher-grace-milliseconds", "3000"]
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let kubectl = Kubectl(kubeconfig: try cluster.writeKubeconfig())
        let path = "/api/v1/namespaces/default/configmaps?watch=1"

        // The slow reader: curl reading 1 KB/s through the admin's client certificate.
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: curl)
        slow.arguments = [
            "--silent", "--no-buffer", "--limit-rate", "1K", "--cacert", cluster.pki.caCertificatePath,
            "--cert", cluster.pki.adminCertificatePath, "--key", cluster.pki.adminKeyPath,
            "https://\(cluster.httpsAddresses[0])\(path)",
        ]
        slow.standardOutput = FileHandle.nullDevice
        slow.standardError = FileHandle.nullDevice
        try slow.run()
        defer {
            if slow.isRunning { kill(slow.processIdentifier, SIGKILL) }
            slow.waitUntilExit()
        }
        let fast = try kubectl.start(["get", "--raw", path])
        defer { fast.stop() }
        let watching = await clientEventually(seconds: 120) {
            (try? kubectl.run(["get", "--raw", "/metrics"]).stdout.contains(#"apiserver_registered_watchers{group="",resource="configmaps"} 2"#)) == true
        }
        #expect(watching, "both HTTP watches registered")

        // 100 KB events, written until the slow reader is cut off (the rule is checked as
        // events are sent, so writing goes on past the grace period): far past what its socket
        // buffers and the 1 MiB allowance hold, while each event is small for a reader that
        // keeps up. Bounded: at most 600 events (60 MB).
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "writer")
        defer { Task { await client.close() } }
        let value = String(repeating: "x", count: 100_000)
        var written = 0
        var cutOff = false
        while written < 600 && !cutOff {
            var configMap = ConfigMap()
            configMap.metadata = ObjectMeta(name: "big-\(written)", namespace: "default")
            configMap.data = ["blob": value]
            _ = try await client.create(configMap)
            written += 1
            if written % 20 == 0 {
                cutOff = (try? kubectl.run(["get", "--raw", "/metrics"]).stdout.contains(#"apiserver_registered_watchers{group="",resource="configmaps"} 1"#)) == true
            }
        }
        #expect(cutOff, "the slow HTTP watcher was cut off after \(written) events; the other stays")
        #expect(fast.waitFor("big-\(written - 1)\"", seconds: 60), "the reading watcher got every event")
        let events = fast.output.text.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
        #expect(events.count == written)
        #expect(events.allSatisfy { $0["type"] == "ADDED" })
    }

    @Test("agentctl kubeconfig writes working kubeconfigs: the admin's certificate, a newly issued user's, a token")
    func agentctlKubeconfig() async throws {
        let fixture = try await Fixture()
        defer { fixture.cluster.stop() }
        let cluster = fixture.cluster
        let directory = cluster.store.workDirectory
        let server = "https://\(cluster.httpsAddresses[0])"
        func agentctl(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = BuildProducts.directory.appendingPathComponent("agentctl")
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        let adminPath = directory + "/admin.kubeconfig"
        let admin = try agentctl(["kubeconfig", "--data-dir", directory, "--server", server, "-o", adminPath])
        #expect(admin.status == 0, "\(admin.output)")
        let mode = (try FileManager.default.attributesOfItem(atPath: adminPath)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600, "a kubeconfig holds a private key: owner only")
        #expect(try Kubectl(kubeconfig: adminPath).run(["get", "namespaces", "-o", "name"]).stdout.contains("namespace/kube-system"))

        let janePath = directory + "/jane-issued.kubeconfig"
        let jane = try agentctl(["kubeconfig", "--data-dir", directory, "--server", server, "--user", "jane", "--group", "dev", "-o", janePath])
        #expect(jane.status == 0, "\(jane.output)")
        let whoAmI = try Kubectl(kubeconfig: janePath).run(["auth", "can-i", "list", "pods"])
        #expect(whoAmI.stdout.hasPrefix("no"), "\(whoAmI)")

        try "\(cluster.adminToken)\n".write(toFile: directory + "/admin.token", atomically: true, encoding: .utf8)
        let token = try agentctl(["kubeconfig", "--data-dir", directory, "--server", server, "--token-file", directory + "/admin.token"])
        #expect(token.output.contains("token: \"\(cluster.adminToken)\""), "\(token.output)")

        let noCluster = try agentctl(["kubeconfig", "--data-dir", directory + "/nowhere"])
        #expect(noCluster.status != 0)
        #expect(noCluster.output.contains("no cluster CA in \(directory)/nowhere/pki"), "\(noCluster.output)")
        let plainHTTP = try agentctl(["kubeconfig", "--data-dir", directory, "--server", "http://127.0.0.1:6443"])
        #expect(plainHTTP.output.contains("is not an https URL"), "\(plainHTTP.output)")
    }

    @Test("client certificates and tokens authenticate, RBAC decides; no credentials is 401")
    func authentication() async throws {
        let fixture = try await Fixture()
        defer { fixture.cluster.stop() }
        let cluster = fixture.cluster

        // Client certificate of the admin (CN=admin, O=system:masters): cluster-admin.
        let canI = try fixture.admin.run(["auth", "can-i", "create", "deployments"])
        #expect(canI.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "yes", "\(canI)")

        // A certificate for jane (no groups): authenticated, but RBAC grants nothing.
        let jane = try cluster.pki.issueClientCertificate(user: "jane", groups: [])
        let janePath = cluster.store.workDirectory + "/jane.kubeconfig"
        try ClusterPKI.writeSecret(
            Kubeconfig(
                server: "https://\(cluster.httpsAddresses[0])", caCertificatePEM: cluster.pki.caCertificatePEM, userName: "jane",
                credential: .clientCertificate(certificatePEM: jane.certificate, keyPEM: jane.key)
            ).rendered(), to: janePath)
        let janeKubectl = Kubectl(kubeconfig: janePath)
        let forbidden = try janeKubectl.run(["get", "pods"])
        #expect(forbidden.stderr.contains(#"Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#), "\(forbidden)")
        let janeCanI = try janeKubectl.run(["auth", "can-i", "list", "pods"])
        #expect(janeCanI.stdout.hasPrefix("no"), "\(janeCanI)")
        // A RoleBinding to the view role lets her list.
        _ = try fixture.admin.run(["create", "rolebinding", "jane-view", "--clusterrole=view", "--user=jane"])
        let allowed = await clientEventually(seconds: 20) { (try? janeKubectl.run(["get", "pods"]).status) == 0 }
        #expect(allowed, "jane can list pods once bound to view")
        #expect(try janeKubectl.run(["auth", "can-i", "list", "pods"]).stdout.hasPrefix("yes"))
        #expect(try janeKubectl.run(["auth", "can-i", "delete", "pods"]).stdout.hasPrefix("no"))

        // Bearer tokens from the token file.
        let tokenKubectl = Kubectl(kubeconfig: try cluster.writeKubeconfig(token: cluster.adminToken, name: "token.kubeconfig"))
        let withToken = try tokenKubectl.run(["get", "namespaces"])
        #expect(withToken.status == 0, "\(withToken)")
        #expect(withToken.stdout.contains("kube-system"))
        let badToken = Kubectl(kubeconfig: try cluster.writeKubeconfig(token: "not-a-token", name: "bad.kubeconfig"))
        let refused = try badToken.run(["get", "namespaces"])
        #expect(refused.stderr.contains("error: You must be logged in to the server (Unauthorized"), "\(refused)")

        // No credentials at all: 401 with a Status, and nothing else. (kubectl answers a 401 to
        // a user without credentials by prompting for a password, so curl asks.)
        guard let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("curl is not installed: the no-credentials check did not run")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: curl)
        process.arguments = [
            "--silent", "--max-time", "20", "--cacert", cluster.pki.caCertificatePath, "--write-out", "\n%{http_code}",
            "https://\(cluster.httpsAddresses[0])/api/v1/namespaces",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.last == "401", "\(lines)")
        let status = try JSONValue(parsing: lines.first ?? "")
        #expect(status["kind"] == "Status")
        #expect(status["reason"] == "Unauthorized")
        #expect(status["message"]?.stringValue?.contains("no credentials") == true)
    }
}
