/// LabelRequirement is one condition of a label selector on one key.
public struct LabelRequirement: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    public var key: String
    public var `operator`: Operator
    /// Sorted; one value for equals and notEquals, one integer for greaterThan and lessThan,
    /// none for exists and doesNotExist.
    public var values: [String]

    public init(key: String, operator: Operator, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = values.sorted()
    }

    /// Kubernetes' semantics: notEquals and notIn also match when the key is absent.
    public func matches(_ labels: [String: String]) -> Bool {
        let value = labels[key]
        switch `operator` {
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        case .equals, .in: return value.map { values.contains($0) } ?? false
        case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
        case .greaterThan, .lessThan:
            guard let value, let actual = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
            return `operator` == .greaterThan ? actual > bound : actual < bound
        }
    }

    public var description: String {
        switch `operator` {
        case .exists: return key
        case .doesNotExist: return "!" + key
        case .equals: return key + "=" + (values.first ?? "")
        case .notEquals: return key + "!=" + (values.first ?? "")
        case .in: return key + " in (" + values.joined(separator: ",") + ")"
        case .notIn: return key + " notin (" + values.joined(separator: ",") + ")"
        case .greaterThan: return key + ">" + (values.first ?? "")
        case .lessThan: return key + "<" + (values.first ?? "")
        }
    }
}

/// ParsedLabelSelector is a label selector ready to match: the requirements of Kubernetes'
/// string syntax (`?labelSelector=` and `kubectl -l`) or of a `LabelSelector` object
/// (matchLabels and matchExpressions). All requirements must hold (they are ANDed). An empty
/// selector matches everything; `nothing` matches no object, which is what a missing selector
/// object means in Kubernetes.
///
/// (The generated proto type owns the name `LabelSelector`, hence this name.)
public struct ParsedLabelSelector: Sendable, Hashable, CustomStringConvertible {
    public var requirements: [LabelRequirement]
    public var matchesNothing: Bool

    public init(requirements: [LabelRequirement] = []) {
        self.requirements = requirements.sorted { $0.key < $1.key }
        self.matchesNothing = false
    }

    public static let everything = ParsedLabelSelector()
    public static let nothing: ParsedLabelSelector = {
        var selector = ParsedLabelSelector()
        selector.matchesNothing = true
        return selector
    }()

    public var isEmpty: Bool { requirements.isEmpty && !matchesNothing }

    public func matches(_ labels: [String: String]) -> Bool {
        !matchesNothing && requirements.allSatisfy { $0.matches(labels) }
    }

    public func matches(_ object: any KubernetesObject) -> Bool {
        matches(object.metadata?.labels ?? [:])
    }

    public var description: String {
        matchesNothing ? "<none>" : requirements.map(\.description).joined(separator: ",")
    }

    /// A selector matching exactly these labels (`a=b,c=d`).
    public init(matchingLabels labels: [String: String]) {
        self.init(requirements: labels.map { LabelRequirement(key: $0.key, operator: .equals, values: [$0.value]) })
    }

    /// The selector a `LabelSelector` object means: matchLabels as equals, matchExpressions with
    /// In, NotIn, Exists and DoesNotExist. A nil object matches nothing, an empty one
    /// everything. `field` is the path of the object in its parent, for error messages.
    public init(_ selector: LabelSelector?, field: String = "selector") throws(SelectorError) {
        guard let selector else {
            self = .nothing
            return
        }
        var requirements: [LabelRequirement] = []
        for (key, value) in selector.matchLabels.sorted(by: { $0.key < $1.key }) {
            if let problem = NameRules.qualifiedNameProblem(key) {
                throw SelectorError(selector: field, position: 0, message: "\(field).matchLabels key \"\(key)\": \(problem)")
            }
            if let problem = NameRules.labelValueProblem(value) {
                throw SelectorError(selector: field, position: 0, message: "\(field).matchLabels[\(key)] value \"\(value)\": \(problem)")
            }
            requirements.append(LabelRequirement(key: key, operator: .equals, values: [value]))
        }
        for (index, expression) in selector.matchExpressions.enumerated() {
            let path = "\(field).matchExpressions[\(index)]"
            let key = expression.key ?? ""
            if let problem = NameRules.qualifiedNameProblem(key) {
                throw SelectorError(selector: field, position: 0, message: "\(path).key \"\(key)\": \(problem)")
            }
            let operatorName = expression.operator ?? ""
            let values = expression.values
            switch operatorName {
            case "In", "NotIn":
                guard !values.isEmpty else {
                    throw SelectorError(selector: field, position: 0, message: "\(path).values: must be non-empty for operator \(operatorName)")
                }
                requirements.append(LabelRequirement(key: key, operator: operatorName == "In" ? .in : .notIn, values: values))
            case "Exists", "DoesNotExist":
                guard values.isEmpty else {
                    throw SelectorError(selector: field, position: 0, message: "\(path).values: must be empty for operator \(operatorName)")
                }
                requirements.append(LabelRequirement(key: key, operator: operatorName == "Exists" ? .exists : .doesNotExist))
            default:
                throw SelectorError(
                    selector: field, position: 0,
                    message: "\(path).operator: \"\(operatorName)\" is not a valid label selector operator; use In, NotIn, Exists or DoesNotExist")
            }
        }
        self.init(requirements: requirements)
    }

    /// Parses Kubernetes' label selector syntax: comma-separated requirements `key=value`,
    /// `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1)`, `key` (exists),
    /// `!key` (does not exist), `key>5` and `key<5`; spaces are allowed between tokens.
    /// Errors give the 1-based position of the offending token.
    public init(parsing text: String) throws(SelectorError) {
        var parser = LabelSelectorParser(text: text)
        self.init(requirements: try parser.parse())
    }
}

/// LabelSelectorParser is a recursive-descent parser over the tokens of a label selector.
struct LabelSelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case equals, doubleEquals, notEquals, exclamation, openParenthesis, closeParenthesis, comma
        case greaterThan, lessThan
        case end

        var text: String {
            switch self {
            case .identifier(let name): return name
            case .equals: return "="
            case .doubleEquals: return "=="
            case .notEquals: return "!="
            case .exclamation: return "!"
            case .openParenthesis: return "("
            case .closeParenthesis: return ")"
            case .comma: return ","
            case .greaterThan: return ">"
            case .lessThan: return "<"
            case .end: return "end of selector"
            }
        }
    }

    let text: String
    let characters: [Character]
    var index = 0
    /// 1-based position of the token `peek` and `next` last looked at.
    var tokenPosition = 0

    init(text: String) {
        self.text = text
        self.characters = Array(text)
    }

    func error(_ message: String, at position: Int) -> SelectorError {
        SelectorError(selector: text, position: position, message: message)
    }

    static let special: Set<Character> = ["=", "!", "(", ")", ",", "<", ">"]

    mutating func next() -> (token: Token, position: Int) {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        let position = index + 1
        guard index < characters.count else { return (.end, position) }
        let character = characters[index]
        index += 1
        switch character {
        case "=":
            if index < characters.count, characters[index] == "=" { index += 1; return (.doubleEquals, position) }
            return (.equals, position)
        case "!":
            if index < characters.count, characters[index] == "=" { index += 1; return (.notEquals, position) }
            return (.exclamation, position)
        case "(": return (.openParenthesis, position)
        case ")": return (.closeParenthesis, position)
        case ",": return (.comma, position)
        case ">": return (.greaterThan, position)
        case "<": return (.lessThan, position)
        default:
            var name = String(character)
            while index < characters.count, !characters[index].isWhitespace, !Self.special.contains(characters[index]) {
                name.append(characters[index])
                index += 1
            }
            return (.identifier(name), position)
        }
    }

    mutating func peek() -> (token: Token, position: Int) {
        let saved = index
        defer { index = saved }
        return next()
    }

    mutating func parse() throws(SelectorError) -> [LabelRequirement] {
        var requirements: [LabelRequirement] = []
        if peek().token == .end { return [] }
        while true {
            requirements.append(try requirement())
            let (token, position) = next()
            switch token {
            case .end: return requirements
            case .comma:
                if peek().token == .end { throw error("expected a requirement after ','", at: peek().position) }
            default:
                throw error("found '\(token.text)', expected ',' or the end of the selector", at: position)
            }
        }
    }

    mutating func key() throws(SelectorError) -> String {
        let (token, position) = next()
        guard case .identifier(let key) = token else {
            throw error("found '\(token.text)', expected a label key", at: position)
        }
        if let problem = NameRules.qualifiedNameProblem(key) {
            throw error("invalid label key \"\(key)\": \(problem)", at: position)
        }
        return key
    }

    mutating func value(allowEmpty: Bool) throws(SelectorError) -> String {
        let (token, position) = peek()
        guard case .identifier(let value) = token else {
            guard allowEmpty else { throw error("found '\(token.text)', expected a label value", at: position) }
            return ""
        }
        _ = next()
        if let problem = NameRules.labelValueProblem(value) {
            throw error("invalid label value \"\(value)\": \(problem)", at: position)
        }
        return value
    }

    mutating func requirement() throws(SelectorError) -> LabelRequirement {
        if peek().token == .exclamation {
            _ = next()
            let key = try key()
            let (after, position) = peek()
            guard after == .comma || after == .end else {
                throw error("found '\(after.text)', expected ',' or the end of the selector after '!\(key)'", at: position)
            }
            return LabelRequirement(key: key, operator: .doesNotExist)
        }
        let key = try key()
        let (operatorToken, position) = peek()
        switch operatorToken {
        case .comma, .end:
            return LabelRequirement(key: key, operator: .exists)
        case .equals, .doubleEquals, .notEquals:
            _ = next()
            let value = try value(allowEmpty: true)
            return LabelRequirement(key: key, operator: operatorToken == .notEquals ? .notEquals : .equals, values: [value])
        case .greaterThan, .lessThan:
            _ = next()
            let (valueToken, valuePosition) = next()
            guard case .identifier(let value) = valueToken, Int64(value) != nil else {
                throw error("found '\(valueToken.text)', expected an integer after '\(operatorToken.text)'", at: valuePosition)
            }
            return LabelRequirement(key: key, operator: operatorToken == .greaterThan ? .greaterThan : .lessThan, values: [value])
        case .identifier(let word) where word == "in" || word == "notin":
            _ = next()
            let values = try valueSet()
            return LabelRequirement(key: key, operator: word == "in" ? .in : .notIn, values: values)
        default:
            throw error("found '\(operatorToken.text)', expected one of '=', '==', '!=', 'in', 'notin', ',' or the end of the selector", at: position)
        }
    }

    mutating func valueSet() throws(SelectorError) -> [String] {
        let (open, openPosition) = next()
        guard open == .openParenthesis else {
            throw error("found '\(open.text)', expected '(' to start the value set", at: openPosition)
        }
        var values: [String] = []
        while true {
            values.append(try value(allowEmpty: true))
            let (token, position) = next()
            switch token {
            case .comma: continue
            case .closeParenthesis:
                if values == [""] { throw error("the value set is empty; list at least one value", at: openPosition) }
                return values
            default:
                throw error("found '\(token.text)', expected ',' or ')' in the value set", at: position)
            }
        }
    }
}
