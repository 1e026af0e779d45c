import Api
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
