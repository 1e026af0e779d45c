/// SelectorError is a label or field selector that does not parse or names something the
/// server cannot select on. `position` is the 1-based character offset of the offending token
/// (0 when the problem is not at one place).
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var selector: String
    public var position: Int
    public var message: String

    public init(selector: String, position: Int, message: String) {
        self.selector = selector
        self.position = position
        self.message = message
    }

    public var description: String {
        position > 0
            ? "unable to parse selector \"\(selector)\" at character \(position): \(message)"
            : "invalid selector \"\(selector)\": \(message)"
    }

    /// The 400 Bad Request the server answers with.
    public var apiError: ApiError { .badRequest(description) }
}
