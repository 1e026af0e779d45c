/// Parser reads the subset of the protobuf language Skiff uses (see docs/generated-swift.md):
/// syntax, package, import, option, message, enum, fields with labels, map fields, reserved.
/// Everything else (oneof, groups, extensions, services, proto3 `optional`) is rejected with
/// an error naming the place and what was expected, because protoc-c 1.4.1 or the generated
/// Swift cannot represent it.
public struct Parser {
    private var tokens: [Token]
    private var index = 0
    private let path: String
    private var syntax = Syntax.proto2

    /// parse parses `text`, the contents of the file at `path` (relative to the proto root);
    /// `displayPath` is used in error locations.
    public static func parse(text: String, path: String, displayPath: String) throws(ProtoGenError) -> ProtoFile {
        var lexer = Lexer(text: text, file: displayPath)
        var parser = Parser(tokens: try lexer.tokenize(), path: path)
        return try parser.parseFile()
    }

    private init(tokens: [Token], path: String) {
        self.tokens = tokens
        self.path = path
    }

    // MARK: Token helpers

    private var current: Token { tokens[index] }

    private mutating func take() -> Token {
        let token = tokens[index]
        if token.kind != .endOfFile { index += 1 }
        return token
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .endOfFile: "end of file"
        case .string: "string \"\(token.text)\""
        default: "'\(token.text)'"
        }
    }

    private func unexpected(_ expected: String) -> ProtoGenError {
        ProtoGenError("expected \(expected), found \(describe(current))", at: current.location)
    }

    private func isSymbol(_ symbol: String) -> Bool {
        current.kind == .symbol && current.text == symbol
    }

    private func isKeyword(_ keyword: String) -> Bool {
        current.kind == .identifier && current.text == keyword
    }

    private mutating func expectSymbol(_ symbol: String) throws(ProtoGenError) {
        guard isSymbol(symbol) else { throw unexpected("'\(symbol)'") }
        _ = take()
    }

    private mutating func expectIdentifier(_ what: String) throws(ProtoGenError) -> Token {
        guard current.kind == .identifier else { throw unexpected(what) }
        return take()
    }

    private mutating func expectString(_ what: String) throws(ProtoGenError) -> Token {
        guard current.kind == .string else { throw unexpected(what) }
        var token = take()
        // Adjacent string literals concatenate, as in C.
        while current.kind == .string { token.text += take().text }
        return token
    }

    /// fullIdentifier reads `a.b.c`, with a leading `.` when `allowLeadingDot`.
    private mutating func fullIdentifier(_ what: String, allowLeadingDot: Bool) throws(ProtoGenError) -> String {
        var name = ""
        if allowLeadingDot && isSymbol(".") {
            _ = take()
            name = "."
        }
        name += try expectIdentifier(what).text
        while isSymbol(".") {
            _ = take()
            name += "." + (try expectIdentifier("an identifier after '.'").text)
        }
        return name
    }

    private mutating func integer(_ what: String) throws(ProtoGenError) -> (value: Int64, location: SourceLocation) {
        let location = current.location
        var negative = false
        if isSymbol("-") {
            _ = take()
            negative = true
        } else if isSymbol("+") {
            _ = take()
        }
        guard current.kind == .integer else { throw unexpected(what) }
        let text = take().text
        let magnitude: UInt64?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            magnitude = UInt64(text.dropFirst(2), radix: 16)
        } else if text.count > 1 && text.hasPrefix("0") {
            magnitude = UInt64(text.dropFirst(), radix: 8)
        } else {
            magnitude = UInt64(text)
        }
        guard let magnitude, magnitude <= UInt64(Int64.max) else {
            throw ProtoGenError("integer \(text) is out of range", at: location)
        }
        return (negative ? -Int64(magnitude) : Int64(magnitude), location)
    }

    // MARK: File

    private mutating func parseFile() throws(ProtoGenError) -> ProtoFile {
        var file = ProtoFile(path: path, syntax: .proto2, package: "", imports: [], messages: [], enums: [])
        if isKeyword("syntax") {
            _ = take()
            try expectSymbol("=")
            let value = try expectString("\"proto2\" or \"proto3\"")
            guard let parsed = Syntax(rawValue: value.text) else {
                throw ProtoGenError("unsupported syntax \"\(value.text)\"; expected \"proto2\" or \"proto3\"", at: value.location)
            }
            syntax = parsed
            file.syntax = parsed
            try expectSymbol(";")
        }
        var sawPackage = false
        while current.kind != .endOfFile {
            if isSymbol(";") {
                _ = take()
                continue
            }
            let keyword = try expectIdentifier("a top-level declaration (package, import, option, message or enum)")
            switch keyword.text {
            case "package":
                guard !sawPackage else { throw ProtoGenError("second package statement; a file has at most one", at: keyword.location) }
                sawPackage = true
                file.package = try fullIdentifier("a package name", allowLeadingDot: false)
                try expectSymbol(";")
            case "import":
                var isPublic = false
                if isKeyword("public") {
                    _ = take()
                    isPublic = true
                } else if isKeyword("weak") {
                    _ = take()
                }
                let importPath = try expectString("the imported file's path in quotes")
                file.imports.append(ImportDeclaration(path: importPath.text, isPublic: isPublic, location: importPath.location))
                try expectSymbol(";")
            case "option":
                try skipOption(at: keyword.location)
            case "message":
                file.messages.append(try message(keyword: keyword))
            case "enum":
                file.enums.append(try enumeration(keyword: keyword))
            case "service", "extend":
                throw ProtoGenError("'\(keyword.text)' is not supported by skiff-protogen; expected message or enum", at: keyword.location)
            case "syntax":
                throw ProtoGenError("syntax must be the first statement of the file", at: keyword.location)
            default:
                throw ProtoGenError("expected a top-level declaration (package, import, option, message or enum), found '\(keyword.text)'", at: keyword.location)
            }
        }
        return file
    }

    /// skipOption consumes `name = constant ;` after `option`. Options do not change the Swift
    /// output; the one protoc-c option that renames C symbols is rejected because the generated
    /// Swift would then call functions that do not exist.
    private mutating func skipOption(at location: SourceLocation) throws(ProtoGenError) {
        let name = try optionName()
        if name.hasPrefix("(pb_c_file)") || name.hasPrefix("(pb_c_msg)") || name.hasPrefix("(pb_c_field)") {
            throw ProtoGenError("protobuf-c option \(name) is not supported: it changes C names the generated Swift relies on", at: location)
        }
        try expectSymbol("=")
        try skipConstant()
        try expectSymbol(";")
    }

    private mutating func optionName() throws(ProtoGenError) -> String {
        var name = ""
        repeat {
            if !name.isEmpty {
                try expectSymbol(".")
                name += "."
            }
            if isSymbol("(") {
                _ = take()
                name += "(" + (try fullIdentifier("an option name", allowLeadingDot: true)) + ")"
                try expectSymbol(")")
            } else {
                name += try expectIdentifier("an option name").text
            }
        } while isSymbol(".")
        return name
    }

    /// skipConstant consumes an option value: a literal, an identifier, or a `{ ... }` aggregate.
    private mutating func skipConstant() throws(ProtoGenError) {
        if isSymbol("{") {
            let open = take()
            var depth = 1
            while depth > 0 {
                guard current.kind != .endOfFile else { throw ProtoGenError("unterminated option aggregate; expected '}'", at: open.location) }
                if isSymbol("{") { depth += 1 }
                if isSymbol("}") { depth -= 1 }
                _ = take()
            }
            return
        }
        if isSymbol("-") || isSymbol("+") { _ = take() }
        switch current.kind {
        case .integer, .float, .identifier:
            _ = take()
            while isSymbol(".") && tokens[index + 1].kind == .identifier {
                _ = take()
                _ = take()
            }
        case .string:
            _ = try expectString("a constant")
        default:
            throw unexpected("a constant")
        }
    }

    // MARK: Message

    private mutating func message(keyword: Token) throws(ProtoGenError) -> MessageDeclaration {
        let name = try expectIdentifier("a message name")
        var declaration = MessageDeclaration(
            name: name.text, fields: [], messages: [], enums: [], comment: keyword.leadingComment,
            location: name.location)
        try expectSymbol("{")
        while !isSymbol("}") {
            if isSymbol(";") {
                _ = take()
                continue
            }
            guard current.kind == .identifier || isSymbol(".") else {
                throw unexpected("a field, message, enum, option or reserved statement, or '}'")
            }
            let first = current
            switch first.text {
            case "message":
                _ = take()
                declaration.messages.append(try message(keyword: first))
            case "enum":
                _ = take()
                declaration.enums.append(try enumeration(keyword: first))
            case "option":
                _ = take()
                try skipOption(at: first.location)
            case "reserved":
                _ = take()
                try skipReserved()
            case "oneof":
                throw ProtoGenError("oneof is not supported by skiff-protogen; expected plain fields (use optional fields and document that at most one is set)", at: first.location)
            case "extensions", "extend":
                throw ProtoGenError("'\(first.text)' is not supported by skiff-protogen; expected a field", at: first.location)
            case "group":
                throw ProtoGenError("groups are not supported by skiff-protogen; expected a nested message", at: first.location)
            case "map":
                if tokens[index + 1].kind == .symbol && tokens[index + 1].text == "<" {
                    declaration.fields.append(try mapField())
                } else {
                    declaration.fields.append(try field())
                }
            default:
                declaration.fields.append(try field())
            }
        }
        _ = take()
        return declaration
    }

    private mutating func skipReserved() throws(ProtoGenError) {
        repeat {
            if current.kind == .string {
                _ = take()
            } else {
                _ = try integer("a field number, a range or a quoted field name")
                if isKeyword("to") {
                    _ = take()
                    if isKeyword("max") {
                        _ = take()
                    } else {
                        _ = try integer("a field number or 'max'")
                    }
                }
            }
            if isSymbol(",") { _ = take() } else { break }
        } while true
        try expectSymbol(";")
    }

    private mutating func field() throws(ProtoGenError) -> FieldDeclaration {
        let start = current
        var label = FieldLabel.singular
        switch current.text {
        case "optional" where current.kind == .identifier:
            guard syntax == .proto2 else {
                throw ProtoGenError("proto3 'optional' fields are not supported (protoc-c 1.4.1 cannot generate them); expected a field without label or 'repeated'", at: current.location)
            }
            _ = take()
            label = .optional
        case "required" where current.kind == .identifier:
            guard syntax == .proto2 else {
                throw ProtoGenError("'required' is not allowed in proto3; expected a field without label or 'repeated'", at: current.location)
            }
            _ = take()
            label = .required
        case "repeated" where current.kind == .identifier:
            _ = take()
            label = .repeated
        default:
            if syntax == .proto2 {
                throw unexpected("a field label (optional, required or repeated) in a proto2 message")
            }
        }
        if isKeyword("group") {
            throw ProtoGenError("groups are not supported by skiff-protogen; expected a nested message", at: current.location)
        }
        let typeLocation = current.location
        let typeName = try fullIdentifier("a field type", allowLeadingDot: true)
        let type: TypeReference = ScalarType(rawValue: typeName).map { .scalar($0) } ?? .named(typeName)
        return try fieldRest(start: start, label: label, type: type, typeLocation: typeLocation)
    }

    private mutating func mapField() throws(ProtoGenError) -> FieldDeclaration {
        let start = take()
        try expectSymbol("<")
        let keyToken = current
        let keyName = try fullIdentifier("a map key type", allowLeadingDot: true)
        guard let key = ScalarType(rawValue: keyName), key.isValidMapKey else {
            throw ProtoGenError("map key type must be an integer, bool or string type, found '\(keyName)'", at: keyToken.location)
        }
        try expectSymbol(",")
        let typeLocation = current.location
        let valueName = try fullIdentifier("a map value type", allowLeadingDot: true)
        let value: TypeReference = ScalarType(rawValue: valueName).map { .scalar($0) } ?? .named(valueName)
        try expectSymbol(">")
        return try fieldRest(start: start, label: .repeated, type: .map(key: key, value: value), typeLocation: typeLocation)
    }

    /// fieldRest parses `name = number [options];` after the type.
    private mutating func fieldRest(
        start: Token, label: FieldLabel, type: TypeReference, typeLocation: SourceLocation
    ) throws(ProtoGenError) -> FieldDeclaration {
        let name = try expectIdentifier("a field name")
        try expectSymbol("=")
        let number = try integer("a field number")
        guard (1...536_870_911).contains(number.value), !(19000...19999).contains(number.value) else {
            throw ProtoGenError("field number \(number.value) is out of range; expected 1 to 536870911, excluding 19000 to 19999", at: number.location)
        }
        var hasDefault = false
        if isSymbol("[") {
            _ = take()
            repeat {
                let optionLocation = current.location
                let option = try optionName()
                try expectSymbol("=")
                try skipConstant()
                if option == "default" {
                    guard syntax == .proto2 else {
                        throw ProtoGenError("default values are not allowed in proto3", at: optionLocation)
                    }
                    hasDefault = true
                }
                if isSymbol(",") { _ = take() } else { break }
            } while true
            try expectSymbol("]")
        }
        try expectSymbol(";")
        return FieldDeclaration(
            name: name.text, number: Int(number.value), label: label, type: type, hasDefault: hasDefault,
            comment: start.leadingComment, location: name.location, typeLocation: typeLocation)
    }

    // MARK: Enum

    private mutating func enumeration(keyword: Token) throws(ProtoGenError) -> EnumDeclaration {
        let name = try expectIdentifier("an enum name")
        var declaration = EnumDeclaration(name: name.text, values: [], comment: keyword.leadingComment, location: name.location)
        try expectSymbol("{")
        while !isSymbol("}") {
            if isSymbol(";") {
                _ = take()
                continue
            }
            let valueName = try expectIdentifier("an enum value name, option, reserved or '}'")
            if valueName.text == "option" && isSymbol("(") || valueName.text == "option" && current.kind == .identifier {
                try skipOption(at: valueName.location)
                continue
            }
            if valueName.text == "reserved" && !isSymbol("=") {
                try skipReserved()
                continue
            }
            try expectSymbol("=")
            let number = try integer("an enum value number")
            guard number.value >= Int64(Int32.min) && number.value <= Int64(Int32.max) else {
                throw ProtoGenError("enum value \(number.value) is out of range; expected a 32-bit signed integer", at: number.location)
            }
            if isSymbol("[") {
                _ = take()
                repeat {
                    _ = try optionName()
                    try expectSymbol("=")
                    try skipConstant()
                    if isSymbol(",") { _ = take() } else { break }
                } while true
                try expectSymbol("]")
            }
            try expectSymbol(";")
            declaration.values.append(EnumValueDeclaration(
                name: valueName.text, number: Int32(number.value), comment: valueName.leadingComment,
                location: valueName.location))
        }
        _ = take()
        guard !declaration.values.isEmpty else {
            throw ProtoGenError("enum \(declaration.name) has no values; expected at least one", at: name.location)
        }
        if syntax == .proto3 && declaration.values[0].number != 0 {
            throw ProtoGenError("the first value of a proto3 enum must be 0", at: declaration.values[0].location)
        }
        return declaration
    }
}
