import Foundation

// The messages whose JSON form is not an object of their fields (meta_v1.proto lists them).
// The generator leaves these out and describes them in OpenAPI by their Kubernetes names.

extension Time: JSONMessage {
    /// RFC 3339 with whole seconds in UTC, as Kubernetes writes `metav1.Time`:
    /// "2026-11-24T21:00:00Z". Any RFC 3339 text is accepted; a fraction is kept in nanos.
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        let (seconds, nanos) = try RFC3339.decode(json, at: path)
        self.init(seconds: seconds, nanos: nanos == 0 ? nil : nanos)
    }

    public func jsonValue() -> JSONValue {
        .string(RFC3339.format(seconds: seconds ?? 0, nanos: 0, fractionDigits: 0))
    }
}

extension MicroTime: JSONMessage {
    /// RFC 3339 with six fraction digits in UTC, as Kubernetes writes `metav1.MicroTime`:
    /// "2026-11-24T21:00:00.123456Z".
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        let (seconds, nanos) = try RFC3339.decode(json, at: path)
        self.init(seconds: seconds, nanos: nanos == 0 ? nil : nanos)
    }

    public func jsonValue() -> JSONValue {
        .string(RFC3339.format(seconds: seconds ?? 0, nanos: nanos ?? 0, fractionDigits: 6))
    }
}

extension Quantity: JSONMessage {
    /// A string such as "500m" or "1Gi"; a bare number (YAML `cpu: 1` arrives as 1) is taken
    /// as its text. Malformed text is an error at its path. The text is kept as written.
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        let text: String
        switch json {
        case .string(let value): text = value
        case .number(let value): text = value
        default:
            throw JSONDecodingError(path, "expected a quantity such as \"500m\" or \"1Gi\", got \(json.shortDescription)")
        }
        do {
            _ = try QuantityValue(parsing: text)
        } catch {
            throw JSONDecodingError(path, error.description)
        }
        self.init(text)
    }

    /// Kubernetes writes the zero quantity as "0".
    public func jsonValue() -> JSONValue { .string(string ?? "0") }
}

extension IntOrString: JSONMessage {
    /// A bare number (type 0) or a bare string (type 1): `port: 8080`, `port: http`,
    /// `maxSurge: 25%`.
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        switch json {
        case .string(let text):
            self.init(type: 1, strVal: text)
        case .number(let text):
            guard let number = Int32(text) else {
                throw JSONDecodingError(path, "expected an integer from \(Int32.min) to \(Int32.max) or a string, got \(json.shortDescription)")
            }
            self.init(type: 0, intVal: number)
        default:
            throw JSONDecodingError(path, "expected an integer or a string, got \(json.shortDescription)")
        }
    }

    public var isString: Bool { type == 1 || (type == nil && intVal == nil && strVal != nil) }

    public func jsonValue() -> JSONValue { isString ? .string(strVal ?? "") : .int(intVal ?? 0) }
}

extension RawExtension: JSONMessage {
    /// The embedded object itself. Raw bytes that are not JSON (protobuf from a binary client)
    /// are written as a base64 string rather than dropped, so nothing is lost silently.
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        self.init(raw: json.isNull ? nil : json.serialized())
    }

    public func jsonValue() -> JSONValue {
        guard let raw else { return .null }
        if let value = try? JSONValue(parsing: raw) { return value }
        return JSONField.base64(raw)
    }
}

extension FieldsV1: JSONMessage {
    /// The field set trie as an embedded object: {"f:metadata":{"f:labels":{"f:app":{}}}}.
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        switch json {
        case .null: self.init()
        case .object: self.init(raw: json.serialized())
        default: throw JSONDecodingError(path, "expected an object (a field set), got \(json.shortDescription)")
        }
    }

    public func jsonValue() -> JSONValue {
        guard let raw, let value = try? JSONValue(parsing: raw) else { return .object(JSONObject()) }
        return value
    }
}

extension Verbs: JSONMessage {
    /// A plain array of strings.
    public init(json: JSONValue, at path: JSONPath, context: inout JSONDecodingContext) throws(JSONDecodingError) {
        guard case .array(let elements) = json else {
            if json.isNull {
                self.init()
                return
            }
            throw JSONDecodingError(path, "expected an array of verbs, got \(json.shortDescription)")
        }
        var items: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let verb) = element else {
                throw JSONDecodingError(path.appending(index: index), "expected a string, got \(element.shortDescription)")
            }
            items.append(verb)
        }
        self.init(items: items)
    }

    public func jsonValue() -> JSONValue { .array(items.map { .string($0) }) }
}

// MARK: RFC 3339

/// RFC3339 formats and parses timestamps without Foundation's formatters (locale- and
/// allocation-free, exact for every Int64 second the calendar can hold).
public enum RFC3339 {
    /// "2026-11-24T21:00:00Z", or with `fractionDigits` (1...9) digits of the second.
    public static func format(seconds: Int64, nanos: Int32, fractionDigits: Int) -> String {
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fractionDigits > 0 {
            let fraction = pad(Int64(max(0, min(nanos, 999_999_999))), 9)
            text += "." + fraction.prefix(fractionDigits)
        }
        return text + "Z"
    }

    /// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (also a lower-case t or z); nil when
    /// the text is not RFC 3339 or names an impossible date.
    public static func parse(_ text: String) -> (seconds: Int64, nanos: Int32)? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2),
            expect("Tt"), let hour = digits(2), expect(":"), let minute = digits(2), expect(":"),
            let second = digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var nanos: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                if count < 9 { nanos = nanos * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            if count < 9 { for _ in count..<9 { nanos *= 10 } }
        }
        var offsetSeconds: Int64 = 0
        if expect("Zz") {
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = digits(2), expect(":"), let offsetMinutes = digits(2), offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return (seconds, Int32(nanos))
    }

    static func decode(_ json: JSONValue, at path: JSONPath) throws(JSONDecodingError) -> (Int64, Int32) {
        guard case .string(let text) = json else {
            throw JSONDecodingError(path, "expected an RFC 3339 time such as \"2026-11-24T21:00:00Z\", got \(json.shortDescription)")
        }
        guard let parsed = parse(text) else {
            throw JSONDecodingError(path, "\(json.shortDescription) is not an RFC 3339 time; expected such as \"2026-11-24T21:00:00Z\"")
        }
        return parsed
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
