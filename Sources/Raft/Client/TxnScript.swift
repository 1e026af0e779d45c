/// TxnScript reads etcdctl's `txn` syntax into a `TxnRequest`:
///
///     mod("/config") = "5"          compares, one per line, until a blank line
///     value("/owner") != "me"
///
///     put /config "new value"       success operations, until a blank line
///     get /owner
///
///     del /lock                     failure operations, until the end
///
/// Compare targets: `value`/`val`, `mod`/`m`, `create`/`c`, `version`/`ver`, `lease`; operators
/// `=`, `!=`, `<`, `>`. Numbers may be quoted (etcdctl writes `mod("k") > "0"`) or bare.
/// Operations: `put KEY VALUE [--lease=HEX_ID] [--prev-kv]`, `get KEY [RANGE_END] [--prefix]
/// [--limit=N] [--rev=N] [--keys-only] [--count-only]`, `del KEY [RANGE_END] [--prefix]
/// [--prev-kv]`. Tokens are bare words or double-quoted strings with \" \\ \n \t \xNN escapes.
/// Every error names the line and what is expected there.
public enum TxnScript {
    /// maximumLines bounds the script (a transaction this long is a mistake, not a request).
    public static let maximumLines = 10_000

    public static func parse(_ text: String) throws(StoreClientError) -> TxnRequest {
        var request = TxnRequest()
        var section = 0
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it must be named as a separator of its own.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if lineNumber > maximumLines {
                throw .invalidArgument("txn: more than \(maximumLines) lines; split the work into several transactions")
            }
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                // A blank line ends a section; repeated blank lines after the failure section are
                // the end of input, not an error.
                if section < 3 { section += 1 }
                continue
            }
            switch section {
            case 0:
                request.compare.append(try parseCompare(String(line), line: lineNumber))
            case 1:
                request.success.append(try parseOperation(String(line), line: lineNumber))
            case 2:
                request.failure.append(try parseOperation(String(line), line: lineNumber))
            default:
                throw TokenScanner(String(line), line: lineNumber).error(
                    "text after the failure operations; a transaction has three parts separated by single blank lines (compares, success operations, failure operations)")
            }
        }
        return request
    }

    // MARK: Compares

    static func parseCompare(_ line: String, line number: Int) throws(StoreClientError) -> Compare {
        var scanner = TokenScanner(line, line: number)
        let targetName = scanner.word(until: "(")
        guard scanner.consume("(") else {
            throw scanner.error("expected a compare like mod(\"key\") = \"5\" (targets: value, mod, create, version, lease)")
        }
        guard let target = compareTarget(targetName) else {
            throw scanner.error("unknown compare target \"\(targetName)\"; use value, mod, create, version or lease")
        }
        let key = try scanner.token(stoppingAt: ")")
        guard !key.isEmpty else { throw scanner.error("the key in \(targetName)(...) is empty") }
        guard scanner.consume(")") else { throw scanner.error("expected \")\" after the key") }
        let result: CompareResult
        if scanner.consume("!=") {
            result = .notEqual
        } else if scanner.consume("=") {
            result = .equal
        } else if scanner.consume("<") {
            result = .less
        } else if scanner.consume(">") {
            result = .greater
        } else {
            throw scanner.error("expected an operator (=, !=, <, >) after \(targetName)(\(StoreText.display(key)))")
        }
        guard scanner.hasMore else { throw scanner.error("expected a value after the operator") }
        let operand = try scanner.token()
        guard !scanner.hasMore else { throw scanner.error("unexpected text after the compared value") }
        var compare = Compare(result: result, target: target, key: key)
        switch target {
        case .value:
            compare.value = operand
        case .version, .create, .mod, .lease:
            guard let text = String(validating: operand, as: UTF8.self), let number = Int64(text) else {
                throw scanner.error("\(targetName)(...) compares a number; \(StoreText.display(operand)) is not an integer")
            }
            switch target {
            case .version: compare.version = number
            case .create: compare.createRevision = number
            case .mod: compare.modRevision = number
            default: compare.lease = number
            }
        }
        return compare
    }

    static func compareTarget(_ name: String) -> CompareTarget? {
        switch name.lowercased() {
        case "value", "val", "v": .value
        case "mod", "m", "mod_revision": .mod
        case "create", "c", "create_revision": .create
        case "version", "ver": .version
        case "lease": .lease
        default: nil
        }
    }

    // MARK: Operations

    static func parseOperation(_ line: String, line number: Int) throws(StoreClientError) -> RequestOp {
        var scanner = TokenScanner(line, line: number)
        var words: [[UInt8]] = []
        var flags: [String: String] = [:]
        while scanner.hasMore {
            let token = try scanner.tokenWithQuoting()
            if !token.quoted, let text = String(validating: token.bytes, as: UTF8.self), text.hasPrefix("--") {
                let parts = text.dropFirst(2).split(separator: "=", maxSplits: 1)
                flags[String(parts.first ?? "")] = parts.count > 1 ? String(parts[1]) : ""
            } else {
                words.append(token.bytes)
            }
        }
        guard let verbBytes = words.first, let verb = String(validating: verbBytes, as: UTF8.self) else {
            throw scanner.error("expected an operation: put KEY VALUE, get KEY, or del KEY")
        }
        let arguments = Array(words.dropFirst())
        switch verb.lowercased() {
        case "put":
            try check(flags, allowed: ["lease", "prev-kv"], verb: "put", scanner)
            guard arguments.count == 2, !arguments[0].isEmpty else {
                throw scanner.error("put takes a key and a value: put KEY VALUE (quote values with spaces)")
            }
            let lease = try leaseFlag(flags, scanner)
            return RequestOp(requestPut: PutRequest(key: arguments[0], value: arguments[1], lease: lease, prevKv: flags["prev-kv"] != nil))
        case "get":
            try check(flags, allowed: ["prefix", "limit", "rev", "keys-only", "count-only"], verb: "get", scanner)
            let interval = try interval(arguments, flags, verb: "get", scanner)
            var range = RangeRequest(key: interval.key, rangeEnd: interval.rangeEnd)
            range.limit = try integerFlag(flags, "limit", scanner) ?? 0
            range.revision = try integerFlag(flags, "rev", scanner) ?? 0
            range.keysOnly = flags["keys-only"] != nil
            range.countOnly = flags["count-only"] != nil
            return RequestOp(requestRange: range)
        case "del", "delete":
            try check(flags, allowed: ["prefix", "prev-kv"], verb: "del", scanner)
            let interval = try interval(arguments, flags, verb: "del", scanner)
            return RequestOp(requestDeleteRange: DeleteRangeRequest(key: interval.key, rangeEnd: interval.rangeEnd, prevKv: flags["prev-kv"] != nil))
        default:
            throw scanner.error("unknown operation \"\(verb)\"; use put, get or del")
        }
    }

    private static func interval(
        _ arguments: [[UInt8]], _ flags: [String: String], verb: String, _ scanner: TokenScanner
    ) throws(StoreClientError) -> (key: [UInt8], rangeEnd: [UInt8]) {
        guard arguments.count == 1 || arguments.count == 2, !arguments[0].isEmpty else {
            throw scanner.error("\(verb) takes a key and an optional range end: \(verb) KEY [RANGE_END] [--prefix]")
        }
        if flags["prefix"] != nil {
            guard arguments.count == 1 else { throw scanner.error("\(verb): give either --prefix or a range end, not both") }
            return StoreKeys.prefixInterval(arguments[0])
        }
        return (arguments[0], arguments.count == 2 ? arguments[1] : [])
    }

    private static func check(_ flags: [String: String], allowed: Set<String>, verb: String, _ scanner: TokenScanner) throws(StoreClientError) {
        for flag in flags.keys.sorted() where !allowed.contains(flag) {
            let list = allowed.sorted().map { "--" + $0 }.joined(separator: ", ")
            throw scanner.error("\(verb) does not take --\(flag); it takes \(list)")
        }
    }

    /// leaseFlag reads --lease=ID in hexadecimal, the way `lease grant` prints ids (etcdctl's rule).
    private static func leaseFlag(_ flags: [String: String], _ scanner: TokenScanner) throws(StoreClientError) -> Int64 {
        guard let text = flags["lease"] else { return 0 }
        let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard !digits.isEmpty, digits.count <= 16, let value = UInt64(digits, radix: 16) else {
            throw scanner.error("--lease=\(text) is not a lease id (up to 16 hexadecimal digits, as `lease grant` prints it)")
        }
        return Int64(bitPattern: value)
    }

    private static func integerFlag(_ flags: [String: String], _ name: String, _ scanner: TokenScanner) throws(StoreClientError) -> Int64? {
        guard let text = flags[name] else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw scanner.error("--\(name)=\(text) is not a non-negative integer")
        }
        return value
    }
}

/// TokenScanner walks one line of a txn script: bare words, quoted strings and punctuation.
struct TokenScanner {
    private let characters: [Character]
    private var position = 0
    let line: Int
    let text: String

    init(_ text: String, line: Int) {
        self.text = text
        self.line = line
        characters = Array(text)
    }

    var hasMore: Bool {
        mutating get {
            skipSpaces()
            return position < characters.count
        }
    }

    func error(_ message: String) -> StoreClientError {
        .invalidArgument("txn line \(line) (\(text.trimmingCharacters())): \(message)")
    }

    private mutating func skipSpaces() {
        while position < characters.count, characters[position] == " " || characters[position] == "\t" { position += 1 }
    }

    /// consume skips spaces and takes `literal` if it comes next.
    mutating func consume(_ literal: String) -> Bool {
        skipSpaces()
        let wanted = Array(literal)
        guard position + wanted.count <= characters.count,
            Array(characters[position..<position + wanted.count]) == wanted
        else { return false }
        position += wanted.count
        return true
    }

    /// word takes characters up to `stop` or a space (for compare target names).
    mutating func word(until stop: Character) -> String {
        skipSpaces()
        var word = ""
        while position < characters.count, characters[position] != stop, characters[position] != " " {
            word.append(characters[position])
            position += 1
        }
        return word
    }

    mutating func token(stoppingAt stop: Character? = nil) throws(StoreClientError) -> [UInt8] {
        try tokenWithQuoting(stoppingAt: stop).bytes
    }

    /// tokenWithQuoting takes a quoted string (with escapes) or a bare word ending at a space or
    /// at `stop`.
    mutating func tokenWithQuoting(stoppingAt stop: Character? = nil) throws(StoreClientError) -> (bytes: [UInt8], quoted: Bool) {
        skipSpaces()
        guard position < characters.count else { throw error("expected a key or value here") }
        if characters[position] == "\"" {
            position += 1
            var bytes: [UInt8] = []
            while position < characters.count {
                let character = characters[position]
                position += 1
                if character == "\"" { return (bytes, true) }
                if character == "\\" {
                    bytes += try escape()
                } else {
                    bytes += Array(String(character).utf8)
                }
            }
            throw error("a quoted string is not closed; add the closing \"")
        }
        var bytes: [UInt8] = []
        while position < characters.count {
            let character = characters[position]
            if character == " " || character == "\t" || character == stop { break }
            bytes += Array(String(character).utf8)
            position += 1
        }
        return (bytes, false)
    }

    private mutating func escape() throws(StoreClientError) -> [UInt8] {
        guard position < characters.count else { throw error("a backslash ends the line; write \\\\ for a backslash") }
        let character = characters[position]
        position += 1
        switch character {
        case "\"": return [UInt8(ascii: "\"")]
        case "\\": return [UInt8(ascii: "\\")]
        case "n": return [0x0a]
        case "t": return [0x09]
        case "r": return [0x0d]
        case "0": return [0]
        case "x":
            guard position + 2 <= characters.count, let byte = UInt8(String(characters[position..<position + 2]), radix: 16) else {
                throw error("\\x must be followed by two hexadecimal digits, like \\xff")
            }
            position += 2
            return [byte]
        default:
            throw error("unknown escape \\\(character); use \\\", \\\\, \\n, \\t, \\r, \\0 or \\xNN")
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        Substring(self).trimmingSpaces()
    }
}
