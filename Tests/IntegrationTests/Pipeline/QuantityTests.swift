import Api
import Testing

@Suite("Pipeline: quantities")
struct PipelineQuantityTests {
    static func milli(_ text: String) throws -> Int128 { try QuantityValue(parsing: text).milliUnits }

    @Test("quantities parse exactly into milli-units")
    func parsing() throws {
        #expect(try Self.milli("500m") == 500)
        #expect(try Self.milli("1") == 1000)
        #expect(try Self.milli("1.5") == 1500)
        #expect(try Self.milli(".5") == 500)
        #expect(try Self.milli("2.") == 2000)
        #expect(try Self.milli("1Ki") == 1024 * 1000)
        #expect(try Self.milli("128Mi") == 128 * 1024 * 1024 * 1000)
        #expect(try Self.milli("1Gi") == 1024 * 1024 * 1024 * 1000)
        #expect(try Self.milli("1e3") == 1_000_000)
        #expect(try Self.milli("1E3") == 1_000_000)
        #expect(try Self.milli("2k") == 2_000_000)
        #expect(try Self.milli("1M") == 1_000_000_000)
        #expect(try Self.milli("1.5Gi") == 1_610_612_736_000)
        #expect(try Self.milli("-1") == -1000)
        #expect(try Self.milli("+3") == 3000)
        #expect(try Self.milli("0") == 0)
        #expect(try Self.milli("1e-3") == 1)
        // Finer than a thousandth rounds up, as in Kubernetes.
        #expect(try Self.milli("0.0001") == 1)
        #expect(try Self.milli("1.0001") == 1001)
        #expect(try Self.milli("0.000000000000000000000000000000000000000000001") == 1)
        #expect(try Self.milli("8E") == 8_000_000_000_000_000_000_000)
    }

    @Test("malformed quantities are refused with the reason")
    func malformed() {
        let cases: [(String, String)] = [
            ("", "it is empty"),
            ("abc", "it must start with a number, not \"abc\""),
            ("1x", "unknown suffix \"x\" (known: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)"),
            ("1.2.3", "it has a second decimal point at position 4"),
            ("1Kb", "unknown suffix \"Kb\" (known: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)"),
            (".", "it has no digits"),
            ("10E", "it is too large (more than 2^63 - 1)"),
            ("1e99", "the exponent 99 is out of range (-40 to 40)"),
            ("1 ", "unknown suffix \" \" (known: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)"),
        ]
        for (text, problem) in cases {
            #expect(throws: QuantityError(text: text, problem: problem)) { try QuantityValue(parsing: text) }
        }
        #expect(QuantityError(text: "1x", problem: "p").description.contains("such as 500m, 2, 1.5, 128Mi, 1Gi, 2k or 1e3"))
    }

    @Test("comparison and addition are exact across suffixes")
    func comparison() throws {
        #expect(try QuantityValue(parsing: "1") == QuantityValue(parsing: "1000m"))
        #expect(try QuantityValue(parsing: "1k") == QuantityValue(parsing: "1e3"))
        #expect(try QuantityValue(parsing: "1Ki") > QuantityValue(parsing: "1k"))
        #expect(try QuantityValue(parsing: "999m") < QuantityValue(parsing: "1"))
        #expect(try QuantityValue(parsing: "512Mi") + QuantityValue(parsing: "512Mi") == QuantityValue(parsing: "1Gi"))
        #expect(try QuantityValue(parsing: "1Gi").unitsRoundedUp == 1_073_741_824)
    }

    @Test("the canonical text keeps the suffix family")
    func canonical() throws {
        #expect(try QuantityValue(parsing: "1000m").description == "1")
        #expect(try QuantityValue(parsing: "1500m").description == "1500m")
        #expect(try QuantityValue(parsing: "1024Mi").description == "1Gi")
        #expect(try QuantityValue(parsing: "1536Mi").description == "1536Mi")
        #expect(try QuantityValue(parsing: "2000").description == "2k")
        #expect(try QuantityValue(parsing: "0.5Gi").description == "512Mi")
        #expect(try QuantityValue(parsing: "1e3").description == "1e3")
        #expect(try QuantityValue(parsing: "-250m").description == "-250m")
        #expect(try Quantity("2Gi").value() == QuantityValue(units: 2 * 1024 * 1024 * 1024))
    }
}
