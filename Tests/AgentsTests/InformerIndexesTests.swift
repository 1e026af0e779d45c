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
        #expect(InformerIndexes.standard(ConfigMap.self)[InformerIndexes.nodeName] == nil)
    }
}
