/// QuantityError is text that is not a Kubernetes quantity.
public struct QuantityError: Error, Sendable, Hashable, CustomStringConvertible {
    public init(text: String, problem: String) {
        self.text = text
        self.problem = problem
    }

    public var text: String
    public var problem: String

    public var description: String {
        "\"\(text)\" is not a quantity: \(problem); write a number with an optional suffix, such as 500m, 2, 1.5, 128Mi, 1Gi, 2k or 1e3"
    }
}

/// QuantityValue is the exact amount a Kubernetes quantity denotes, in thousandths of its unit
/// (milli-cores for CPU, milli-bytes for memory), the resolution Kubernetes keeps: "500m" is
/// 500, "1" is 1000, "1Ki" is 1 024 000. Amounts finer than a thousandth round up to the next
/// thousandth, as Kubernetes rounds them ("0.0001" is "1m"). Comparison and addition are
/// exact integer arithmetic; no floating point is involved.
///
/// The generated proto type `Quantity` holds the text; `Quantity.value()` parses it.
public struct QuantityValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How the quantity was written; `description` writes it back in the same family.
    public enum Format: Sendable, Hashable {
        case decimalSI
        case binarySI
        case decimalExponent
    }

    public var milliUnits: Int128
    public var format: Format

    /// The largest magnitude accepted, 2^63 - 1 units, as Kubernetes bounds quantities.
    public static let maximumUnits = Int128(Int64.max)

    public init(milliUnits: Int128, format: Format = .decimalSI) {
        self.milliUnits = milliUnits
        self.format = format
    }

    public init(units: Int64, format: Format = .decimalSI) {
        self.init(milliUnits: Int128(units) * 1000, format: format)
    }

    public static let zero = QuantityValue(milliUnits: 0)

    /// Whole units, rounded up like Kubernetes' `Value()` (bytes of memory, count of pods).
    public var unitsRoundedUp: Int128 {
        milliUnits >= 0 ? (milliUnits + 999) / 1000 : milliUnits / 1000
    }

    public static func < (left: QuantityValue, right: QuantityValue) -> Bool { left.milliUnits < right.milliUnits }

    public static func == (left: QuantityValue, right: QuantityValue) -> Bool { left.milliUnits == right.milliUnits }

    public func hash(into hasher: inout Hasher) { hasher.combine(milliUnits) }

    public static func + (left: QuantityValue, right: QuantityValue) -> QuantityValue {
        QuantityValue(milliUnits: left.milliUnits + right.milliUnits, format: left.milliUnits == 0 ? right.format : left.format)
    }

    public static func - (left: QuantityValue, right: QuantityValue) -> QuantityValue {
        QuantityValue(milliUnits: left.milliUnits - right.milliUnits, format: left.format)
    }

    /// Parses Kubernetes' quantity syntax: an optionally signed decimal number ("1", "1.5",
    /// ".5", "2.") followed by nothing, a decimal SI suffix (m, k, M, G, T, P, E), a binary SI
    /// suffix (Ki, Mi, Gi, Ti, Pi, Ei) or a decimal exponent (e3, E-2).
    public init(parsing text: String) throws(QuantityError) {
        func fail(_ problem: String) -> QuantityError { QuantityError(text: text, problem: problem) }
        let characters = Array(text.utf8)
        guard !characters.isEmpty else { throw fail("it is empty") }
        var index = 0
        var negative = false
        if characters[index] == UInt8(ascii: "+") || characters[index] == UInt8(ascii: "-") {
            negative = characters[index] == UInt8(ascii: "-")
            index += 1
        }
        var mantissa: Int128 = 0
        var digitCount = 0
        var fractionDigits = 0
        var seenPoint = false
        while index < characters.count {
            let character = characters[index]
            if character == UInt8(ascii: ".") {
                guard !seenPoint else { throw fail("it has a second decimal point at position \(index + 1)") }
                seenPoint = true
            } else if character >= UInt8(ascii: "0") && character <= UInt8(ascii: "9") {
                if mantissa == 0 && character == UInt8(ascii: "0") {
                    // Leading zeros (before or after the point) are not significant digits.
                } else {
                    digitCount += 1
                    guard digitCount <= 30 else { throw fail("it has more than 30 significant digits") }
                    mantissa = mantissa * 10 + Int128(character - UInt8(ascii: "0"))
                }
                if seenPoint { fractionDigits += 1 }
            } else {
                break
            }
            index += 1
        }
        let numberText = characters[(negative || characters[0] == UInt8(ascii: "+") ? 1 : 0)..<index]
        guard numberText.contains(where: { $0 != UInt8(ascii: ".") }) else {
            throw fail(index < characters.count ? "it must start with a number, not \"\(String(decoding: characters[index...], as: UTF8.self))\"" : "it has no digits")
        }
        let suffix = String(decoding: characters[index...], as: UTF8.self)
        var binaryFactor: Int128 = 1
        var exponent = 0
        var format = Format.decimalSI
        switch suffix {
        case "": break
        case "m": exponent = -3
        case "k": exponent = 3
        case "M": exponent = 6
        case "G": exponent = 9
        case "T": exponent = 12
        case "P": exponent = 15
        case "E": exponent = 18
        case "Ki", "Mi", "Gi", "Ti", "Pi", "Ei":
            let power = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].firstIndex(of: suffix)! + 1
            binaryFactor = Int128(1) << (10 * power)
            format = .binarySI
        default:
            let first = suffix.first!
            let exponentText = suffix.dropFirst()
            guard first == "e" || first == "E", let value = Int(exponentText), !exponentText.hasPrefix("+-"),
                exponentText.first != "+" || exponentText.count > 1
            else {
                throw fail("unknown suffix \"\(suffix)\" (known: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)")
            }
            guard abs(value) <= 40 else { throw fail("the exponent \(value) is out of range (-40 to 40)") }
            exponent = value
            format = .decimalExponent
        }
        // value = mantissa * 10^(exponent - fractionDigits) * binaryFactor; in thousandths:
        let scale = exponent - fractionDigits + 3
        let (scaledMantissa, mantissaOverflow) = mantissa.multipliedReportingOverflow(by: binaryFactor)
        guard !mantissaOverflow else { throw fail("it is too large (more than 2^63 - 1)") }
        var milliUnits = scaledMantissa
        if scale >= 0 {
            for _ in 0..<scale {
                let (product, overflow) = milliUnits.multipliedReportingOverflow(by: 10)
                guard !overflow, product <= Self.maximumUnits * 1000 else { throw fail("it is too large (more than 2^63 - 1)") }
                milliUnits = product
            }
        } else if milliUnits != 0 {
            // Divide by 10^-scale, rounding up; once the divisor exceeds the dividend the
            // quotient is below one thousandth and rounds up to exactly one.
            var denominator: Int128 = 1
            var belowOneThousandth = false
            for _ in 0..<(-scale) {
                let (product, overflow) = denominator.multipliedReportingOverflow(by: 10)
                if overflow || product > milliUnits {
                    belowOneThousandth = true
                    break
                }
                denominator = product
            }
            if belowOneThousandth {
                milliUnits = 1
            } else {
                milliUnits = milliUnits / denominator + (milliUnits % denominator == 0 ? 0 : 1)
            }
        }
        guard milliUnits <= Self.maximumUnits * 1000 else { throw fail("it is too large (more than 2^63 - 1)") }
        if negative { milliUnits = -milliUnits }
        self.init(milliUnits: milliUnits, format: format)
    }

    /// The canonical text, Kubernetes-style: whole amounts with the largest exact suffix of the
    /// format's family ("1Gi", "2k", "1"), fractions in milli-units ("1500m").
    public var description: String {
        let sign = milliUnits < 0 ? "-" : ""
        let magnitude = milliUnits < 0 ? -milliUnits : milliUnits
        guard magnitude % 1000 == 0 else { return sign + String(magnitude) + "m" }
        let units = magnitude / 1000
        guard units != 0 else { return "0" }
        if format == .binarySI {
            for (power, suffix) in ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"].enumerated().map({ (6 - $0.offset, $0.element) }) {
                let factor = Int128(1) << (10 * power)
                if units % factor == 0 { return sign + String(units / factor) + suffix }
            }
            return sign + String(units)
        }
        for (power, suffix) in [(18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k")] {
            var factor: Int128 = 1
            for _ in 0..<power { factor *= 10 }
            if units % factor == 0 {
                return sign + String(units / factor) + (format == .decimalExponent ? "e\(power)" : suffix)
            }
        }
        return sign + String(units)
    }

    /// left / right as a Double, for limit-to-request ratios.
    public func ratio(to other: QuantityValue) -> Double {
        precondition(other.milliUnits != 0, "a ratio needs a non-zero denominator")
        return Double(milliUnits) / Double(other.milliUnits)
    }
}

extension Quantity {
    /// The parsed amount; malformed text throws a `QuantityError` saying what is wrong.
    public func value() throws(QuantityError) -> QuantityValue {
        try QuantityValue(parsing: string ?? "")
    }

    public init(_ value: QuantityValue) {
        self.init()
        self.string = value.description
    }

    public init(_ text: String) {
        self.init()
        self.string = text
    }
}
