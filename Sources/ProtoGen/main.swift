// skiff-protogen: generates Swift model types from the .proto files under a root folder.
// See docs/generated-swift.md for what it generates and scripts/generate for how it is run.
import Foundation
import ProtoGenCore

let usage = """
    usage: skiff-protogen --proto-root <folder> --map <subfolder>=<Module>:<output folder> [--map ...]
                          [--json <subfolder> ...]

    Generates <name>.pb.swift for every .proto file under the root into the output folder of its
    subfolder, and removes other *.pb.swift files from those output folders. With --json, the
    subfolder's files also get <name>.json.pb.swift (JSON codecs and schema tables) and the
    output folder AllSchemas.json.pb.swift.
    """

/// fail prints `message` to standard error and exits with status 1 (bad input, not a bug).
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

var protoRoot: String?
var mappings: [ModuleMapping] = []
var jsonFolders: Set<String> = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--proto-root":
        guard let value = arguments.popFirst() else { fail("--proto-root needs a folder\n\(usage)") }
        protoRoot = value
    case "--map":
        guard let value = arguments.popFirst() else { fail("--map needs folder=Module:output\n\(usage)") }
        do {
            mappings.append(try ModuleMapping.parse(value))
        } catch {
            fail(error.description)
        }
    case "--json":
        guard let value = arguments.popFirst() else { fail("--json needs a folder\n\(usage)") }
        jsonFolders.insert(value)
    case "--help", "-h":
        print(usage)
        exit(0)
    default:
        fail("unknown argument '\(argument)'\n\(usage)")
    }
}
guard var root = protoRoot else { fail("missing --proto-root\n\(usage)") }
for folder in jsonFolders {
    guard let index = mappings.firstIndex(where: { $0.folder == folder }) else {
        fail("--json \(folder) names no --map folder\n\(usage)")
    }
    mappings[index].emitsJSON = true
}
while root.count > 1 && root.hasSuffix("/") { root.removeLast() }

let fileManager = FileManager.default
guard let enumerator = fileManager.enumerator(atPath: root) else { fail("cannot read folder \(root)") }
var sources: [(path: String, text: String)] = []
while let relative = enumerator.nextObject() as? String {
    guard relative.hasSuffix(".proto") else { continue }
    let path = "\(root)/\(relative)"
    guard let data = fileManager.contents(atPath: path) else { fail("cannot read \(path)") }
    sources.append((relative, String(decoding: data, as: UTF8.self)))
}

let outputs: [GeneratedFile]
do {
    outputs = try Generator.generate(sources: sources, protoRootName: root, mappings: mappings)
} catch {
    fail(error.description)
}

// Write only files whose contents change, so unchanged outputs keep their modification time
// and do not trigger rebuilds.
var written = 0
for output in outputs {
    let data = Data(output.contents.utf8)
    if fileManager.contents(atPath: output.path) == data { continue }
    let folder = (output.path as NSString).deletingLastPathComponent
    do {
        try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: output.path))
    } catch {
        fail("cannot write \(output.path): \(error)")
    }
    written += 1
}

// Remove generated files whose .proto is gone.
let expected = Set(outputs.map(\.path))
var removed = 0
for folder in Set(mappings.map(\.outputDirectory)).sorted() {
    guard let names = try? fileManager.contentsOfDirectory(atPath: folder) else { continue }
    for name in names.sorted() where name.hasSuffix(".pb.swift") {
        let path = "\(folder)/\(name)"
        if expected.contains(path) { continue }
        do {
            try fileManager.removeItem(atPath: path)
        } catch {
            fail("cannot remove stale \(path): \(error)")
        }
        removed += 1
    }
}
print("skiff-protogen: \(outputs.count) files, \(written) written, \(removed) stale removed")
