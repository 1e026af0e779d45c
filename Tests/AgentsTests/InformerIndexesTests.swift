import Testing

@testable import Agents
@testable import Api

@Suite struct InformerIndexesTests {
    @Test func podsAreIndexedByNamespaceControllerOwnerAndNode() {
        var pod = Pod()
        var meta = ObjectMeta()
        meta.name = "web-1"
        meta.namespace = "shop"
        var controller = OwnerReference()
        controller.uid = "rs-uid"
        controller.controller = true
        var plain = OwnerReference()
        plain.uid = "other-uid"
        meta.ownerReferences = [controller, plain]
        pod.metadata = meta
        var spec = PodSpec()
        spec.nodeName = "node-7"
        pod.spec = spec

        let indexes = InformerIndexes.standard(Pod.self)
        #expect(indexes[InformerIndexes.namespace]!(pod) == ["shop"])
        #expect(indexes[InformerIndexes.controllerUID]!(pod) == ["rs-uid"])
        #expect(indexes[InformerIndexes.ownerUID]!(pod) == ["rs-uid", "other-uid"])
        #expect(indexes[InformerIndexes.nodeName]!(pod) == ["node-7"])
        #expect(indexes[InformerIndexes.orphanNamespace]!(pod) == [])
        #expect(InformerIndexes.standard(ConfigMap.self)[InformerIndexes.nodeName] == nil)
    }

    @Test("objects without a controller reference are orphans of their namespace; a plain owner reference does not count")
    func orphansAreIndexedByNamespace() {
        var pod = Pod()
        pod.metadata = ObjectMeta(name: "stray", namespace: "shop")
        var plain = OwnerReference()
        plain.uid = "other-uid"
        pod.metadata?.ownerReferences = [plain]
        let indexes = InformerIndexes.standard(Pod.self)
        #expect(indexes[InformerIndexes.orphanNamespace]!(pod) == ["shop"])
        var node = Node()
        node.metadata = ObjectMeta(name: "node-1")
        #expect(InformerIndexes.standard(Node.self)[InformerIndexes.orphanNamespace]!(node) == [""])
    }
}
