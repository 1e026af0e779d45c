/// TokenFileError is a malformed token file: it names the file, the line and the column (both
/// counted from 1) and what to write instead.
public struct TokenFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// TokenFile reads Kubernetes' CSV token files: one record a line, fields separated by commas,
/// a field in double quotes may hold commas and `""` for a quote. Blank lines are skipped.
enum TokenFile {
    struct Field {
        var value: String
        var column: Int
    }

    struct Record {
        var line: Int
        var fields: [Field]
    }

    static func parse(_ text: String, file: String) throws(TokenFileError) -> [Record] {
        var records: [Record] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            records.append(Record(line: lineNumber, fields: try fields(of: line, file: file, line: lineNumber)))
        }
        return records
    }

    private static func fields(of line: Substring, file: String, line lineNumber: Int) throws(TokenFileError) -> [Field] {
        let characters = Array(line)
        var fields: [Field] = []
        var index = 0
        while true {
            let start = index
            var value = ""
            if index < characters.count && characters[index] == "\"" {
                index += 1
                var closed = false
                while index < characters.count {
                    if characters[index] == "\"" {
                        if index + 1 < characters.count && characters[index + 1] == "\"" {
                            value.append("\"")
                            index += 2
                            continue
                        }
                        closed = true
                        index += 1
                        break
                    }
                    value.append(characters[index])
                    index += 1
                }
                guard closed else {
                    throw TokenFileError(
                        file: file, line: lineNumber, column: start + 1,
                        message: "the quoted field is not closed; end it with a double quote (\")")
                }
                guard index == characters.count || characters[index] == "," else {
                    throw TokenFileError(
                        file: file, line: lineNumber, column: index + 1,
                        message: "unexpected \(characters[index]) after a quoted field; put a comma between fields")
                }
            } else {
                while index < characters.count && characters[index] != "," {
                    if characters[index] == "\"" {
                        throw TokenFileError(
                            file: file, line: lineNumber, column: index + 1,
                            message: "a double quote inside an unquoted field; quote the whole field and double the quote (\"\")")
                    }
                    value.append(characters[index])
                    index += 1
                }
            }
            fields.append(Field(value: value, column: start + 1))
            if index == characters.count { return fields }
            index += 1  // the comma
        }
    }
}
