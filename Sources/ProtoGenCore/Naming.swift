/// Names: how protoc-c 1.4.1 names C symbols (protoc-c/c_helpers.cc: FullNameToC,
/// FullNameToLower, FieldName) and how docs/generated-swift.md names Swift declarations.
enum Naming {
    // MARK: protoc-c

    /// cStructName mirrors FullNameToC: each dotted piece with `_x` turned into `X` and the
    /// first letter upper-cased, joined by `__` (`skiff.raft.HardState` -> `Skiff__Raft__HardState`).
    static func cStructName(_ fullName: String) -> String {
        fullName.split(separator: ".").map { cCamel(String($0)) }.joined(separator: "__")
    }

    /// cFunctionPrefix mirrors FullNameToLower: each piece with an `_` before an upper-case
    /// letter that follows a non-upper-case one, then lower-cased
    /// (`skiff.raft.HardState` -> `skiff__raft__hard_state`).
    static func cFunctionPrefix(_ fullName: String) -> String {
        fullName.split(separator: ".").map { cCamelToLower(String($0)) }.joined(separator: "__")
    }

    /// cFieldName mirrors FieldName: the field name lower-cased, with `_` appended to C and
    /// C++ keywords.
    static func cFieldName(_ name: String) -> String {
        let lower = asciiLowercased(name)
        return cKeywords.contains(lower) ? lower + "_" : lower
    }

    /// mapEntryName mirrors protoc's MapEntryName: `_x` becomes `X`, the first letter is
    /// upper-cased, then `Entry` (`match_labels` -> `MatchLabelsEntry`).
    static func mapEntryName(_ fieldName: String) -> String {
        var result = ""
        var capitalizeNext = true
        for character in fieldName {
            if character == "_" {
                capitalizeNext = true
            } else if capitalizeNext {
                result += character.isASCII && character.isLowercase ? character.uppercased() : String(character)
                capitalizeNext = false
            } else {
                result.append(character)
            }
        }
        return result + "Entry"
    }

    private static func cCamel(_ piece: String) -> String {
        var result = ""
        var upperNext = true
        for character in piece {
            if character == "_" {
                upperNext = true
            } else if upperNext {
                result += character.isASCII ? character.uppercased() : String(character)
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func cCamelToLower(_ piece: String) -> String {
        var result = ""
        var wasUpper = true
        for character in piece {
            let isUpper = character.isASCII && character.isUppercase
            if isUpper {
                if !wasUpper { result += "_" }
                result += character.lowercased()
            } else {
                result.append(character)
            }
            wasUpper = isUpper
        }
        return result
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(text.map { $0.isASCII ? Character($0.lowercased()) : $0 })
    }

    /// The keyword list of protoc-c 1.4.1's FieldName.
    private static let cKeywords: Set<String> = [
        "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
        "catch", "char", "class", "compl", "const", "const_cast", "continue",
        "default", "delete", "do", "double", "dynamic_cast", "else", "enum",
        "explicit", "extern", "false", "float", "for", "friend", "goto", "if",
        "inline", "int", "long", "mutable", "namespace", "new", "not", "not_eq",
        "operator", "or", "or_eq", "private", "protected", "public", "register",
        "reinterpret_cast", "return", "short", "signed", "sizeof", "static",
        "static_cast", "struct", "switch", "template", "this", "throw", "true", "try",
        "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual",
        "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    ]

    // MARK: Swift

    /// words splits `snake_case` or `lowerCamelCase` into words, keeping runs of capitals
    /// together (`podIP` -> pod, IP; `HTTPGet` -> HTTP, Get; `node_id` -> node, id).
    static func words(_ name: String) -> [String] {
        var words: [String] = []
        for part in name.split(separator: "_") {
            let characters = Array(part)
            var current = ""
            for (index, character) in characters.enumerated() {
                let isUpper = character.isUppercase
                if isUpper && !current.isEmpty {
                    let previous = characters[index - 1]
                    let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                    if !previous.isUppercase || nextIsLower {
                        words.append(current)
                        current = ""
                    }
                }
                current.append(character)
            }
            if !current.isEmpty { words.append(current) }
        }
        return words
    }

    /// lowerCamelCase joins words per the contract: the first word lower case, later words
    /// capitalized, and `id`/`ids` after the first word become `ID`/`IDs`.
    static func lowerCamelCase(_ name: String) -> String {
        let parts = words(name)
        var result = ""
        for (index, word) in parts.enumerated() {
            if index == 0 {
                result += firstWordLowercased(word)
            } else if word.lowercased() == "id" {
                result += "ID"
            } else if word.lowercased() == "ids" {
                result += "IDs"
            } else {
                result += word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        return result
    }

    /// firstWordLowercased lower-cases a leading word: all of it when it is all capitals
    /// (`URL` -> `url`), otherwise its first letter.
    private static func firstWordLowercased(_ word: String) -> String {
        if word.allSatisfy({ !$0.isLowercase }) { return word.lowercased() }
        return word.prefix(1).lowercased() + word.dropFirst()
    }

    /// upperSnakeCase turns a type name into the prefix its enum values usually carry
    /// (`FrameKind` -> `FRAME_KIND`, `HTTPMethod` -> `HTTP_METHOD`).
    static func upperSnakeCase(_ name: String) -> String {
        words(name).map { $0.uppercased() }.joined(separator: "_")
    }

    /// enumCaseName drops the enum's UPPER_SNAKE_CASE name and `_` when the value starts with
    /// it, then converts the rest (`ENTRY_TYPE_CONF_CHANGE` -> `confChange`). Values whose rest
    /// would start with a digit keep the full name.
    static func enumCaseName(value: String, enumName: String) -> String {
        let prefix = upperSnakeCase(enumName) + "_"
        var rest = value
        if value.hasPrefix(prefix) && value.count > prefix.count {
            let stripped = String(value.dropFirst(prefix.count))
            if let first = stripped.first, !first.isNumber { rest = stripped }
        }
        // Enum values are conventionally UPPER_SNAKE_CASE; lower-case each word first so
        // that `CONF_CHANGE` becomes `confChange`, not `cONFCHANGE`.
        let isUpperSnake = rest.allSatisfy { !$0.isLowercase }
        return lowerCamelCase(isUpperSnake ? rest.lowercased() : rest)
    }

    /// escaped wraps Swift keywords in backticks.
    static func escaped(_ identifier: String) -> String {
        swiftKeywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    private static let swiftKeywords: Set<String> = [
        "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate",
        "func", "import", "init", "inout", "internal", "let", "nonisolated", "open", "operator",
        "private", "precedencegroup", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer",
        "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw",
        "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self",
        "super", "throws", "true", "try", "some", "any",
    ]
}
