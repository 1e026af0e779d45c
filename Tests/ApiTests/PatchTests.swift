import Testing

@testable import Api

@Suite struct PatchTests {
    static func json(_ text: String) -> JSONValue {
        do { return try JSONValue(parsing: text) } catch { preconditionFailure("\(error) in \(text)") }
    }

    static func patch(_ type: String, _ patch: String, _ current: String, kind: ResourceType = Pod.resourceType) throws(ApiError) -> JSONValue {
        try PatchEngine.apply(patchType: type, patch: Array(patch.utf8), to: json(current), type: kind)
    }

    // MARK: JSON merge patch (RFC 7386, appendix A)

    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        ("{}", #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergePatchFollowsRFC7386(target: String, patch: String, result: String) {
        #expect(JSONMergePatch.apply(Self.json(patch), to: Self.json(target)) == Self.json(result))
    }

    @Test func mergePatchReplacesListsOfAPod() throws {
        let current = #"{"metadata":{"name":"p","labels":{"app":"a","tier":"x"}},"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}]}}"#
        let result = try Self.patch(PatchEngine.mergePatch, #"{"metadata":{"labels":{"tier":null}},"spec":{"containers":[{"name":"c"}]}}"#, current)
        #expect(result == Self.json(#"{"metadata":{"name":"p","labels":{"app":"a"}},"spec":{"containers":[{"name":"c"}]}}"#))
    }

    // MARK: JSON patch (RFC 6902, appendix A)

    @Test(arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        (#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#, #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
         #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        (#"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, #"{"foo":["all","cows","eat","grass"]}"#),
        (#"{"baz":"qux","foo":["a",2,"c"]}"#, #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
         #"{"baz":"qux","foo":["a",2,"c"]}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#, #"{"foo":"bar","baz":"qux"}"#),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#, #"{"/":9,"~1":10}"#),
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, #"{"foo":["bar",["abc","def"]]}"#),
        (#"{"a":{"b":1}}"#, #"[{"op":"copy","from":"/a","path":"/c"},{"op":"replace","path":"/c/b","value":2}]"#, #"{"a":{"b":1},"c":{"b":2}}"#),
    ])
    func jsonPatchFollowsRFC6902(document: String, patch: String, result: String) throws {
        #expect(try Self.patch(PatchEngine.jsonPatch, patch, document) == Self.json(result))
    }

    @Test(arguments: [
        (#"[{"op":"test","path":"/baz","value":"bar"}]"#, 422, #"JSON patch operation 0 (test "/baz"): test failed: the value is "qux", not "bar""#),
        (#"[{"op":"add","path":"/baz/bat","value":"qux"}]"#, 422, #"JSON patch operation 0 (add "/baz/bat"): the parent is a string, not an object or array"#),
        (#"[{"op":"add","path":"/x","value":1},{"op":"replace","path":"/spec/replicas","value":3}]"#, 422,
         #"JSON patch operation 1 (replace "/spec/replicas"): the path does not exist"#),
        (#"[{"op":"remove","path":"/foo/5"}]"#, 422, #"JSON patch operation 0 (remove "/foo/5"): the path does not exist"#),
        (#"[{"op":"add","path":"/foo/01","value":1}]"#, 422, "array index 01 is out of range"),
        (#"[{"op":"jump","path":"/foo"}]"#, 400, "unknown op"),
        (#"[{"op":"add","path":"foo","value":1}]"#, 400, "a JSON pointer starts with '/'"),
        (#"[{"op":"add","path":"/foo"}]"#, 400, #"missing "value""#),
        (#"{"op":"add"}"#, 400, "a JSON patch is an array of operations"),
        (#"[{"op":"move","from":"/foo","path":"/foo/0"}]"#, 422, "cannot move a value into one of its own members"),
    ])
    func jsonPatchErrorsNameTheOperation(patch: String, code: Int32, message: String) {
        do {
            let result = try Self.patch(PatchEngine.jsonPatch, patch, #"{"baz":"qux","foo":["a","b"]}"#)
            Issue.record("applied: \(result.compactText)")
        } catch {
            #expect(error.code == code)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func patchTypesAreChecked() throws {
        #expect(throws: ApiError.self) { try Self.patch("application/xml", "{}", "{}") }
        do {
            _ = try Self.patch("text/plain", "{}", "{}")
        } catch {
            #expect(error.code == 415)
        }
        #expect(throws: ApiError.badRequest("the patch is not valid JSON: invalid JSON at byte 1: expected a member name in quotes")) {
            try Self.patch(PatchEngine.mergePatch, "{,}", "{}")
        }
        // Parameters after the media type are ignored.
        #expect(try Self.patch("application/merge-patch+json; charset=utf-8", #"{"a":1}"#, "{}") == ["a": 1])
    }

    // MARK: Strategic merge patch (Kubernetes' documented behaviour)

    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"patch-demo","finalizers":["a","b"]},
         "spec":{"replicas":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},
          "template":{"metadata":{"labels":{"app":"nginx"}},"spec":{
            "containers":[{"name":"patch-demo-ctr","image":"nginx","ports":[{"containerPort":80},{"containerPort":443}],
                           "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}],
            "tolerations":[{"effect":"NoSchedule","key":"dedicated","value":"test-team"}],
            "volumes":[{"name":"data","emptyDir":{}}]}}}}
        """#

    static func strategic(_ patch: String, _ current: String = deployment) throws(ApiError) -> JSONValue {
        try Self.patch(PatchEngine.strategicMergePatch, patch, current, kind: Deployment.resourceType)
    }

    static func containers(_ value: JSONValue) -> [JSONValue] {
        value["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
    }

    /// kubernetes.io "Update API Objects in Place Using kubectl patch": a container added by a
    /// strategic merge patch joins the list (first), where a merge patch would replace it.
    @Test func containersMergeByName() throws {
        let result = try Self.strategic(#"{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"}]}}}}"#)
        #expect(Self.containers(result).map { $0["name"] } == ["patch-demo-ctr-2", "patch-demo-ctr"])
        #expect(Self.containers(result)[1]["image"] == "nginx")
        // Same name: merged in place, other members kept.
        let updated = try Self.strategic(#"{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr","image":"nginx:1.27"}]}}}}"#)
        #expect(Self.containers(updated).count == 1)
        #expect(Self.containers(updated)[0]["image"] == "nginx:1.27")
        #expect(Self.containers(updated)[0]["ports"]?.arrayValue?.count == 2)
    }

    /// Same page: tolerations have no patch strategy, so the patch replaces the list.
    @Test func listsWithoutAStrategyAreReplaced() throws {
        let result = try Self.strategic(#"{"spec":{"template":{"spec":{"tolerations":[{"effect":"NoSchedule","key":"disktype","value":"ssd"}]}}}}"#)
        #expect(result["spec"]?["template"]?["spec"]?["tolerations"] == Self.json(#"[{"effect":"NoSchedule","key":"disktype","value":"ssd"}]"#))
    }

    /// Same page: `$retainKeys` with a strategy change drops rollingUpdate.
    @Test func retainKeysDropsUnlistedMembers() throws {
        let result = try Self.strategic(#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#)
        #expect(result["spec"]?["strategy"] == ["type": "Recreate"])
        #expect(throws: ApiError.self) {
            try Self.strategic(#"{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":2}}}}"#)
        }
    }

    @Test func nestedListsMergeByTheirKeys() throws {
        let result = try Self.strategic(#"""
            {"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr",
              "ports":[{"containerPort":443,"name":"https"},{"containerPort":8080}],
              "env":[{"name":"B","value":"3"},{"name":"A","$patch":"delete"}]}]}}}}
            """#)
        let container = Self.containers(result)[0]
        #expect(container["ports"] == Self.json(#"[{"containerPort":80},{"containerPort":443,"name":"https"},{"containerPort":8080}]"#))
        #expect(container["env"] == Self.json(#"[{"name":"B","value":"3"}]"#))
    }

    @Test func nullDeletesAndPatchDirectivesWork() throws {
        let result = try Self.strategic(#"""
            {"metadata":{"labels":{"new":"x"}},"spec":{"replicas":null,"template":{"metadata":{"labels":{"app":null}},
             "spec":{"volumes":[{"$patch":"replace"},{"name":"cache","emptyDir":{"medium":"Memory"}}]}}}}
            """#)
        #expect(result["metadata"]?["labels"] == ["new": "x"])
        #expect(result["spec"]?["replicas"] == nil)
        #expect(result["spec"]?["template"]?["metadata"]?["labels"] == [:])
        #expect(result["spec"]?["template"]?["spec"]?["volumes"] == Self.json(#"[{"name":"cache","emptyDir":{"medium":"Memory"}}]"#))
        let replacedMap = try Self.strategic(#"{"spec":{"strategy":{"$patch":"replace","type":"Recreate"}}}"#)
        #expect(replacedMap["spec"]?["strategy"] == ["type": "Recreate"])
        let deletedMap = try Self.strategic(#"{"spec":{"strategy":{"$patch":"delete"}}}"#)
        #expect(deletedMap["spec"]?["strategy"] == [:])
        let mergedMap = try Self.strategic(#"{"spec":{"strategy":{"$patch":"merge","type":"Recreate"}}}"#)
        #expect(mergedMap["spec"]?["strategy"] == Self.json(#"{"type":"Recreate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}"#))
    }

    @Test func primitiveListsWithMergeStrategyUnion() throws {
        let added = try Self.strategic(#"{"metadata":{"finalizers":["c","a"]}}"#)
        #expect(added["metadata"]?["finalizers"] == ["c", "a", "b"])
        let removed = try Self.strategic(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#)
        #expect(removed["metadata"]?["finalizers"] == ["b"])
    }

    /// What kubectl apply sends: the order of the merged list is the configuration's.
    @Test func setElementOrderFixesTheOrder() throws {
        let current = #"{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"sidecar"}]}}}}"#
        let result = try Self.strategic(
            #"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"b","image":"x"}]}}}}"#,
            current)
        // The sidecar (not in the configuration) stays after the elements the server had first.
        #expect(Self.containers(result).map { $0["name"] } == ["b", "a", "sidecar"])
        #expect(Self.containers(result)[0]["image"] == "x")
    }

    @Test func strategicErrorsNameTheField() {
        do {
            _ = try Self.strategic(#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#)
            Issue.record("accepted an element without its merge key")
        } catch {
            #expect(error.code == 422)
            #expect(error.message.contains("spec.template.spec.containers[0]: the element has no merge key \"name\""), "\(error.message)")
        }
        do {
            _ = try Self.strategic(#"{"spec":{"$patch":"explode"}}"#)
            Issue.record("accepted an unknown directive")
        } catch {
            #expect(error.code == 400)
            #expect(error.message.contains("spec: unknown $patch directive \"explode\""), "\(error.message)")
        }
        #expect(throws: ApiError.self) { try Self.strategic("[1]") }
    }

    /// The patched document decodes back into the kind (the caller's next step).
    @Test func patchedDocumentsDecode() throws {
        let result = try Self.strategic(#"{"spec":{"replicas":5,"template":{"spec":{"containers":[{"name":"patch-demo-ctr","resources":{"limits":{"cpu":"500m"}}}]}}}}"#)
        let deployment = try #require(try Deployment.resourceType.decodeJSON(result).object as? Deployment)
        #expect(deployment.spec?.replicas == 5)
        #expect(deployment.spec?.template?.spec?.containers.first?.resources?.limits["cpu"] == Quantity("500m"))
        #expect(deployment.spec?.template?.spec?.volumes.first?.volumeSource?.emptyDir == EmptyDirVolumeSource())
    }

    /// The patch kubectl 1.32's client-side apply computed (from Skiff's OpenAPI v3 documents,
    /// served to the real binary) for a second `kubectl apply -f` that changes an image, swaps
    /// an environment variable, adds a container and drops a label: applying it to the object
    /// the first apply created gives the new configuration.
    @Test func kubectlClientSideApplyPatchGivesTheNewConfiguration() throws {
        let created = #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"web\",\"tier\":\"front\"},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}],\"image\":\"nginx:1.27\",\"name\":\"web\",\"ports\":[{\"containerPort\":80}]}]}}}}\n"},"labels":{"app":"web","tier":"front"},"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"image":"nginx:1.27","name":"web","ports":[{"containerPort":80}]}]}}}}"#
        let patch = #"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"web\"},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"C\",\"value\":\"3\"}],\"image\":\"nginx:1.28\",\"name\":\"web\",\"ports\":[{\"containerPort\":80}]},{\"image\":\"busybox\",\"name\":\"sidecar\"}]}}}}\n"},"labels":{"tier":null}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"C"}],"env":[{"name":"C","value":"3"},{"$patch":"delete","name":"B"}],"image":"nginx:1.28","name":"web"},{"image":"busybox","name":"sidecar"}]}}}}"#
        let result = try Self.strategic(patch, created)
        let configuration = try JSONValue(parsing: try #require(
            result["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"]?.stringValue))
        #expect(result["spec"] == configuration["spec"])
        #expect(result["metadata"]?["labels"] == configuration["metadata"]?["labels"])
        #expect(Self.containers(result).map { $0["name"] } == ["web", "sidecar"])
        #expect(Self.containers(result)[0]["env"] == Self.json(#"[{"name":"A","value":"1"},{"name":"C","value":"3"}]"#))
    }
}
