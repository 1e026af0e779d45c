import Foundation
import Testing

/// PythonKubernetes finds a Python interpreter that has Kubernetes' client library (Debian's
/// python3-kubernetes, which scripts/bootstrap installs, or one from PyPI).
enum PythonKubernetes {
    static let interpreter: String? = {
        for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate)
            process.arguments = ["-c", "import kubernetes"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return candidate }
        }
        return nil
    }()

    static let missing: Comment = "no python3 with the kubernetes module: apt-get install python3-kubernetes (scripts/bootstrap does)"
}

/// Kubernetes' Python client against the HTTPS gateway: it reads the kubeconfig `agentctl
/// kubeconfig` writes, creates, lists and deletes a pod, and watches from the list's
/// resourceVersion, decoding every object into its typed models.
@Suite(
    "Python kubernetes client against the HTTPS gateway (real processes)", .serialized,
    .enabled(if: Kubectl.isAvailable, Kubectl.missing), .enabled(if: PythonKubernetes.interpreter != nil, PythonKubernetes.missing))
struct PythonClientTests {
    static let script = """
        import json, sys
        from kubernetes import client, config, watch

        config.load_kube_config(config_file=sys.argv[1])
        core = client.CoreV1Api()
        before = core.list_namespaced_pod("default")
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]))
        created = core.create_namespaced_pod("default", pod)
        listed = core.list_namespaced_pod("default", label_selector="app=py")
        core.delete_namespaced_pod("py-pod", "default")
        events = []
        stream = watch.Watch()
        for event in stream.stream(core.list_namespaced_pod, "default", resource_version=before.metadata.resource_version, timeout_seconds=60):
            events.append([event["type"], event["object"].metadata.name])
            if event["type"] == "DELETED":
                stream.stop()
        print(json.dumps({
            "before": [item.metadata.name for item in before.items],
            "listed": [item.metadata.name for item in listed.items],
            "image": created.spec.containers[0].image,
            "created": created.metadata.creation_timestamp.isoformat(),
            "events": events,
        }))

        """

    @Test("list, create, watch and delete pods with the Python client")
    func listAndWatchPods() async throws {
        let interpreter = try #require(PythonKubernetes.interpreter)
        let cluster = try KubectlCluster()
        defer { cluster.stop() }
        try await cluster.start()

        let script = try cluster.file("pods.py", Self.script)
        let outcome = try await cluster.runner.run(interpreter, [script, cluster.kubeconfig(.admin)], environment: cluster.environment(.admin))
        #expect(outcome.status == 0, "\(outcome)")
        let result = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        #expect(result?["before"] as? [String] == [], "\(outcome)")
        #expect(result?["listed"] as? [String] == ["py-pod"], "\(outcome)")
        #expect(result?["image"] as? String == "nginx:1.27", "\(outcome)")
        #expect((result?["created"] as? String)?.hasSuffix("+00:00") == true, "\(outcome)")
        #expect(result?["events"] as? [[String]] == [["ADDED", "py-pod"], ["DELETED", "py-pod"]], "\(outcome)")
    }
}
