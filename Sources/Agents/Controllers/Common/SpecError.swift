/// SpecError is a workload whose spec the controller cannot act on (a percentage that does not
/// parse, a selector with a bad operator). It is the user's to fix: controllers report it as a
/// Warning event on the object and do not retry until the object changes.
public struct SpecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field, such as "spec.strategy.rollingUpdate.maxSurge".
    public var field: String
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
