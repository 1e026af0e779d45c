/// JSON is the output of every benchmark: an ordered document so that figures print in the order
/// a reader wants them, rendered without Foundation's key shuffling.
public indirect enum JSON: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral
{
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Rounds to `digits` decimals, the precision benchmark figures deserve.
    public static func rounded(_ value: Double, _ digits: Int = 2) -> JSON {
        guard value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return .number((value * scale).rounded() / scale)
    }

    public func rendered(pretty: Bool = true, indent: String = "") -> String {
        switch self {
        case .string(let text): return JSON.quote(text)
        case .integer(let value): return String(value)
        case .number(let value): return value.isFinite ? String(value) : "null"
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            if items.isEmpty { return "[]" }
            let inner = indent + "  "
            let parts = items.map { $0.rendered(pretty: pretty, indent: inner) }
            return pretty
                ? "[\n" + parts.map { inner + $0 }.joined(separator: ",\n") + "\n" + indent + "]"
                : "[" + parts.joined(separator: ",") + "]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            let inner = indent + "  "
            let parts = fields.map { JSON.quote($0.0) + (pretty ? ": " : ":") + $0.1.rendered(pretty: pretty, indent: inner) }
            return pretty
                ? "{\n" + parts.map { inner + $0 }.joined(separator: ",\n") + "\n" + indent + "}"
                : "{" + parts.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Percentiles by nearest rank over raw samples, the rule etcd's anchor driver uses.
public struct LatencySummary: Sendable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    /// Summarises samples given in nanoseconds, reporting microseconds.
    public init(nanoseconds samples: [UInt64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            var index = Int((fraction * Double(sorted.count)).rounded(.up))
            index = Swift.min(Swift.max(index, 1), sorted.count)
            return Double(sorted[index - 1]) / 1000
        }
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        max = sorted.last.map { Double($0) / 1000 } ?? .nan
        mean = sorted.isEmpty ? .nan : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000
    }

    public var json: JSON {
        .object([
            ("count", .integer(count)), ("p50_us", .rounded(p50)), ("p90_us", .rounded(p90)),
            ("p99_us", .rounded(p99)), ("max_us", .rounded(max)), ("mean_us", .rounded(mean)),
        ])
    }
}
