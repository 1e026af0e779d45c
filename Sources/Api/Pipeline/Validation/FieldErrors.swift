/// FieldErrors collects validation causes in Kubernetes' shape: a field path such as
/// `spec.containers[0].image`, a reason type (FieldValueRequired, FieldValueInvalid,
/// FieldValueDuplicate, FieldValueNotSupported, FieldValueForbidden, FieldValueNotFound,
/// FieldValueTooLong) and Kubernetes' message body ("Required value", `Invalid value: "x": …`).
struct FieldErrors {
    var causes: [StatusCause] = []

    /// A value as Kubernetes prints it in messages: strings quoted, numbers bare.
    static func show(_ value: String) -> String { "\"" + value.replacingAll(["\"": "\\\"", "\\": "\\\\"]) + "\"" }

    /// A label map as Go prints it: map[string]string{"app":"web"}.
    static func show(_ map: [String: String]) -> String {
        "map[string]string{" + map.sorted { $0.key < $1.key }.map { show($0.key) + ":" + show($0.value) }.joined(separator: ", ") + "}"
    }

    mutating func required(_ path: String, _ detail: String = "") {
        causes.append(.field(path, "FieldValueRequired", "Required value" + (detail.isEmpty ? "" : ": " + detail)))
    }

    mutating func invalid(_ path: String, _ shownValue: String, _ detail: String) {
        causes.append(.field(path, "FieldValueInvalid", "Invalid value: \(shownValue): \(detail)"))
    }

    mutating func invalid(_ path: String, string value: String, _ detail: String) {
        invalid(path, Self.show(value), detail)
    }

    mutating func duplicate(_ path: String, _ value: String) {
        causes.append(.field(path, "FieldValueDuplicate", "Duplicate value: \(Self.show(value))"))
    }

    mutating func notSupported(_ path: String, _ value: String, supported: [String]) {
        causes.append(.field(
            path, "FieldValueNotSupported",
            "Unsupported value: \(Self.show(value)): supported values: \(supported.map(Self.show).joined(separator: ", "))"))
    }

    mutating func forbidden(_ path: String, _ detail: String) {
        causes.append(.field(path, "FieldValueForbidden", "Forbidden: \(detail)"))
    }

    mutating func notFound(_ path: String, _ value: String) {
        causes.append(.field(path, "FieldValueNotFound", "Not found: \(Self.show(value))"))
    }

    mutating func tooLong(_ path: String, maximumBytes: Int) {
        causes.append(.field(path, "FieldValueTooLong", "Too long: must have at most \(maximumBytes) bytes"))
    }

    mutating func immutable(_ path: String, _ shownValue: String) {
        invalid(path, shownValue, "field is immutable")
    }

    /// Checks text with a NameRules function, reporting its problem as an invalid value.
    mutating func check(_ path: @autoclosure () -> String, _ value: String, _ rule: (String) -> String?) {
        if let problem = rule(value) { invalid(path(), string: value, problem) }
    }

    mutating func supported(_ path: @autoclosure () -> String, _ value: String?, _ values: [String]) {
        if let value, !value.isEmpty, !values.contains(value) { notSupported(path(), value, supported: values) }
    }

    mutating func labels(_ lazyPath: @autoclosure () -> String, _ labels: [String: String]) {
        // Sorted only to report problems in a stable order; the common case (no problem) neither
        // sorts nor builds the per-key path.
        guard labels.contains(where: { NameRules.qualifiedNameProblem($0.key) != nil || NameRules.labelValueProblem($0.value) != nil })
        else { return }
        let path = lazyPath()
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            check(path, key, NameRules.qualifiedNameProblem)
            check("\(path)[\(key)]", value, NameRules.labelValueProblem)
        }
    }

    /// Parses a quantity, reporting malformed or (unless allowed) negative amounts.
    mutating func quantity(_ path: @autoclosure () -> String, _ quantity: Quantity, allowNegative: Bool = false) -> QuantityValue? {
        do {
            let value = try quantity.value()
            if !allowNegative && value.milliUnits < 0 {
                invalid(path(), string: quantity.string ?? "", "must be greater than or equal to 0")
                return nil
            }
            return value
        } catch {
            invalid(path(), string: quantity.string ?? "", "\(error)")
            return nil
        }
    }

    mutating func nonNegative(_ path: @autoclosure () -> String, _ value: Int64?) {
        if let value, value < 0 { invalid(path(), String(value), "must be greater than or equal to 0") }
    }

    mutating func port(_ path: @autoclosure () -> String, _ value: Int32?, allowZero: Bool = false) {
        guard let value else { return }
        if value == 0 && allowZero { return }
        if value < 1 || value > 65535 { invalid(path(), String(value), "must be between 1 and 65535, inclusive") }
    }
}
