import Testing

@testable import ProtoGenCore

/// The JSON codec and schema generator on small schemas; the generated code for proto/api is
/// exercised in ApiTests (JSONCodecTests, OpenAPITests).
struct JSONEmitterTests {
    let mappings = [ModuleMapping(folder: "api", module: "Api", outputDirectory: "Sources/Api/Generated", emitsJSON: true)]

    func generate(_ text: String) throws(ProtoGenError) -> [String: String] {
        let files = try Generator.generate(sources: [("api/sample.proto", text)], protoRootName: "proto", mappings: mappings)
        var byPath: [String: String] = [:]
        for file in files { byPath[file.path] = file.contents }
        return byPath
    }

    func error(_ text: String) -> String {
        do {
            _ = try generate(text)
            return "no error"
        } catch {
            return error.description
        }
    }

    static let sample = """
        syntax = "proto2";
        package skiff.api.core.v1;
        // Holder has a name.
        message Holder {
          // Inline in JSON: the name.
          optional Ref ref = 1;
          // The items.
          // +patchMergeKey=name
          // +patchStrategy=merge
          // +listType=map
          // +listMapKey=name
          repeated Ref items = 2;
          // Raw bytes.
          map<string, bytes> data = 3;
          // Standard object metadata.
          optional Holder2 metadata = 4;
        }
        message Holder2 { optional string name = 1; }
        // Ref names something.
        message Ref {
          // The name.
          // +required
          optional string name = 1;
        }
        """

    @Test func emitsCodecsSchemasAndTheTable() throws {
        let files = try generate(Self.sample)
        let json = try #require(files["Sources/Api/Generated/sample.json.pb.swift"])
        #expect(json.contains("extension Holder: JSONObjectMessage {"))
        // Inline: encoded into the parent object, decoded from its members.
        #expect(json.contains("if let value = self.ref { value.appendJSONMembers(to: &object) }"))
        #expect(json.contains("var inline = self.ref ?? Ref()"))
        #expect(json.contains(#"if !self.data.isEmpty { object["data"] = JSONField.map(self.data) { JSONField.base64($0) } }"#))
        #expect(json.contains(#"case "items":"#))
        // The schema under the Kubernetes name, inline members flattened, markers as metadata.
        #expect(json.contains(#"MessageSchema(\#n            "io.k8s.api.core.v1.Holder", carriesTypeMeta: false,"#))
        #expect(json.contains(#"FieldSchema("name", .string, "The name.", required: true),"#))
        #expect(json.contains(#"FieldSchema("items", .array(.message("io.k8s.api.core.v1.Ref")), "The items.", patchStrategy: "merge", patchMergeKey: "name", listType: .map, listMapKeys: ["name"]),"#))
        #expect(!json.contains("+patchMergeKey"))
        #expect(files["Sources/Api/Generated/AllSchemas.json.pb.swift"]?.contains("        sample,\n") == true)
        // The plain Swift file is what it was: JSON is an extra file.
        #expect(files["Sources/Api/Generated/sample.pb.swift"]?.contains("JSONObjectMessage") == false)
    }

    @Test func rejectsMarkersItCannotHonour() {
        func field(_ markers: String, type: String = "repeated Ref") -> String {
            "syntax = \"proto2\";\npackage skiff.api.x;\nmessage Ref { optional string name = 1; }\nmessage A {\n  \(markers)\n  \(type) refs = 1;\n}"
        }
        #expect(error(field("// +listType=bag")).contains("marker +listType=bag on field 'refs'; expected one of atomic, set, map"))
        #expect(error(field("// +listType=map")).contains("+listType=map without +listMapKey"))
        #expect(error(field("// +patchStrategy=merge")).contains("+patchStrategy=merge but no +patchMergeKey"))
        #expect(error(field("// +frobnicate")).contains("unknown marker '+frobnicate'"))
        #expect(error(field("// Inline in JSON: refs.", type: "optional string")).contains("marked \"Inline in JSON\" but is not a message field"))
        #expect(error("syntax = \"proto2\";\npackage skiff.api.x;\nmessage A { map<int32, string> m = 1; }").contains("JSON codecs need string keys"))
    }
}
