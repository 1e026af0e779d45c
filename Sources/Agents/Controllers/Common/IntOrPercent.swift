import Api

/// IntOrPercent resolves an IntOrString that is a count or a percentage of a total, as
/// Kubernetes' GetScaledValueFromIntOrPercent does: "25%" of 10 is 3 rounding up, 2 rounding
/// down.
public enum IntOrPercent {
    public static func count(_ value: Int) -> IntOrString {
        IntOrString(type: 0, intVal: Int32(value))
    }

    public static func percent(_ text: String) -> IntOrString {
        IntOrString(type: 1, strVal: text)
    }

    /// The value of `value` (or `defaultValue` when nil) against `total`.
    public static func scaled(
        _ value: IntOrString?, default defaultValue: IntOrString, total: Int, roundUp: Bool, field: String
    ) throws(SpecError) -> Int {
        let value = value ?? defaultValue
        if value.type == 1 || (value.type == nil && value.strVal != nil) {
            let text = value.strVal ?? ""
            guard text.hasSuffix("%"), let percent = Int(text.dropLast()), percent >= 0 else {
                // A string without % that is a number is accepted, as Kubernetes does.
                if let number = Int(text), number >= 0 { return number }
                throw SpecError(field: field, "invalid value \"\(text)\": must be a non-negative integer or a percentage such as \"25%\"")
            }
            let product = percent * total
            return roundUp ? (product + 99) / 100 : product / 100
        }
        let number = Int(value.intVal ?? 0)
        guard number >= 0 else {
            throw SpecError(field: field, "invalid value \(number): must be non-negative")
        }
        return number
    }
}
