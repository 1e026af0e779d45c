import Foundation
import NIOHTTP1
import Testing

@testable import Api

@Suite struct GatewayRoutingTests {
    @Test(arguments: [
        ("/version", GatewayRoute.version),
        ("/healthz", .health(endpoint: "healthz", check: nil)),
        ("/readyz/etcd", .health(endpoint: "readyz", check: "etcd")),
        ("/metrics", .metrics),
        ("/api", .coreVersions),
        ("/api/v1", .resources(group: "", version: "v1")),
        ("/apis", .groups),
        ("/apis/apps", .group("apps")),
        ("/apis/apps/v1", .resources(group: "apps", version: "v1")),
        ("/openapi/v3", .openAPIIndex),
        ("/openapi/v3/apis/apps/v1", .openAPIDocument("apis/apps/v1")),
        ("/openapi/v2", .openAPIV2),
        ("/nothing", .notFound),
        ("/", .notFound),
    ])
    func nonResourcePaths(path: String, route: GatewayRoute) {
        #expect(GatewayRoute(path: path) == route)
    }

    @Test(arguments: [
        ("/api/v1/pods", ResourcePath(resource: "pods")),
        ("/api/v1/namespaces/default/pods", ResourcePath(resource: "pods", namespace: "default")),
        ("/api/v1/namespaces/default/pods/web", ResourcePath(resource: "pods", namespace: "default", name: "web")),
        ("/api/v1/namespaces/default/pods/web/status", ResourcePath(resource: "pods", namespace: "default", name: "web", subresource: "status")),
        ("/api/v1/namespaces", ResourcePath(resource: "namespaces")),
        ("/api/v1/namespaces/kube-system", ResourcePath(resource: "namespaces", name: "kube-system")),
        ("/api/v1/namespaces/kube-system/status", ResourcePath(resource: "namespaces", name: "kube-system", subresource: "status")),
        ("/api/v1/watch/namespaces/default/pods", ResourcePath(resource: "pods", namespace: "default", legacyWatch: true)),
        ("/api/v1/watch/pods", ResourcePath(resource: "pods", legacyWatch: true)),
        ("/apis/apps/v1/namespaces/ns1/deployments/web/scale",
         ResourcePath(group: "apps", version: "v1", resource: "deployments", namespace: "ns1", name: "web", subresource: "scale")),
        ("/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
         ResourcePath(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", name: "admin")),
    ])
    func resourcePathsFollowKubernetesRequestInfo(path: String, expected: ResourcePath) {
        #expect(GatewayRoute(path: path) == .resource(expected))
    }

    @Test func tooManySegmentsIsNotFound() {
        #expect(GatewayRoute(path: "/api/v1/namespaces/a/pods/b/status/extra") == .notFound)
    }

    @Test func verbsFollowMethodAndPath() {
        let named = ResourcePath(resource: "pods", namespace: "default", name: "web")
        let collection = ResourcePath(resource: "pods", namespace: "default")
        #expect(Gateway.verb(method: .GET, path: named, isWatch: false) == .get)
        #expect(Gateway.verb(method: .GET, path: collection, isWatch: false) == .list)
        #expect(Gateway.verb(method: .GET, path: collection, isWatch: true) == .watch)
        #expect(Gateway.verb(method: .GET, path: ResourcePath(resource: "pods", legacyWatch: true), isWatch: false) == .watch)
        #expect(Gateway.verb(method: .POST, path: collection, isWatch: false) == .create)
        #expect(Gateway.verb(method: .PUT, path: named, isWatch: false) == .update)
        #expect(Gateway.verb(method: .PATCH, path: named, isWatch: false) == .patch)
        #expect(Gateway.verb(method: .DELETE, path: named, isWatch: false) == .delete)
        #expect(Gateway.verb(method: .DELETE, path: collection, isWatch: false) == .deleteCollection)
        #expect(Gateway.verb(method: .OPTIONS, path: named, isWatch: false) == nil)
    }

    // MARK: Query

    @Test func queryDecodesLikeGo() throws {
        let query = QueryParameters("labelSelector=app+in+%28a%2Cb%29&limit=500&watch&continue=abc%3D%3D")
        #expect(query["labelSelector"] == "app in (a,b)")
        #expect(try query.int64("limit") == 500)
        #expect(try query.isWatch())
        #expect(query["continue"] == "abc==")
        let options = try query.listQuery()
        #expect(options.labelSelector == "app in (a,b)")
        #expect(options.limit == 500)
        #expect(options.continueToken == "abc==")
    }

    @Test func badQueryValuesAre400NamingTheParameter() {
        #expect(throws: ApiError.badRequest("invalid value \"x\" for query parameter limit: expected an integer")) {
            try QueryParameters("limit=x").listQuery()
        }
        #expect(throws: ApiError.badRequest("invalid value \"maybe\" for query parameter watch: use true or false")) {
            try QueryParameters("watch=maybe").isWatch()
        }
        #expect(throws: ApiError.badRequest("Invalid dry run value \"Some\": the only supported value is All")) {
            try QueryParameters("dryRun=Some").dryRun()
        }
        #expect(throws: ApiError.badRequest("fieldValidation \"Loose\" is not one of Strict, Warn, Ignore")) {
            try QueryParameters("fieldValidation=Loose").fieldValidation()
        }
        #expect(throws: ApiError.self) { try QueryParameters("timeoutSeconds=-1").timeoutSeconds() }
        #expect(throws: ApiError.self) { try IncludeObject(parameter: "Everything") }
    }

    @Test func optionDefaults() throws {
        let empty = QueryParameters("")
        #expect(try empty.dryRun() == false)
        #expect(try QueryParameters("dryRun=All").dryRun())
        #expect(try empty.fieldValidation() == .warn)
        #expect(try QueryParameters("fieldValidation=Strict").fieldValidation() == .strict)
        #expect(try empty.timeoutSeconds() == nil)
        #expect(try QueryParameters("timeoutSeconds=30").timeoutSeconds() == 30)
        #expect(try IncludeObject(parameter: nil) == .metadata)
        let delete = try QueryParameters("propagationPolicy=Foreground&gracePeriodSeconds=0").deleteOptions()
        #expect(delete.propagationPolicy == "Foreground")
        #expect(delete.gracePeriodSeconds == 0)
        #expect(try QueryParameters("orphanDependents=true").deleteOptions().propagationPolicy == "Orphan")
        let watch = try QueryParameters("allowWatchBookmarks=true&resourceVersion=42").watchQuery()
        #expect(watch.allowBookmarks)
        #expect(watch.resourceVersion == "42")
    }

    // MARK: Media types

    @Test func kubectlGetAsksForATable() throws {
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        #expect(try ResponseFormat.negotiate(accept: accept) == .table)
        #expect(try ResponseFormat.negotiate(accept: "application/json;as=Table;v=v1beta1;g=meta.k8s.io") == .table)
    }

    @Test func protobufFirstFallsBackToJSON() throws {
        #expect(try ResponseFormat.negotiate(accept: "application/vnd.kubernetes.protobuf, */*") == .json)
        #expect(try ResponseFormat.negotiate(accept: "application/vnd.kubernetes.protobuf,application/json") == .json)
        #expect(try ResponseFormat.negotiate(accept: nil) == .json)
        #expect(try ResponseFormat.negotiate(accept: "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json") == .json)
    }

    @Test func nothingAcceptableIs406() {
        do {
            _ = try ResponseFormat.negotiate(accept: "application/vnd.kubernetes.protobuf")
            Issue.record("protobuf only was accepted")
        } catch {
            #expect(error.code == 406)
            #expect(error.reason == "NotAcceptable")
        }
    }
}
