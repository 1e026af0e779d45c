@testable import Api
import Testing
import Wire

/// Large generated messages keep their fields in copy-on-write storage (docs/generated-swift.md):
/// they must still behave exactly like plain value types.
@Suite("Generated messages: copy-on-write storage keeps value semantics")
struct GeneratedStorageTests {
    static func pod(_ name: String) -> Pod {
        var container = Container()
        container.name = "web"
        container.image = "nginx:1.27"
        return Pod(metadata: ObjectMeta(name: name, namespace: "default", labels: ["app": "web"]), spec: PodSpec(containers: [container]))
    }

    @Test("a changed copy leaves the original alone, however deep the change")
    func copiesAreIndependent() {
        let original = Self.pod("a")
        var copy = original
        copy.metadata?.name = "b"
        copy.metadata?.labels["tier"] = "front"
        copy.spec?.containers[0].image = "nginx:1.28"
        copy.spec?.containers.append(Container(name: "sidecar"))
        #expect(original.metadata?.name == "a")
        #expect(original.metadata?.labels == ["app": "web"])
        #expect(original.spec?.containers.map(\.image) == ["nginx:1.27"])
        #expect(copy.metadata?.name == "b" && copy.metadata?.labels["tier"] == "front")
        #expect(copy.spec?.containers.map(\.name) == ["web", "sidecar"])
        #expect(copy.spec?.containers[0].image == "nginx:1.28")
    }

    @Test("defaults are shared until changed, and a changed default does not change the next one")
    func defaults() {
        var first = Pod()
        first.metadata = ObjectMeta(name: "x")
        let second = Pod()
        #expect(second.metadata == nil)
        #expect(second == Pod())
        #expect(first != second)
        var spec = PodSpec()
        spec.nodeName = "node-1"
        #expect(PodSpec().nodeName == nil)
    }

    @Test("equality and hashing follow the field values, not the storage")
    func equalityByValue() {
        let left = Self.pod("same")
        let right = Self.pod("same")
        #expect(left == right)
        #expect(left.hashValue == right.hashValue)
        var changed = right
        changed.status = PodStatus(phase: "Running")
        #expect(changed != left)
        #expect(Set([left, right, changed]).count == 2)
    }

    @Test("copies changed on other threads stay independent")
    func concurrentCopies() async {
        let shared = Self.pod("shared")
        let names = await withTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask {
                    var mine = shared
                    for step in 0..<200 { mine.metadata?.labels["step"] = String(step) }
                    mine.metadata?.name = "copy-\(index)"
                    return mine.metadata?.name ?? ""
                }
            }
            var names: [String] = []
            for await name in group { names.append(name) }
            return names
        }
        #expect(Set(names).count == 8)
        #expect(shared.metadata?.name == "shared" && shared.metadata?.labels == ["app": "web"])
    }

    @Test("a protobuf round trip gives an equal value")
    func roundTrip() throws {
        var pod = Self.pod("trip")
        pod.status = PodStatus(phase: "Pending")
        #expect(try Pod(protobuf: pod.protobufBytes()) == pod)
    }
}

/// The watch cache appends an object's resourceVersion to the stored bytes instead of encoding
/// the object again (CachedObject(stored:storedBytes:key:revision:)).
@Suite("Cached objects: the resourceVersion appended to the stored bytes")
struct CachedObjectBytesTests {
    @Test("the bytes decode to the object with its resourceVersion, for a pod and a cluster-scoped kind")
    func appendedVersionDecodes() throws {
        var pod = GeneratedStorageTests.pod("web")
        pod.status = PodStatus(phase: "Running")
        let cachedPod = CachedObject(stored: pod, storedBytes: pod.protobufBytes(), key: "/registry/pods/default/web", revision: 9_223_372_036_854_775_807)
        let decodedPod = try Pod(protobuf: cachedPod.bytes)
        #expect(decodedPod.metadata?.resourceVersion == "9223372036854775807")
        #expect(decodedPod.metadata?.name == "web" && decodedPod.metadata?.labels == ["app": "web"])
        #expect(decodedPod == cachedPod.object as? Pod)
        #expect(decodedPod.status?.phase == "Running" && decodedPod.spec?.containers.first?.image == "nginx:1.27")

        let node = Node(metadata: ObjectMeta(name: "n1"))
        let cachedNode = CachedObject(stored: node, storedBytes: node.protobufBytes(), key: "/registry/minions/n1", revision: 7)
        let decodedNode = try Node(protobuf: cachedNode.bytes)
        #expect(decodedNode.metadata?.name == "n1" && decodedNode.metadata?.resourceVersion == "7")
        // A stored value that still held an older resourceVersion is overridden (last wins).
        var stale = node
        stale.metadata?.resourceVersion = "3"
        let overridden = CachedObject(stored: stale, storedBytes: stale.protobufBytes(), key: "/registry/minions/n1", revision: 8)
        #expect(try Node(protobuf: overridden.bytes).metadata?.resourceVersion == "8")
    }
}
