/// ApiError is every way an API request fails, as a Kubernetes Status: kubectl prints
/// `Error from server (<reason>): <message>`. Messages name the object and, for Invalid, each
/// field path with what is wrong.
public struct ApiError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int32
    public var reason: String
    public var message: String
    public var details: StatusDetails?

    public init(code: Int32, reason: String, message: String, details: StatusDetails? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "(\(reason)) \(message)" }

    /// Any error as an ApiError; errors that are not already one are internal errors.
    public static func from(_ error: any Error) -> ApiError {
        (error as? ApiError) ?? .internalError("\(error)")
    }

    /// The Status object kubectl expects.
    public var status: Status {
        var status = Status()
        status.status = "Failure"
        status.message = message
        status.reason = reason
        status.details = details
        status.code = code
        return status
    }

    public init(_ status: Status) {
        self.init(
            code: status.code ?? 500, reason: status.reason ?? "InternalError", message: status.message ?? "",
            details: status.details)
    }

    static func details(_ type: ResourceType, _ name: String, causes: [StatusCause] = []) -> StatusDetails {
        var details = StatusDetails()
        details.name = name
        details.group = type.group
        details.kind = type.plural
        details.causes = causes
        return details
    }

    // MARK: The reasons kubectl knows

    public static func notFound(_ type: ResourceType, _ name: String) -> ApiError {
        ApiError(code: 404, reason: "NotFound", message: "\(type.qualifiedName) \"\(name)\" not found",
                 details: details(type, name))
    }

    public static func alreadyExists(_ type: ResourceType, _ name: String) -> ApiError {
        ApiError(code: 409, reason: "AlreadyExists", message: "\(type.qualifiedName) \"\(name)\" already exists",
                 details: details(type, name))
    }

    /// The optimistic-concurrency failure (seed item 10): the caller must read again and retry.
    public static func conflict(_ type: ResourceType, _ name: String, _ why: String) -> ApiError {
        ApiError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": \(why)",
            details: details(type, name))
    }

    /// One or more fields are wrong; each cause names its field path.
    public static func invalid(_ type: ResourceType, _ name: String, _ causes: [StatusCause]) -> ApiError {
        let summary = causes.map { cause in
            [cause.field, cause.message].compactMap { $0 }.joined(separator: ": ")
        }.joined(separator: ", ")
        // Like Kubernetes' NewInvalid, the details name the kind ("Pod"), not the resource:
        // kubectl prints `The Pod "web" is invalid: …` from them.
        var details = details(type, name, causes: causes)
        details.kind = type.kind
        return ApiError(
            code: 422, reason: "Invalid", message: "\(type.kind) \"\(name)\" is invalid: \(summary)",
            details: details)
    }

    public static func badRequest(_ message: String) -> ApiError {
        ApiError(code: 400, reason: "BadRequest", message: message)
    }

    public static func forbidden(_ user: String, verb: String, type: ResourceType?, resourceName: String, namespace: String, why: String = "") -> ApiError {
        let resource = type?.plural ?? "resources"
        let group = type.map { $0.group.isEmpty ? "in API group \"\"" : "in API group \"\($0.group)\"" } ?? ""
        let scope = namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(namespace)\""
        let named = resourceName.isEmpty ? "" : " \"\(resourceName)\""
        return ApiError(
            code: 403, reason: "Forbidden",
            message: "\(resource)\(named) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resource)\" \(group) \(scope)"
                + (why.isEmpty ? "" : ": \(why)"))
    }

    public static func unauthorized(_ message: String = "Unauthorized") -> ApiError {
        ApiError(code: 401, reason: "Unauthorized", message: message)
    }

    /// A watch or list from a version the cache no longer holds: list again.
    public static func expired(_ message: String) -> ApiError {
        ApiError(code: 410, reason: "Expired", message: message)
    }

    public static func methodNotSupported(_ type: ResourceType, _ verb: String) -> ApiError {
        ApiError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on \(type.qualifiedName): \(verb)")
    }

    public static func internalError(_ message: String) -> ApiError {
        ApiError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func unavailable(_ message: String) -> ApiError {
        ApiError(code: 503, reason: "ServiceUnavailable", message: message)
    }

    public static func timeout(_ message: String) -> ApiError {
        ApiError(code: 504, reason: "Timeout", message: message)
    }
}

extension StatusCause {
    /// A field error, as validation reports it: "spec.containers[0].image: Required value".
    public static func field(_ path: String, _ type: String, _ message: String) -> StatusCause {
        var cause = StatusCause()
        cause.reason = type
        cause.message = message
        cause.field = path
        return cause
    }
}
