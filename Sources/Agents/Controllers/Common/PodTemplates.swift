import Api

/// PodTemplates makes a controller's pods from its template, as Kubernetes' GetPodFromTemplate
/// does: the template's labels, annotations, finalizers and spec, the controller reference, and
/// either a fixed name or a generated one (`<owner>-` plus five characters).
public enum PodTemplates {
    public static func pod<Owner: KubernetesObject>(
        from template: PodTemplateSpec?, owner: Owner, name: String? = nil, generateName: String? = nil
    ) -> Pod {
        var meta = ObjectMeta()
        meta.namespace = owner.metadata?.namespace
        meta.labels = template?.metadata?.labels ?? [:]
        meta.annotations = template?.metadata?.annotations ?? [:]
        meta.finalizers = template?.metadata?.finalizers ?? []
        if let name {
            meta.name = name
        } else {
            meta.generateName = generateName ?? ((owner.metadata?.name ?? "pod") + "-")
        }
        meta.ownerReferences = [ControllerRef.to(owner)]
        var pod = Pod()
        pod.metadata = meta
        pod.spec = template?.spec ?? PodSpec()
        return pod
    }

    /// Whether every label of the template is on the pod with the same value (what
    /// `fullyLabeledReplicas` counts).
    public static func isFullyLabeled(_ pod: Pod, template: PodTemplateSpec?) -> Bool {
        let labels = pod.metadata?.labels ?? [:]
        return (template?.metadata?.labels ?? [:]).allSatisfy { labels[$0.key] == $0.value }
    }
}
