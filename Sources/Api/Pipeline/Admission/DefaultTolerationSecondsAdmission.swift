/// DefaultTolerationSecondsAdmission gives every pod a bounded stay on a node that stopped
/// working (Kubernetes' DefaultTolerationSeconds): a pod without a NoExecute toleration of
/// `node.kubernetes.io/not-ready` gets one for `notReadySeconds`, and likewise for
/// `node.kubernetes.io/unreachable`. The node lifecycle controller taints a failed node with
/// these; once the seconds run out it evicts the pod, so its controller recreates it elsewhere
/// — five minutes after a node dies by default, instead of never.
///
/// A toleration already covers a taint when its key is the taint's or empty (all keys) and its
/// effect NoExecute or empty (all effects), whatever its seconds: the pod's own choice wins.
public struct DefaultTolerationSecondsAdmission: AdmissionPlugin {
    public static let pluginName = "DefaultTolerationSeconds"
    public static let notReadyTaintKey = "node.kubernetes.io/not-ready"
    public static let unreachableTaintKey = "node.kubernetes.io/unreachable"

    public var name: String { Self.pluginName }
    /// `--default-not-ready-toleration-seconds` (300).
    public let notReadySeconds: Int64
    /// `--default-unreachable-toleration-seconds` (300).
    public let unreachableSeconds: Int64

    public init(notReadySeconds: Int64 = 300, unreachableSeconds: Int64 = 300) {
        precondition(notReadySeconds >= 0 && unreachableSeconds >= 0, "toleration seconds must not be negative")
        self.notReadySeconds = notReadySeconds
        self.unreachableSeconds = unreachableSeconds
    }

    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        guard request.operation != .delete, var pod = request.pod else { return }
        var spec = pod.spec ?? PodSpec()
        let before = spec.tolerations.count
        spec.tolerations = Self.withDefaults(
            spec.tolerations, notReadySeconds: notReadySeconds, unreachableSeconds: unreachableSeconds)
        guard spec.tolerations.count != before else { return }
        pod.spec = spec
        request.object = pod
    }

    /// `tolerations` plus the default toleration of each of the two taints they do not cover.
    public static func withDefaults(_ tolerations: [Toleration], notReadySeconds: Int64, unreachableSeconds: Int64) -> [Toleration] {
        var result = tolerations
        for (key, seconds) in [(notReadyTaintKey, notReadySeconds), (unreachableTaintKey, unreachableSeconds)]
        where !tolerations.contains(where: { covers($0, key: key) }) {
            var toleration = Toleration()
            toleration.key = key
            toleration.operator = "Exists"
            toleration.effect = "NoExecute"
            toleration.tolerationSeconds = seconds
            result.append(toleration)
        }
        return result
    }

    /// Kubernetes' test: the key matches (or is empty) and the effect is NoExecute (or empty).
    /// The operator and value are not looked at, as in Kubernetes.
    static func covers(_ toleration: Toleration, key: String) -> Bool {
        let tolerationKey = toleration.key ?? ""
        let effect = toleration.effect ?? ""
        return (tolerationKey == key || tolerationKey.isEmpty) && (effect == "NoExecute" || effect.isEmpty)
    }
}
