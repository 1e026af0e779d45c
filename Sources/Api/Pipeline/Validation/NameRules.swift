/// NameRules holds Kubernetes' syntax checks for names, label keys and values. Each returns nil
/// when the text is fine, or the problem in Kubernetes' wording (which includes the rule and an
/// example, so the message tells the user what to write instead).
public enum NameRules {
    public static let dnsLabelMaximumLength = 63
    public static let dnsSubdomainMaximumLength = 253
    public static let labelValueMaximumLength = 63
    public static let qualifiedNameMaximumLength = 63
    /// The limit on the total size of an object's annotations (keys plus values), in bytes.
    public static let totalAnnotationSizeLimitBytes = 256 * 1024

    // The rules are ASCII-only, so they look at UTF-8 bytes: Character's Unicode properties cost
    // about 4% of the API server's CPU when every pod's labels were checked that way. Lengths are
    // in bytes, as Kubernetes' Go validation counts them.

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isNamePartByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// A run of bytes that starts and ends with `edge` bytes and holds only `inner` bytes.
    private static func wellFormed<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, edge: (UInt8) -> Bool, inner: (UInt8) -> Bool
    ) -> Bool {
        guard let first = bytes.first, edge(first) else { return false }
        var last = first
        for byte in bytes {
            guard inner(byte) else { return false }
            last = byte
        }
        return edge(last)
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool { isLowerAlphanumeric(byte) || byte == UInt8(ascii: "-") }

    /// RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric, at
    /// most 63 characters. Namespaces, services and container names are labels.
    public static func dnsLabelProblem(_ text: String) -> String? {
        if text.utf8.count > dnsLabelMaximumLength { return "must be no more than \(dnsLabelMaximumLength) characters" }
        guard wellFormed(text.utf8, edge: isLowerAlphanumeric, inner: isLabelByte) else {
            return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        }
        return nil
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253 characters. Most object names.
    public static func dnsSubdomainProblem(_ text: String) -> String? {
        dnsSubdomainProblem(bytes: text.utf8)
    }

    private static func dnsSubdomainProblem<Bytes: Collection<UInt8>>(bytes: Bytes) -> String? {
        if bytes.count > dnsSubdomainMaximumLength { return "must be no more than \(dnsSubdomainMaximumLength) characters" }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let wellFormedLabels = !bytes.isEmpty && labels.allSatisfy { label in
            wellFormed(label, edge: isLowerAlphanumeric, inner: isLabelByte)
        }
        guard wellFormedLabels else {
            return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        }
        return nil
    }

    /// The name part of a qualified name: alphanumerics, '-', '_' and '.', alphanumeric at
    /// both ends, at most 63 characters.
    private static func namePartProblem<Bytes: Collection<UInt8>>(_ name: Bytes) -> String? {
        if name.isEmpty { return "name part must be non-empty" }
        if name.count > qualifiedNameMaximumLength { return "name part must be no more than \(qualifiedNameMaximumLength) characters" }
        guard wellFormed(name, edge: isAlphanumeric, inner: isNamePartByte) else {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        }
        return nil
    }

    /// A qualified name (label and annotation keys): an optional DNS subdomain prefix and '/',
    /// then a name part.
    public static func qualifiedNameProblem(_ text: String) -> String? {
        let bytes = text.utf8
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return namePartProblem(bytes) }
        let prefix = bytes[..<slash]
        let name = bytes[bytes.index(after: slash)...]
        if name.contains(UInt8(ascii: "/")) {
            return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if prefix.isEmpty { return "prefix part must be non-empty" }
        if let problem = dnsSubdomainProblem(bytes: prefix) { return "prefix part " + problem }
        return namePartProblem(name)
    }

    /// A label value: empty, or like a qualified name's name part.
    public static func labelValueProblem(_ text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return nil }
        if bytes.count > labelValueMaximumLength { return "must be no more than \(labelValueMaximumLength) characters" }
        guard wellFormed(bytes, edge: isAlphanumeric, inner: isNamePartByte) else {
            return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        }
        return nil
    }

    /// A C identifier (environment variable names are looser in recent Kubernetes; this is the
    /// portable subset): letters, digits and '_', not starting with a digit.
    public static func environmentVariableNameProblem(_ text: String) -> String? {
        guard let first = text.first, !first.isNumber,
            text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") })
        else {
            return "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
        }
        return nil
    }

    /// A config map or secret key: alphanumerics, '-', '_' and '.', at most 253 characters.
    public static func configMapKeyProblem(_ text: String) -> String? {
        if text.count > dnsSubdomainMaximumLength { return "must be no more than \(dnsSubdomainMaximumLength) characters" }
        guard !text.isEmpty, text.utf8.allSatisfy(isNamePartByte) else {
            return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        }
        if text == "." || text == ".." { return "must not be '\(text)'" }
        return nil
    }

    /// An IANA service name (named ports): at most 15 characters, lower-case alphanumerics and
    /// '-', at least one letter, no '--', not starting or ending with '-'.
    public static func portNameProblem(_ text: String) -> String? {
        if text.count > 15 { return "must be no more than 15 characters" }
        guard text.utf8.allSatisfy(isLabelByte) else {
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
        }
        if !text.contains(where: { $0.isLetter }) { return "must contain at least one letter (a-z)" }
        if text.contains("--") { return "must not contain consecutive hyphens" }
        if text.hasPrefix("-") || text.hasSuffix("-") { return "must not begin or end with a hyphen" }
        return nil
    }
}
