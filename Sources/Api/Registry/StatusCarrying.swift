import Wire

/// StatusCarrying is a kind with a `status` that only the status subresource writes: an update
/// of the object keeps the stored status, an update of `status` keeps everything else.
public protocol StatusCarrying: KubernetesObject {
    associatedtype ObjectStatus: ProtoMessage
    var status: ObjectStatus? { get set }
}

extension StatusCarrying {
    /// This object with the status of `other` (same kind), or none.
    func withStatus(of other: any KubernetesObject) -> any KubernetesObject {
        var copy = self
        copy.status = (other as? Self)?.status
        return copy
    }

    func withoutStatus() -> any KubernetesObject {
        var copy = self
        copy.status = nil
        return copy
    }
}

extension Namespace: StatusCarrying {}
extension Node: StatusCarrying {}
extension Pod: StatusCarrying {}
extension Service: StatusCarrying {}
extension ReplicationController: StatusCarrying {}
extension ResourceQuota: StatusCarrying {}
extension PersistentVolume: StatusCarrying {}
extension PersistentVolumeClaim: StatusCarrying {}
extension Deployment: StatusCarrying {}
extension ReplicaSet: StatusCarrying {}
extension DaemonSet: StatusCarrying {}
extension StatefulSet: StatusCarrying {}
extension Job: StatusCarrying {}
extension Ingress: StatusCarrying {}

/// Object surgery the registry does without knowing the concrete kind.
enum ObjectParts {
    /// The bytes that decide whether `generation` moves: everything but metadata and status.
    static func specBytes(_ object: any KubernetesObject) -> [UInt8] {
        var copy: any KubernetesObject = object
        copy.metadata = nil
        if let carrying = copy as? any StatusCarrying { copy = carrying.withoutStatus() }
        return copy.protobufBytes()
    }

    /// `new` with the status of `old` when the kind has one.
    static func keepingStatus(_ new: any KubernetesObject, from old: any KubernetesObject) -> any KubernetesObject {
        guard let carrying = new as? any StatusCarrying else { return new }
        return carrying.withStatus(of: old)
    }

    /// `old` with the status of `new`: what a status update stores.
    static func statusOnly(_ new: any KubernetesObject, onto old: any KubernetesObject) -> (any KubernetesObject)? {
        guard let carrying = old as? any StatusCarrying else { return nil }
        return carrying.withStatus(of: new)
    }
}
