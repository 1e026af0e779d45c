/// ModuleMapping says which Swift module owns the .proto files of one folder under the proto
/// root and where their generated Swift goes (`--map wire=Wire:Sources/Wire/Generated`).
public struct ModuleMapping: Sendable, Hashable {
    public var folder: String
    public var module: String
    public var outputDirectory: String
    /// Also generate JSON codecs and schema tables (`--json <folder>`; see JSONEmitter).
    public var emitsJSON: Bool

    public init(folder: String, module: String, outputDirectory: String, emitsJSON: Bool = false) {
        self.folder = folder
        self.module = module
        self.outputDirectory = outputDirectory
        self.emitsJSON = emitsJSON
    }

    /// parse reads `folder=Module:output/directory`.
    public static func parse(_ text: String) throws(ProtoGenError) -> ModuleMapping {
        guard let equals = text.firstIndex(of: "="),
            let colon = text[equals...].firstIndex(of: ":")
        else {
            throw ProtoGenError("malformed --map '\(text)'; expected folder=Module:output/directory", at: nil)
        }
        let folder = String(text[..<equals])
        let module = String(text[text.index(after: equals)..<colon])
        let output = String(text[text.index(after: colon)...])
        guard !folder.isEmpty, !module.isEmpty, !output.isEmpty else {
            throw ProtoGenError("malformed --map '\(text)'; expected folder=Module:output/directory", at: nil)
        }
        return ModuleMapping(folder: folder, module: module, outputDirectory: output)
    }
}

/// TypeSymbol is a message or enum with everything the emitter needs to name it in Swift and C.
struct TypeSymbol: Hashable {
    enum Kind: Hashable {
        case message(MessageDeclaration)
        case enumeration(EnumDeclaration)
    }

    /// Full protobuf name without a leading dot, e.g. `skiff.raft.Entry`.
    var fullName: String
    var kind: Kind
    var file: ProtoFile
    var module: String
    /// Swift names from the module's top level: `["Sample", "Inner"]`.
    var swiftPath: [String]
    var cStructName: String { Naming.cStructName(fullName) }
    var cFunctionPrefix: String { Naming.cFunctionPrefix(fullName) }
    /// protoc-c generates `__pack`/`__unpack` functions only for top-level messages.
    var isTopLevel: Bool { swiftPath.count == 1 }

    /// swiftName is how code in `module` refers to this type.
    func swiftName(from module: String) -> String {
        let path = swiftPath.joined(separator: ".")
        return module == self.module ? path : "\(self.module).\(path)"
    }
}

/// ValueType is the resolved type of a field value (or of a map value).
enum ValueType: Hashable {
    case scalar(ScalarType)
    case enumeration(TypeSymbol)
    case message(TypeSymbol)
}

/// FieldShape is a resolved field: cardinality and value type.
enum FieldShape: Hashable {
    case singular(ValueType)
    case repeated(ValueType)
    /// A map field; `entry` is the full protobuf name of protoc's synthesized entry message.
    case map(key: ScalarType, value: ValueType, entry: String)
}

struct ResolvedField: Hashable {
    var declaration: FieldDeclaration
    var shape: FieldShape
    var swiftName: String { Naming.lowerCamelCase(declaration.name) }
    var cName: String { Naming.cFieldName(declaration.name) }
}

/// Resolver builds the symbol table of all files and resolves field types by protobuf scoping
/// rules: a relative name is looked up in the innermost enclosing scope (message, then outer
/// messages, then package and its parents) among the types of the file and its imports; a name
/// with a leading dot is fully qualified.
struct Resolver {
    let filesByPath: [String: ProtoFile]
    let mappings: [ModuleMapping]
    private(set) var symbols: [String: TypeSymbol] = [:]
    /// Names of the types each file may use: its own and those of its (public) imports.
    private var visibleFiles: [String: Set<String>] = [:]

    init(files: [ProtoFile], mappings: [ModuleMapping]) throws(ProtoGenError) {
        var byPath: [String: ProtoFile] = [:]
        for file in files { byPath[file.path] = file }
        self.filesByPath = byPath
        self.mappings = mappings
        for file in files.sorted(by: { $0.path < $1.path }) {
            let module = try self.mapping(for: file).module
            for message in file.messages {
                try register(message: message, scope: file.package, swiftPath: [], file: file, module: module)
            }
            for enumeration in file.enums {
                try register(enumeration: enumeration, scope: file.package, swiftPath: [], file: file, module: module)
            }
        }
        for file in files {
            visibleFiles[file.path] = try visible(from: file)
        }
        try checkSwiftNameCollisions()
    }

    /// mapping finds the module of `file` by the first folder of its path, so files in deeper
    /// folders (`api/extensions/x.proto`) belong to the module of `api`.
    func mapping(for file: ProtoFile) throws(ProtoGenError) -> ModuleMapping {
        let components = file.path.split(separator: "/")
        let folder = components.count > 1 ? String(components[0]) : ""
        guard let mapping = mappings.first(where: { $0.folder == folder }) else {
            throw ProtoGenError(
                "no --map for folder '\(folder.isEmpty ? "." : folder)' of \(file.path); expected --map \(folder.isEmpty ? "<folder>" : folder)=Module:output/directory",
                at: nil)
        }
        return mapping
    }

    private static func join(_ scope: String, _ name: String) -> String {
        scope.isEmpty ? name : "\(scope).\(name)"
    }

    private mutating func add(_ symbol: TypeSymbol, location: SourceLocation) throws(ProtoGenError) {
        if let existing = symbols[symbol.fullName] {
            throw ProtoGenError(
                "\(symbol.fullName) is already defined in \(existing.file.path); expected a unique name", at: location)
        }
        symbols[symbol.fullName] = symbol
    }

    private mutating func register(
        message: MessageDeclaration, scope: String, swiftPath: [String], file: ProtoFile, module: String
    ) throws(ProtoGenError) {
        let fullName = Self.join(scope, message.name)
        let path = swiftPath + [message.name]
        try checkTypeName(message.name, location: message.location)
        try add(TypeSymbol(fullName: fullName, kind: .message(message), file: file, module: module, swiftPath: path), location: message.location)
        for nested in message.messages {
            try register(message: nested, scope: fullName, swiftPath: path, file: file, module: module)
        }
        for nested in message.enums {
            try register(enumeration: nested, scope: fullName, swiftPath: path, file: file, module: module)
        }
    }

    private mutating func register(
        enumeration: EnumDeclaration, scope: String, swiftPath: [String], file: ProtoFile, module: String
    ) throws(ProtoGenError) {
        try checkTypeName(enumeration.name, location: enumeration.location)
        try checkEnumValues(enumeration)
        try add(
            TypeSymbol(
                fullName: Self.join(scope, enumeration.name), kind: .enumeration(enumeration), file: file,
                module: module, swiftPath: swiftPath + [enumeration.name]),
            location: enumeration.location)
    }

    /// Type names that would shadow what generated code refers to, or that Swift reserves.
    private static let reservedTypeNames: Set<String> = [
        "Any", "Array", "Bool", "CaseIterable", "Character", "Dictionary", "Double", "Error", "Float",
        "Hashable", "Int", "Int32", "Int64", "Never", "Optional", "Protocol", "ProtoDecoding",
        "ProtoDecodingError", "ProtoEncoding", "ProtoMessage", "ProtoScratchArena", "ProtobufCRepresentable",
        "ProtobufCStruct", "Result", "Self", "Sendable", "StaticString", "String", "Swift", "Type", "UInt32",
        "UInt64", "UInt8", "UnsafeMutablePointer", "UnsafePointer", "UnsafeRawBufferPointer", "Void",
    ]

    private func checkTypeName(_ name: String, location: SourceLocation) throws(ProtoGenError) {
        if Self.reservedTypeNames.contains(name) || mappings.contains(where: { $0.module == name }) {
            throw ProtoGenError("type name '\(name)' clashes with a Swift or Skiff name the generated code uses; expected another name", at: location)
        }
    }

    /// Member names every generated enum or struct already has; a case or field with one of
    /// these Swift names would not compile or would shadow the conformance.
    static let reservedMemberNames: Set<String> = [
        "allCases", "appendProtobuf", "fillProtobufC", "hashValue", "init", "protobufBytes",
        "protobufSize", "rawValue", "self", "Type", "Protocol",
    ]

    /// checkEnumValues rejects what a Swift enum with raw values cannot express: two values
    /// with one number (protobuf's allow_alias) or two values that become one Swift case name.
    private func checkEnumValues(_ enumeration: EnumDeclaration) throws(ProtoGenError) {
        var numbers: [Int32: EnumValueDeclaration] = [:]
        var caseNames: [String: EnumValueDeclaration] = [:]
        for value in enumeration.values {
            if let other = numbers[value.number] {
                throw ProtoGenError(
                    "\(value.name) has the same number \(value.number) as \(other.name); expected unique numbers (allow_alias is not supported)",
                    at: value.location)
            }
            numbers[value.number] = value
            let caseName = Naming.enumCaseName(value: value.name, enumName: enumeration.name)
            if let other = caseNames[caseName] {
                throw ProtoGenError(
                    "\(value.name) and \(other.name) both become Swift case '\(caseName)'; expected distinct names",
                    at: value.location)
            }
            if Self.reservedMemberNames.contains(caseName) {
                throw ProtoGenError(
                    "\(value.name) becomes Swift case '\(caseName)', which clashes with a member every generated enum has; expected another name",
                    at: value.location)
            }
            caseNames[caseName] = value
        }
    }

    /// Two top-level types of different packages that land in the same Swift module would be
    /// one Swift type.
    private func checkSwiftNameCollisions() throws(ProtoGenError) {
        var seen: [String: TypeSymbol] = [:]
        for symbol in symbols.values.sorted(by: { $0.fullName < $1.fullName }) where symbol.isTopLevel {
            let key = "\(symbol.module).\(symbol.swiftPath[0])"
            if let other = seen[key] {
                throw ProtoGenError(
                    "\(symbol.fullName) and \(other.fullName) (\(other.file.path)) would both be Swift type \(key); expected distinct names within a module",
                    at: location(of: symbol))
            }
            seen[key] = symbol
        }
    }

    func location(of symbol: TypeSymbol) -> SourceLocation {
        switch symbol.kind {
        case .message(let message): message.location
        case .enumeration(let enumeration): enumeration.location
        }
    }

    /// visible returns the paths whose types `file` may use: itself, its imports, and what
    /// those re-export with `import public`.
    private func visible(from file: ProtoFile) throws(ProtoGenError) -> Set<String> {
        var result: Set<String> = [file.path]
        var pending: [(ImportDeclaration, publicOnly: Bool)] = file.imports.map { ($0, false) }
        var importedOnce: Set<String> = []
        while let (declaration, publicOnly) = pending.popLast() {
            if publicOnly && !declaration.isPublic { continue }
            guard let imported = filesByPath[declaration.path] else {
                throw ProtoGenError(
                    "cannot find imported file \"\(declaration.path)\"; expected a path relative to the proto root",
                    at: declaration.location)
            }
            result.insert(imported.path)
            if importedOnce.insert(imported.path).inserted {
                pending += imported.imports.map { ($0, true) }
            }
        }
        return result
    }

    /// resolve finds the type `name` used at `location` inside `scope` (a full message name or
    /// the package) of `file`.
    func resolve(_ name: String, scope: String, file: ProtoFile, location: SourceLocation) throws(ProtoGenError) -> TypeSymbol {
        let visible = visibleFiles[file.path] ?? [file.path]
        func lookup(_ fullName: String) -> TypeSymbol? {
            guard let symbol = symbols[fullName], visible.contains(symbol.file.path) else { return nil }
            return symbol
        }
        if name.hasPrefix(".") {
            if let symbol = lookup(String(name.dropFirst())) { return symbol }
        } else {
            var current = scope
            while true {
                if let symbol = lookup(Self.join(current, name)) { return symbol }
                if current.isEmpty { break }
                current = current.split(separator: ".").dropLast().joined(separator: ".")
            }
        }
        if let hidden = symbols[name.hasPrefix(".") ? String(name.dropFirst()) : name] {
            throw ProtoGenError(
                "type '\(name)' is defined in \(hidden.file.path), which \(file.path) does not import; expected an import \"\(hidden.file.path)\"",
                at: location)
        }
        throw ProtoGenError("unknown type '\(name)'; expected a scalar type or a message or enum defined in this file or an imported one", at: location)
    }

    /// fields resolves the fields of `message` (full name `fullName`) and checks the Swift names
    /// they get are distinct.
    func fields(of message: MessageDeclaration, fullName: String, file: ProtoFile) throws(ProtoGenError) -> [ResolvedField] {
        var result: [ResolvedField] = []
        var swiftNames: [String: FieldDeclaration] = [:]
        var numbers: [Int: FieldDeclaration] = [:]
        for field in message.fields {
            if let other = numbers[field.number] {
                throw ProtoGenError("field number \(field.number) is already used by '\(other.name)'; expected a unique number", at: field.location)
            }
            numbers[field.number] = field
            let shape: FieldShape
            switch field.type {
            case .map(let key, let value):
                let entry = "\(fullName).\(Naming.mapEntryName(field.name))"
                shape = .map(key: key, value: try valueType(value, scope: fullName, file: file, location: field.typeLocation), entry: entry)
            case .scalar, .named:
                let value = try valueType(field.type, scope: fullName, file: file, location: field.typeLocation)
                shape = field.label == .repeated ? .repeated(value) : .singular(value)
            }
            let resolved = ResolvedField(declaration: field, shape: shape)
            if Self.reservedMemberNames.contains(resolved.swiftName) {
                throw ProtoGenError(
                    "field '\(field.name)' becomes Swift property '\(resolved.swiftName)', which clashes with a member every generated message has; expected another name",
                    at: field.location)
            }
            if let other = swiftNames[resolved.swiftName] {
                throw ProtoGenError(
                    "field '\(field.name)' and field '\(other.name)' both become Swift property '\(resolved.swiftName)'; expected distinct names",
                    at: field.location)
            }
            swiftNames[resolved.swiftName] = field
            result.append(resolved)
        }
        return result
    }

    /// messagesReachingCycles returns the full names of messages from which a message that
    /// (directly or indirectly) contains itself is reachable through fields of any kind. Decoding
    /// those bounds the nesting depth first (see ProtoNesting in module Wire).
    func messagesReachingCycles(_ files: [ProtoFile]) throws(ProtoGenError) -> Set<String> {
        var edges: [String: Set<String>] = [:]
        func collect(_ message: MessageDeclaration, fullName: String, file: ProtoFile) throws(ProtoGenError) {
            var targets: Set<String> = []
            for field in try fields(of: message, fullName: fullName, file: file) {
                switch field.shape {
                case .singular(.message(let target)), .repeated(.message(let target)), .map(_, .message(let target), _):
                    targets.insert(target.fullName)
                default:
                    break
                }
            }
            edges[fullName] = targets
            for nested in message.messages {
                try collect(nested, fullName: "\(fullName).\(nested.name)", file: file)
            }
        }
        for file in files {
            for message in file.messages {
                try collect(message, fullName: Self.join(file.package, message.name), file: file)
            }
        }
        // A message is on a cycle when it can reach itself.
        func reachable(from start: String) -> Set<String> {
            var seen: Set<String> = []
            var stack = Array(edges[start] ?? [])
            while let current = stack.popLast() {
                if seen.insert(current).inserted { stack += edges[current] ?? [] }
            }
            return seen
        }
        var reach: [String: Set<String>] = [:]
        for name in edges.keys { reach[name] = reachable(from: name) }
        let onCycle = Set(edges.keys.filter { reach[$0]?.contains($0) == true })
        return Set(edges.keys.filter { name in
            onCycle.contains(name) || !(reach[name] ?? []).isDisjoint(with: onCycle)
        })
    }

    private func valueType(_ reference: TypeReference, scope: String, file: ProtoFile, location: SourceLocation) throws(ProtoGenError) -> ValueType {
        switch reference {
        case .scalar(let scalar):
            return .scalar(scalar)
        case .named(let name):
            let symbol = try resolve(name, scope: scope, file: file, location: location)
            switch symbol.kind {
            case .message: return .message(symbol)
            case .enumeration(let enumeration):
                if file.syntax == .proto3 && symbol.file.syntax == .proto2 {
                    throw ProtoGenError(
                        "proto3 file uses proto2 enum \(symbol.fullName) (declared with first value \(enumeration.values[0].name)); expected a proto3 enum",
                        at: location)
                }
                return .enumeration(symbol)
            }
        case .map:
            throw ProtoGenError("a map value cannot be a map; expected a scalar, message or enum type", at: location)
        }
    }
}
