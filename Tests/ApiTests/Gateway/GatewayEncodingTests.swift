import Foundation
import NIOCore
import Wire
import Testing

@testable import Api

@Suite struct GatewayEncodingTests {
    static func pod(_ name: String) -> Pod {
        var pod = Pod()
        pod.metadata = ObjectMeta(name: name, namespace: "default")
        pod.metadata?.resourceVersion = "7"
        pod.metadata?.creationTimestamp = Time(seconds: 1_000, nanos: 0)
        var container = Container()
        container.name = "web"
        container.image = "nginx"
        pod.spec = PodSpec(containers: [container])
        return pod
    }

    // MARK: Status errors kubectl prints

    @Test(arguments: [
        (ApiError.notFound(Pod.resourceType, "x"), 404, "NotFound", #"pods "x" not found"#, "pods"),
        (ApiError.alreadyExists(Pod.resourceType, "x"), 409, "AlreadyExists", #"pods "x" already exists"#, "pods"),
        (ApiError.conflict(Deployment.resourceType, "web", "stale"), 409, "Conflict",
         #"Operation cannot be fulfilled on deployments.apps "web": stale"#, "deployments"),
        (ApiError.badRequest("bad"), 400, "BadRequest", "bad", nil),
    ] as [(ApiError, Int, String, String, String?)])
    func statusCarriesCodeReasonMessageAndDetails(error: ApiError, code: Int, reason: String, message: String, kind: String?) {
        let json = Gateway.statusJSON(error)
        #expect(json["kind"] == "Status")
        #expect(json["apiVersion"] == "v1")
        #expect(json["status"] == "Failure")
        #expect(json["code"]?.int64Value == Int64(code))
        #expect(json["reason"]?.stringValue == reason)
        #expect(json["message"]?.stringValue == message)
        #expect(json["details"]?["kind"]?.stringValue == kind)
    }

    @Test func invalidNamesTheKindAndEachFieldPath() {
        let error = ApiError.invalid(Pod.resourceType, "web", [
            .field("spec.containers[0].image", "FieldValueRequired", "Required value"),
        ])
        let json = Gateway.statusJSON(error)
        #expect(json["code"]?.int64Value == 422)
        #expect(json["reason"] == "Invalid")
        // kubectl prints `The Pod "web" is invalid: …` from details.kind.
        #expect(json["details"]?["kind"] == "Pod")
        #expect(json["details"]?["name"] == "web")
        let cause = json["details"]?["causes"]?.arrayValue?.first
        #expect(cause?["field"] == "spec.containers[0].image")
        #expect(cause?["reason"] == "FieldValueRequired")
    }

    @Test func forbiddenIs403WithTheUserAndTheRequest() {
        let attributes = RequestAttributes(user: UserInfo(name: "jane"), verb: .list, type: Pod.resourceType, namespace: "default")
        let json = Gateway.statusJSON(ApiError.forbidden(attributes, reason: ""))
        #expect(json["code"]?.int64Value == 403)
        #expect(json["reason"] == "Forbidden")
        #expect(json["message"]?.stringValue?.contains(#"User "jane" cannot list resource "pods""#) == true)
    }

    // MARK: Objects, tables, watch lines

    @Test func scaleIsAnAutoscalingV1Scale() {
        var scale = Scale()
        scale.metadata = ObjectMeta(name: "web", namespace: "default")
        scale.spec = ScaleSpec(replicas: 3)
        scale.status = ScaleStatus(replicas: 2, selector: "app=web")
        let json = Gateway.objectJSON(.scale(scale), type: Deployment.resourceType)
        #expect(json["apiVersion"] == "autoscaling/v1")
        #expect(json["kind"] == "Scale")
        #expect(json["spec"]?["replicas"]?.int64Value == 3)
        #expect(json["status"]?["selector"] == "app=web")
    }

    @Test func tableRowsCarryCellsAndPartialObjectMetadata() {
        var meta = ListMeta()
        meta.resourceVersion = "9"
        let table = Gateway.tableJSON(
            type: Pod.resourceType, objects: [Self.pod("web")], listMeta: meta, include: .metadata,
            now: Date(timeIntervalSince1970: 1_030))
        #expect(table["kind"] == "Table")
        #expect(table["apiVersion"] == "meta.k8s.io/v1")
        #expect(table["metadata"]?["resourceVersion"] == "9")
        let columns = table["columnDefinitions"]?.arrayValue ?? []
        let definition = TableDefinitions.definition(for: Pod.resourceType)
        #expect(columns.count == definition.columns.count)
        #expect(columns.first?["name"] == "Name")
        let row = table["rows"]?.arrayValue?.first
        #expect(row?["cells"]?.arrayValue?.first == "web")
        #expect(row?["object"]?["kind"] == "PartialObjectMetadata")
        #expect(row?["object"]?["metadata"]?["name"] == "web")
        #expect(row?["object"]?["spec"] == nil)

        let none = Gateway.tableJSON(type: Pod.resourceType, objects: [Self.pod("web")], listMeta: nil, include: .none)
        #expect(none["rows"]?.arrayValue?.first?["object"] == nil)
        let full = Gateway.tableJSON(type: Pod.resourceType, objects: [Self.pod("web")], listMeta: nil, include: .object)
        #expect(full["rows"]?.arrayValue?.first?["object"]?["spec"]?["containers"] != nil)
        let headless = Gateway.tableJSON(type: Pod.resourceType, objects: [], listMeta: nil, include: .metadata, includeHeaders: false)
        #expect(headless["columnDefinitions"] == .null)
    }

    @Test func watchLinesAreOneJSONEventEachAndEncodedOncePerFormat() throws {
        let pod = Self.pod("web")
        let cached = CachedObject(key: "/registry/pods/default/web", object: pod, bytes: pod.protobufBytes(), revision: 7)
        var delivery = WatchDelivery(.added(cached), resourceType: Pod.resourceType)
        var encodings = 0
        let first = delivery.sharedEncoding("json") { encodings += 1; return HTTPWatchSink.jsonLine($0) }
        let second = delivery.sharedEncoding("json") { encodings += 1; return HTTPWatchSink.jsonLine($0) }
        #expect(encodings == 1, "every watcher of the format gets the same bytes")
        #expect(first == second)
        var bytes = first
        let text = bytes.readString(length: bytes.readableBytes) ?? ""
        #expect(text.hasSuffix("}\n"))
        #expect(text.filter { $0 == "\n" }.count == 1)
        let event = try JSONValue(parsing: String(text.dropLast()))
        #expect(event["type"] == "ADDED")
        #expect(event["object"]?["kind"] == "Pod")
        #expect(event["object"]?["metadata"]?["resourceVersion"] == "7")

        let bookmark = WatchDelivery(.bookmark(revision: 12), resourceType: Pod.resourceType)
        var bookmarkBytes = HTTPWatchSink.jsonLine(bookmark)
        let bookmarkEvent = try JSONValue(parsing: bookmarkBytes.readString(length: bookmarkBytes.readableBytes)!.dropLast().description)
        #expect(bookmarkEvent["type"] == "BOOKMARK")
        #expect(bookmarkEvent["object"]?["metadata"]?["resourceVersion"] == "12")

        var tableBytes = HTTPWatchSink.tableLine(delivery, include: .metadata, includeHeaders: true)
        let tableEvent = try JSONValue(parsing: tableBytes.readString(length: tableBytes.readableBytes)!.dropLast().description)
        #expect(tableEvent["object"]?["kind"] == "Table")
        #expect(tableEvent["object"]?["rows"]?.arrayValue?.count == 1)
    }

    // MARK: Discovery

    @Test func discoveryListsEveryKindWithVerbsAndTheAllCategory() {
        let core = ServedAPI.groupVersion(group: "", version: "v1")
        let pods = core?.resources.first { $0.name == "pods" }
        #expect(pods?.shortNames == ["po"])
        #expect(pods?.categories == ["all"])
        #expect(pods?.verbs.contains("watch") == true)
        #expect(core?.resources.contains { $0.name == "pods/exec" } == true)
        let scale = ServedAPI.groupVersion(group: "apps", version: "v1")?.resources.first { $0.name == "deployments/scale" }
        #expect(scale?.group == "autoscaling")
        #expect(scale?.kind == "Scale")
        let statuses = core?.resources.first { $0.name == "componentstatuses" }
        #expect(statuses?.verbs == ["get", "list"])
        #expect(ServedAPI.namedGroups.contains { $0.name == "authorization.k8s.io" })
        #expect(ServedAPI.groupVersion(group: "authorization.k8s.io", version: "v1")?.resources.map(\.name) == ["selfsubjectaccessreviews"])
    }

    // MARK: Access reviews

    @Test func accessReviewSpecsBecomeRequestAttributes() throws {
        let user = UserInfo(name: "jane")
        let spec: JSONValue = ["resourceAttributes": ["verb": "create", "resource": "pods", "namespace": "dev", "group": ""]]
        let attributes = try Gateway.reviewAttributes(spec, user: user)
        #expect(attributes.verb == .create)
        #expect(attributes.resource == "pods")
        #expect(attributes.namespace == "dev")
        let path = try Gateway.reviewAttributes(["nonResourceAttributes": ["verb": "get", "path": "/healthz"]], user: user)
        #expect(!path.isResourceRequest)
        #expect(path.path == "/healthz")
        #expect(throws: ApiError.self) { try Gateway.reviewAttributes(["resourceAttributes": ["resource": "pods"]], user: user) }
        #expect(throws: ApiError.self) { try Gateway.reviewAttributes(nil, user: user) }
    }

    // MARK: Protobuf request bodies

    /// Kubernetes' envelope: k8s\0, then Unknown{typeMeta{apiVersion, kind}, raw}.
    static func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        var unknown = Unknown()
        unknown.typeMeta = TypeMeta(apiVersion: apiVersion, kind: kind)
        unknown.raw = raw
        return KubernetesProtobuf.magic + unknown.protobufBytes()
    }

    @Test func protobufBodiesUnwrapAndEmptyStringsReadAsUnset() throws {
        var service = Service()
        service.metadata = ObjectMeta(name: "web", generateName: "", namespace: "default")
        service.spec = ServiceSpec()
        service.spec?.type = ""
        service.spec?.selector = ["app": ""]
        let body = Self.envelope(apiVersion: "v1", kind: "Service", raw: service.protobufBytes())
        let decoded = try KubernetesProtobuf.decode(body, apiVersion: "v1", kind: "Service") { try Service.resourceType.decode($0) }
        let normalized = try KubernetesProtobuf.normalized(decoded, type: Service.resourceType) as? Service
        #expect(normalized?.spec?.type == nil, "Go's empty string means unset")
        #expect(normalized?.metadata?.generateName == nil)
        #expect(normalized?.spec?.selector == ["app": ""], "map values are data and stay")

        #expect(throws: ApiError.self) { try KubernetesProtobuf.unwrap([1, 2, 3, 4, 5]) }
        let wrongKind = Self.envelope(apiVersion: "v1", kind: "Pod", raw: [])
        #expect(throws: ApiError.self) { _ = try KubernetesProtobuf.decode(wrongKind, apiVersion: "v1", kind: "Service") { $0 } }
    }

    @Test func protobufAccessReviewsBecomeTheirJSONForm() throws {
        // spec(2){resourceAttributes(1){namespace(1)="dev", verb(2)="get", resource(5)="pods"}}
        func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(bytes.count)] + bytes }
        let attributes = field(1, Array("dev".utf8)) + field(2, Array("get".utf8)) + field(5, Array("pods".utf8))
        let raw = field(2, field(1, attributes))
        let json = try Gateway.reviewFromProtobuf(Self.envelope(apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", raw: raw))
        #expect(json["spec"]?["resourceAttributes"]?["namespace"] == "dev")
        #expect(json["spec"]?["resourceAttributes"]?["verb"] == "get")
        #expect(json["spec"]?["resourceAttributes"]?["resource"] == "pods")
        #expect(throws: ProtobufFields.Malformed.self) { try ProtobufFields([0x12, 0x05, 0x01]) }
    }

    // MARK: Client certificates in the authenticator chain

    @Test func clientCertificatesComeFirstAndMapCommonNameAndOrganizations() throws {
        let tokens = StaticTokenAuthenticator(users: ["t": UserInfo(name: "token-user")])
        let chain = AuthenticatorChain([ClientCertificateAuthenticator(), tokens])
        let certificate = VerifiedClientCertificate(commonName: "admin", organizations: ["system:masters"])
        let user = try chain.authenticate(RequestCredentials(bearerToken: "t", clientCertificate: certificate))
        #expect(user.name == "admin")
        #expect(user.groups == ["system:masters", UserInfo.authenticatedGroup])
        #expect(try chain.authenticate(RequestCredentials(bearerToken: "t")).name == "token-user")
        do {
            _ = try chain.authenticate(RequestCredentials())
            Issue.record("no credentials were accepted")
        } catch {
            #expect(error.code == 401)
            #expect(error.message.contains("no credentials"))
        }
        #expect(throws: ApiError.self) {
            try chain.authenticate(RequestCredentials(clientCertificate: VerifiedClientCertificate(commonName: "", organizations: [])))
        }
    }
}
