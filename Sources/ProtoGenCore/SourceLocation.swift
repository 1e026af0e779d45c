/// SourceLocation points at a character in a .proto file so that every error can name
/// `file:line:column`, the form editors and CI logs turn into links.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The path as given on the command line or in an import (e.g. `proto/wire/wire.proto`).
    public var file: String
    /// One-based line number.
    public var line: Int
    /// One-based column, counted in bytes of UTF-8.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// ProtoGenError is a problem with the input schema or the command line. Its description is
/// one line in the `file:line:column: error: message` form compilers use.
public struct ProtoGenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is; nil for problems that belong to no file (command line, I/O).
    public var location: SourceLocation?
    public var message: String

    public init(_ message: String, at location: SourceLocation?) {
        self.location = location
        self.message = message
    }

    public var description: String {
        guard let location else { return "error: \(message)" }
        return "\(location): error: \(message)"
    }
}
