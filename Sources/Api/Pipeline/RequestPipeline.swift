/// RequestPipeline is the order every request goes through (seed item 15, DESIGN.md section 5):
///
/// 1. `authenticate(token:)` — the bearer token to a `UserInfo` (401 when no plugin knows it);
/// 2. `authorize(_:)` — the `RequestAttributes` built from the request and that user
///    (403 unless an authorizer allows);
/// 3. for writes only, `admitAndValidate(_:)` — admission plugins may change the object and
///    refuse (403, 404), then `Validation` checks it (422 Invalid with one cause per field);
/// 4. the server stores the object, together with `request.quotaStatusUpdates`.
///
/// Reads stop after step 2; label and field selectors of lists and watches are parsed with
/// `ParsedLabelSelector(parsing:)` and `FieldSelector(parsing:)` (400 on errors, via
/// `SelectorError.apiError`) and checked with `FieldSelector.validate(for:)`.
public struct RequestPipeline: Sendable {
    public var authenticators: AuthenticatorChain
    public var authorizer: AuthorizerChain
    public var admission: AdmissionChain

    public init(authenticators: AuthenticatorChain, authorizer: AuthorizerChain, admission: AdmissionChain) {
        self.authenticators = authenticators
        self.authorizer = authorizer
        self.admission = admission
    }

    public func authenticate(token: String) throws(ApiError) -> UserInfo {
        try authenticators.authenticate(token: token)
    }

    public func authenticate(_ credentials: RequestCredentials) throws(ApiError) -> UserInfo {
        try authenticators.authenticate(credentials)
    }

    public func authorize(_ attributes: RequestAttributes) throws(ApiError) {
        try authorizer.check(attributes)
    }

    /// Admission, then validation of the admitted object for creates and updates of the main
    /// resource (subresource writes are shaped by the server itself and are not validated).
    public func admitAndValidate(_ request: inout AdmissionRequest) throws(ApiError) {
        try admission.admit(&request)
        guard request.operation != .delete, request.attributes.subresource.isEmpty, let object = request.object else { return }
        let causes = Validation.validate(object: object, old: request.operation == .update ? request.oldObject : nil)
        if !causes.isEmpty {
            throw ApiError.invalid(object.resourceType, object.metadata?.name ?? request.objectName, causes)
        }
    }
}
