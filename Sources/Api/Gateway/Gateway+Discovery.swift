import Foundation
import NIOHTTP1
import NIOCore

/// Discovery and version, in the JSON of kube-apiserver's legacy discovery (kubectl 1.32 asks
/// for aggregated discovery first and falls back to this when the answer is plain JSON).
extension Gateway {
    /// /version: a 1.32 version, so that kubectl 1.32 sees no skew.
    func versionInfo() -> JSONValue {
        let gitVersion = configuration.gitVersion
        let numbers = gitVersion.dropFirst().split(separator: ".")
        let major = numbers.first.map(String.init) ?? "1"
        let minor = numbers.count > 1 ? String(numbers[1]) : "32"
        return [
            "major": .string(major), "minor": .string(minor), "gitVersion": .string(gitVersion),
            "gitCommit": "", "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z",
            "goVersion": "swift", "compiler": "swiftc", "platform": .string(Self.platform),
        ]
    }

    static let platform: String = {
        #if os(Linux)
        let system = "linux"
        #else
        let system = "darwin"
        #endif
        #if arch(x86_64)
        return system + "/amd64"
        #else
        return system + "/arm64"
        #endif
    }()

    /// /api: `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[…]}`.
    func coreVersions(_ request: GatewayRequest) -> JSONValue {
        let host = request.headers.first(name: "host") ?? "\(configuration.listen)"
        return [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(host)]],
        ]
    }

    /// /apis: every named group with its versions.
    func groupList() -> JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(ServedAPI.namedGroups.map { Self.groupObject($0.name, $0.versions) })]
    }

    /// /apis/<group>, nil when the group is not served.
    func groupJSON(_ name: String) -> JSONValue? {
        guard let group = ServedAPI.namedGroups.first(where: { $0.name == name }) else { return nil }
        var object = Self.groupObject(group.name, group.versions).objectValue!
        object["kind"] = "APIGroup"
        object["apiVersion"] = "v1"
        return .object(object)
    }

    private static func groupObject(_ name: String, _ versions: [String]) -> JSONValue {
        let entries: [JSONValue] = versions.map { ["groupVersion": .string(name + "/" + $0), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(entries), "preferredVersion": entries[0]]
    }

    /// /api/v1 or /apis/<group>/<version>, nil when not served.
    func resourceList(group: String, version: String) -> JSONValue? {
        guard let served = ServedAPI.groupVersion(group: group, version: version) else { return nil }
        let resources: [JSONValue] = served.resources.map { resource in
            var object = JSONObject()
            object["name"] = .string(resource.name)
            object["singularName"] = .string(resource.singularName)
            object["namespaced"] = .bool(resource.namespaced)
            if let group = resource.group { object["group"] = .string(group) }
            if let version = resource.version { object["version"] = .string(version) }
            object["kind"] = .string(resource.kind)
            object["verbs"] = .array(resource.verbs.map { .string($0) })
            if !resource.shortNames.isEmpty { object["shortNames"] = .array(resource.shortNames.map { .string($0) }) }
            if !resource.categories.isEmpty { object["categories"] = .array(resource.categories.map { .string($0) }) }
            return .object(object)
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(served.groupVersion),
            "resources": .array(resources),
        ]
    }
}
