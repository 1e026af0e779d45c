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

    private static func isLowerAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isNumber || ("a"..."z").contains(character))
    }

    private static func isAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isNumber || character.isLetter)
    }

    /// RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric, at
    /// most 63 characters. Namespaces, services and container names are labels.
    public static func dnsLabelProblem(_ text: String) -> String? {
        if text.count > dnsLabelMaximumLength { return "must be no more than \(dnsLabelMaximumLength) characters" }
        guard let first = text.first, let last = text.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last),
            text.allSatisfy({ isLowerAlphanumeric($0) || $0 == "-" })
        else {
            return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        }
        return nil
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253 characters. Most object names.
    public static func dnsSubdomainProblem(_ text: String) -> String? {
        if text.count > dnsSubdomainMaximumLength { return "must be no more than \(dnsSubdomainMaximumLength) characters" }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = !text.isEmpty && labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
                && label.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
        }
        guard wellFormed else {
            return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        }
        return nil
    }

    /// The name part of a qualified name: alphanumerics, '-', '_' and '.', alphanumeric at
    /// both ends, at most 63 characters.
    private static func namePartProblem(_ name: Substring) -> String? {
        if name.isEmpty { return "name part must be non-empty" }
        if name.count > qualifiedNameMaximumLength { return "name part must be no more than \(qualifiedNameMaximumLength) characters" }
        guard let first = name.first, let last = name.last, isAlphanumeric(first), isAlphanumeric(last),
            name.allSatisfy({ isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." })
        else {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        }
        return nil
    }

    /// A qualified name (label and annotation keys): an optional DNS subdomain prefix and '/',
    /// then a name part.
    public static func qualifiedNameProblem(_ text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return namePartProblem(parts[0])
        case 2:
            if parts[0].isEmpty { return "prefix part must be non-empty" }
            if let problem = dnsSubdomainProblem(String(parts[0])) { return "prefix part " + problem }
            return namePartProblem(parts[1])
        default:
            return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
    }

    /// A label value: empty, or like a qualified name's name part.
    public static func labelValueProblem(_ text: String) -> String? {
        if text.isEmpty { return nil }
        if text.count > labelValueMaximumLength { return "must be no more than \(labelValueMaximumLength) characters" }
        guard let first = text.first, let last = text.last, isAlphanumeric(first), isAlphanumeric(last),
            text.allSatisfy({ isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." })
        else {
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
        guard !text.isEmpty, text.allSatisfy({ isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }) else {
            return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        }
        if text == "." || text == ".." { return "must not be '\(text)'" }
        return nil
    }

    /// An IANA service name (named ports): at most 15 characters, lower-case alphanumerics and
    /// '-', at least one letter, no '--', not starting or ending with '-'.
    public static func portNameProblem(_ text: String) -> String? {
        if text.count > 15 { return "must be no more than 15 characters" }
        guard text.allSatisfy({ isLowerAlphanumeric($0) || $0 == "-" }) else {
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
        }
        if !text.contains(where: { $0.isLetter }) { return "must contain at least one letter (a-z)" }
        if text.contains("--") { return "must not contain consecutive hyphens" }
        if text.hasPrefix("-") || text.hasSuffix("-") { return "must not begin or end with a hyphen" }
        return nil
    }
}
