import Foundation
import Testing

@testable import Api

@Suite struct OpenAPITests {
    static let documents = OpenAPIDocuments.shared

    static func documentPath(_ type: ResourceType) -> String {
        type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
    }

    static func schemas(_ path: String) -> JSONObject {
        documents.document(path: path)?["components"]?["schemas"]?.objectValue ?? JSONObject()
    }

    /// Follows `allOf: [{$ref}]` and `$ref` to the named schema.
    static func resolve(_ schema: JSONValue, in schemas: JSONObject) -> JSONValue {
        if let reference = schema["allOf"]?.arrayValue?.first?["$ref"]?.stringValue ?? schema["$ref"]?.stringValue {
            let name = String(reference.dropFirst("#/components/schemas/".count))
            return schemas[name] ?? .null
        }
        return schema
    }

    @Test func indexListsEveryGroupVersionWithAStableHash() throws {
        let index = Self.documents.index()
        let paths = try #require(index["paths"]?.objectValue)
        #expect(Set(paths.keys) == Set(ResourceCatalog.all.map(Self.documentPath)))
        let url = try #require(paths["apis/apps/v1"]?["serverRelativeURL"]?.stringValue)
        #expect(url.hasPrefix("/openapi/v3/apis/apps/v1?hash="))
        let hash = String(url.dropFirst("/openapi/v3/apis/apps/v1?hash=".count))
        #expect(hash.count == 64 && hash.allSatisfy { $0.isHexDigit })
        // Built again from the same tables: the same bytes and hashes.
        let again = OpenAPIDocuments(resources: ResourceCatalog.all)
        #expect(again.index() == index)
        #expect(again.documentBytes(path: "api/v1") == Self.documents.documentBytes(path: "api/v1"))
        #expect(Self.documents.document(path: "apis/nothing/v1") == nil)
        let bytes = try #require(Self.documents.documentBytes(path: "apis/apps/v1"))
        #expect(SHA256.hash(bytes).map { String(format: "%02X", $0) }.joined() == hash)
    }

    /// What kubectl explain and apply look up: a schema with the kind's GVK, and operations on
    /// the resource's paths carrying the GVK; PATCH lists fieldValidation (kubectl's strict
    /// validation check).
    @Test(arguments: ResourceCatalog.all)
    func everyKindHasASchemaWithItsGVKAndOperations(type: ResourceType) throws {
        let path = Self.documentPath(type)
        let document = try #require(Self.documents.document(path: path))
        #expect(document["openapi"] == "3.0.0")
        let gvk: JSONValue = ["group": .string(type.group), "kind": .string(type.kind), "version": .string(type.version)]
        let schema = try #require(Self.schemas(path)[type.schemaName])
        #expect(schema["x-kubernetes-group-version-kind"] == [gvk])
        #expect(schema["properties"]?["metadata"] != nil)
        #expect(schema["properties"]?["apiVersion"]?["type"] == "string")
        #expect(Self.schemas(path)[type.schemaName + "List"]?["x-kubernetes-group-version-kind"]?.arrayValue?.first?["kind"]
            == .string(type.listKind))

        let prefix = "/" + path + (type.namespaced ? "/namespaces/{namespace}/" : "/") + type.plural
        let collection = try #require(document["paths"]?[prefix])
        let item = try #require(document["paths"]?[prefix + "/{name}"])
        for (operations, verbs) in [(collection, ["get", "post"]), (item, ["get", "put", "patch", "delete"])] {
            for verb in verbs {
                #expect(operations[verb]?["x-kubernetes-group-version-kind"] == gvk, "\(prefix) \(verb)")
                #expect(operations[verb]?["x-kubernetes-action"] != nil)
            }
        }
        #expect(collection["get"]?["x-kubernetes-action"] == "list")
        #expect(item["patch"]?["x-kubernetes-action"] == "patch")
        let patchParameters = item["patch"]?["parameters"]?.arrayValue ?? []
        #expect(patchParameters.contains { $0["name"] == "fieldValidation" && $0["in"] == "query" })
        let patchTypes = item["patch"]?["requestBody"]?["content"]?.objectValue?.keys ?? []
        #expect(Set(patchTypes).isSuperset(of: ["application/strategic-merge-patch+json", "application/apply-patch+yaml"]))
        if type.subresources.contains("status") {
            #expect(document["paths"]?[prefix + "/{name}/status"]?["patch"]?["x-kubernetes-group-version-kind"] == gvk)
        }
    }

    /// Every member the JSON codec writes for a fully set Pod is described, down to the leaves,
    /// with the JSON type the codec writes.
    @Test func everyFieldOfPodIsDescribed() throws {
        let schemas = Self.schemas("api/v1")
        var checked = 0
        func walk(_ value: JSONValue, _ schema: JSONValue, _ path: String) {
            let resolved = Self.resolve(schema, in: schemas)
            switch value {
            case .object(let members):
                if let additional = resolved["additionalProperties"] {
                    for (key, member) in members { walk(member, additional, "\(path)[\(key)]") }
                } else if resolved["type"] == "object", resolved["properties"] == nil {
                    checked += 1  // embedded JSON (RawExtension, FieldsV1)
                } else {
                    for (key, member) in members {
                        guard let property = resolved["properties"]?[key] else {
                            Issue.record("\(path).\(key) is not in the schema")
                            continue
                        }
                        #expect(property["description"]?.stringValue?.isEmpty == false, "\(path).\(key) has no description")
                        walk(member, property, path.isEmpty ? key : "\(path).\(key)")
                    }
                }
            case .array(let elements):
                #expect(resolved["type"] == "array", "\(path)")
                for element in elements { walk(element, resolved["items"] ?? .null, path + "[]") }
            case .string:
                checked += 1
                #expect(resolved["type"] == "string" || resolved["oneOf"] != nil, "\(path): \(resolved.compactText)")
            case .number:
                checked += 1
                #expect(resolved["type"] == "integer" || resolved["type"] == "number" || resolved["oneOf"] != nil, "\(path)")
            case .bool:
                checked += 1
                #expect(resolved["type"] == "boolean", "\(path)")
            case .null:
                Issue.record("\(path) is null")
            }
        }
        let pod = JSONSamples.document(for: "io.k8s.api.core.v1.Pod")
        walk(pod, schemas["io.k8s.api.core.v1.Pod"] ?? .null, "")
        #expect(checked > 300)
    }

    @Test func patchMetadataMatchesKubernetes() throws {
        let schemas = Self.schemas("api/v1")
        let podSpec = try #require(schemas["io.k8s.api.core.v1.PodSpec"]?["properties"])
        #expect(podSpec["containers"]?["x-kubernetes-patch-merge-key"] == "name")
        #expect(podSpec["containers"]?["x-kubernetes-patch-strategy"] == "merge")
        #expect(podSpec["containers"]?["x-kubernetes-list-type"] == "map")
        #expect(podSpec["containers"]?["x-kubernetes-list-map-keys"] == ["name"])
        #expect(podSpec["volumes"]?["x-kubernetes-patch-strategy"] == "merge,retainKeys")
        #expect(podSpec["tolerations"]?["x-kubernetes-list-type"] == "atomic")
        #expect(podSpec["tolerations"]?["x-kubernetes-patch-merge-key"] == nil)
        let container = try #require(schemas["io.k8s.api.core.v1.Container"])
        #expect(container["required"] == ["name"])
        #expect(container["properties"]?["ports"]?["x-kubernetes-patch-merge-key"] == "containerPort")
        #expect(container["properties"]?["ports"]?["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"])
        #expect(container["properties"]?["env"]?["x-kubernetes-patch-merge-key"] == "name")
        #expect(container["properties"]?["volumeMounts"]?["x-kubernetes-patch-merge-key"] == "mountPath")
        #expect(container["properties"]?["ports"]?["items"]?["allOf"] == [["$ref": "#/components/schemas/io.k8s.api.core.v1.ContainerPort"]])
        let meta = try #require(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]?["properties"])
        #expect(meta["finalizers"]?["x-kubernetes-patch-strategy"] == "merge")
        #expect(meta["ownerReferences"]?["x-kubernetes-patch-merge-key"] == "uid")
        let podStatus = try #require(schemas["io.k8s.api.core.v1.PodStatus"]?["properties"])
        #expect(podStatus["conditions"]?["x-kubernetes-patch-merge-key"] == "type")
        // Inline members appear in their parent: Volume has configMap, Probe has httpGet.
        #expect(schemas["io.k8s.api.core.v1.Volume"]?["properties"]?["configMap"] != nil)
        #expect(schemas["io.k8s.api.core.v1.Probe"]?["properties"]?["httpGet"] != nil)
        #expect(schemas["io.k8s.api.core.v1.ConfigMapKeySelector"]?["properties"]?["name"] != nil)
        #expect(schemas["io.k8s.api.core.v1.ConfigMapKeySelector"]?["required"] == ["key"])
        let apps = Self.schemas("apis/apps/v1")
        #expect(apps["io.k8s.api.apps.v1.DeploymentSpec"]?["properties"]?["strategy"]?["x-kubernetes-patch-strategy"] == "retainKeys")
        #expect(apps["io.k8s.api.apps.v1.DeploymentSpec"]?["required"] == ["selector", "template"])
    }

    @Test func specialTypesHaveKubernetesForms() throws {
        let schemas = Self.schemas("api/v1")
        let intOrString = try #require(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])
        #expect(intOrString["format"] == "int-or-string")
        #expect(intOrString["x-kubernetes-int-or-string"] == true)
        #expect(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]?["oneOf"] == [["type": "string"], ["type": "number"]])
        #expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]?["format"] == "date-time")
        #expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]?["type"] == "string")
        let secret = try #require(schemas["io.k8s.api.core.v1.Secret"]?["properties"]?["data"])
        #expect(secret["additionalProperties"] == ["type": "string", "format": "byte"])
        let description = try #require(schemas["io.k8s.api.core.v1.Pod"]?["description"]?.stringValue)
        #expect(description.hasPrefix("Pod is a group of containers"))
        // Markers are not prose.
        let containers = try #require(schemas["io.k8s.api.core.v1.PodSpec"]?["properties"]?["containers"]?["description"]?.stringValue)
        #expect(containers == "The main containers; at least one.")
    }
}
