/// GeneratedFile is one output file, with its path relative to the working directory.
public struct GeneratedFile: Sendable, Hashable {
    public var path: String
    public var contents: String
}

/// Generator turns a set of .proto files into Swift files. It does no I/O so that tests can
/// feed it text; `skiff-protogen` reads and writes the files.
public enum Generator {
    /// generate parses every source (path relative to the proto root, and its text) and returns
    /// one `.pb.swift` file per source, sorted by path. `protoRootName` is the root as written
    /// on the command line, used in error locations and file headers.
    public static func generate(
        sources: [(path: String, text: String)], protoRootName: String, mappings: [ModuleMapping]
    ) throws(ProtoGenError) -> [GeneratedFile] {
        var files: [ProtoFile] = []
        for source in sources.sorted(by: { $0.path < $1.path }) {
            files.append(try Parser.parse(text: source.text, path: source.path, displayPath: "\(protoRootName)/\(source.path)"))
        }
        let resolver = try Resolver(files: files, mappings: mappings)
        let nestingChecked = try resolver.messagesReachingCycles(files)
        var outputs: [GeneratedFile] = []
        var outputOwners: [String: String] = [:]
        for file in files {
            let mapping = try resolver.mapping(for: file)
            let baseName = String(file.path.split(separator: "/").last ?? "")
            let stem = baseName.hasSuffix(".proto") ? String(baseName.dropLast(".proto".count)) : baseName
            let outputPath = "\(mapping.outputDirectory)/\(stem).pb.swift"
            // SwiftPM rejects two sources with one name in a target, and one file would
            // overwrite the other.
            if let owner = outputOwners[mapping.module + "/" + stem] {
                throw ProtoGenError("\(file.path) and \(owner) would both generate \(stem).pb.swift in module \(mapping.module); expected distinct file names", at: nil)
            }
            outputOwners[mapping.module + "/" + stem] = file.path
            var emitter = SwiftEmitter(file: file, module: mapping.module, resolver: resolver, nestingChecked: nestingChecked)
            outputs.append(GeneratedFile(path: outputPath, contents: try emitter.emit(protoRootName: protoRootName)))
        }
        return outputs.sorted { $0.path < $1.path }
    }
}
