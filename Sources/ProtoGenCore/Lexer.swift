/// Token is one lexical element of a .proto file.
struct Token: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A name such as `message`, `uint64` or `Envelope`; dots are separate symbols.
        case identifier
        /// An integer literal in decimal, hexadecimal (`0x`) or octal (leading `0`).
        case integer
        /// A floating point literal, or `inf`/`nan` spelled as identifiers are not this kind.
        case float
        /// A quoted string; `text` holds the value with escapes resolved.
        case string
        /// One punctuation character such as `{` or `=`.
        case symbol
        case endOfFile
    }

    var kind: Kind
    var text: String
    var location: SourceLocation
    /// The comment lines directly above this token (no blank line between), without the
    /// comment markers. The emitter copies them into doc comments.
    var leadingComment: [String]
}

/// Lexer splits a .proto file into tokens. It works on UTF-8 bytes because the grammar is
/// ASCII; non-ASCII bytes may appear only inside strings and comments.
struct Lexer {
    private let bytes: [UInt8]
    private let file: String
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    /// Comment lines collected since the last token, and the line the last of them ended on.
    private var pendingComment: [String] = []
    private var pendingCommentEndLine = 0
    /// The line of the last token, so a comment after code on the same line (a trailing
    /// comment) is not taken as the leading comment of the next declaration.
    private var lastTokenLine = 0

    init(text: String, file: String) {
        var bytes = Array(text.utf8)
        // Some editors start UTF-8 files with a byte order mark; it is not part of the grammar.
        if bytes.starts(with: [0xef, 0xbb, 0xbf]) { bytes.removeFirst(3) }
        self.bytes = bytes
        self.file = file
    }

    /// tokenize returns every token of the file, ending with one `.endOfFile` token.
    mutating func tokenize() throws(ProtoGenError) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .endOfFile { return tokens }
        }
    }

    private var location: SourceLocation {
        SourceLocation(file: file, line: line, column: offset - lineStart + 1)
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        offset + ahead < bytes.count ? bytes[offset + ahead] : nil
    }

    private mutating func advance() {
        if bytes[offset] == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
        }
        offset += 1
    }

    private mutating func next() throws(ProtoGenError) -> Token {
        try skipWhitespaceAndComments()
        let start = location
        // A comment counts as leading only when it ends on the line above the token.
        let comment = pendingCommentEndLine >= start.line - 1 ? pendingComment : []
        pendingComment = []
        lastTokenLine = start.line
        func make(_ kind: Token.Kind, _ text: String) -> Token {
            Token(kind: kind, text: text, location: start, leadingComment: comment)
        }
        guard let byte = peek() else { return make(.endOfFile, "") }
        if isLetter(byte) || byte == UInt8(ascii: "_") {
            let begin = offset
            while let current = peek(), isLetter(current) || isDigit(current) || current == UInt8(ascii: "_") {
                advance()
            }
            return make(.identifier, String(decoding: bytes[begin..<offset], as: UTF8.self))
        }
        if isDigit(byte) || (byte == UInt8(ascii: ".") && peek(1).map(isDigit) == true) {
            return try number(start: start, comment: comment)
        }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
            return make(.string, try string(quote: byte, start: start))
        }
        if "{}[]()<>=;,.-+:/".utf8.contains(byte) {
            advance()
            return make(.symbol, String(decoding: [byte], as: UTF8.self))
        }
        throw ProtoGenError("unexpected character '\(String(decoding: [byte], as: UTF8.self))'", at: start)
    }

    private mutating func skipWhitespaceAndComments() throws(ProtoGenError) {
        while let byte = peek() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\n") || byte == 0x0c || byte == 0x0b
            {
                advance()
            } else if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
                let commentLine = line
                advance()
                advance()
                let begin = offset
                while let current = peek(), current != UInt8(ascii: "\n") { advance() }
                if commentLine == lastTokenLine { continue }
                if pendingCommentEndLine < commentLine - 1 { pendingComment = [] }
                pendingComment.append(trimmedComment(bytes[begin..<offset]))
                pendingCommentEndLine = commentLine
            } else if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let start = location
                advance()
                advance()
                var begin = offset
                var lines: [String] = []
                while true {
                    guard let current = peek() else {
                        throw ProtoGenError("unterminated /* comment; expected */", at: start)
                    }
                    if current == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") {
                        lines.append(trimmedComment(bytes[begin..<offset]))
                        advance()
                        advance()
                        break
                    }
                    if current == UInt8(ascii: "\n") {
                        lines.append(trimmedComment(bytes[begin..<offset]))
                        advance()
                        begin = offset
                    } else {
                        advance()
                    }
                }
                pendingComment = lines.map { line in
                    line.hasPrefix("* ") ? String(line.dropFirst(2)) : (line == "*" ? "" : line)
                }
                while pendingComment.first == "" { pendingComment.removeFirst() }
                while pendingComment.last == "" { pendingComment.removeLast() }
                pendingCommentEndLine = line
            } else {
                return
            }
        }
    }

    /// trimmedComment drops one leading space (the usual `// text` style) and trailing blanks.
    private func trimmedComment(_ slice: ArraySlice<UInt8>) -> String {
        var text = String(decoding: slice, as: UTF8.self)
        while text.last == " " || text.last == "\t" || text.last == "\r" { text.removeLast() }
        if text.first == " " { text.removeFirst() }
        return text
    }

    private mutating func number(start: SourceLocation, comment: [String]) throws(ProtoGenError) -> Token {
        let begin = offset
        var isFloat = false
        if peek() == UInt8(ascii: "0"), let x = peek(1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
            advance()
            advance()
            while let current = peek(), isHexDigit(current) { advance() }
        } else {
            while let current = peek() {
                if isDigit(current) {
                    advance()
                } else if current == UInt8(ascii: ".") {
                    isFloat = true
                    advance()
                } else if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                    isFloat = true
                    advance()
                    if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { advance() }
                } else {
                    break
                }
            }
        }
        if let current = peek(), isLetter(current) || current == UInt8(ascii: "_") {
            throw ProtoGenError("malformed number; expected a digit or a separator", at: location)
        }
        let text = String(decoding: bytes[begin..<offset], as: UTF8.self)
        return Token(kind: isFloat ? .float : .integer, text: text, location: start, leadingComment: comment)
    }

    private mutating func string(quote: UInt8, start: SourceLocation) throws(ProtoGenError) -> String {
        advance()
        var value: [UInt8] = []
        while true {
            guard let byte = peek(), byte != UInt8(ascii: "\n") else {
                throw ProtoGenError("unterminated string; expected a closing quote", at: start)
            }
            advance()
            if byte == quote { break }
            guard byte == UInt8(ascii: "\\") else {
                value.append(byte)
                continue
            }
            guard let escaped = peek() else {
                throw ProtoGenError("unterminated string; expected a closing quote", at: start)
            }
            advance()
            switch escaped {
            case UInt8(ascii: "n"): value.append(0x0a)
            case UInt8(ascii: "t"): value.append(0x09)
            case UInt8(ascii: "r"): value.append(0x0d)
            case UInt8(ascii: "a"): value.append(0x07)
            case UInt8(ascii: "b"): value.append(0x08)
            case UInt8(ascii: "f"): value.append(0x0c)
            case UInt8(ascii: "v"): value.append(0x0b)
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                var number: UInt32 = 0
                var digits = 0
                while digits < 2, let current = peek(), isHexDigit(current) {
                    number = number * 16 + UInt32(hexValue(current))
                    advance()
                    digits += 1
                }
                guard digits > 0 else {
                    throw ProtoGenError("malformed \\x escape; expected a hexadecimal digit", at: location)
                }
                value.append(UInt8(number))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var number = UInt32(escaped - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, let current = peek(), current >= UInt8(ascii: "0"), current <= UInt8(ascii: "7") {
                    number = number * 8 + UInt32(current - UInt8(ascii: "0"))
                    advance()
                    digits += 1
                }
                value.append(UInt8(truncatingIfNeeded: number))
            default:
                value.append(escaped)
            }
        }
        return String(decoding: value, as: UTF8.self)
    }
}

func isLetter(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
}

func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
        || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
}

func hexValue(_ byte: UInt8) -> UInt8 {
    if isDigit(byte) { return byte - UInt8(ascii: "0") }
    if byte >= UInt8(ascii: "a") { return byte - UInt8(ascii: "a") + 10 }
    return byte - UInt8(ascii: "A") + 10
}
