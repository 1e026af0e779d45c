import Testing

@testable import Api

@Suite struct JSONValueTests {
    @Test func roundTripKeepsNumbersExactAndKeysInOrder() throws {
        let text = #"{"kind":"Pod","apiVersion":"v1","n":9007199254740993,"f":1.50,"e":-2E+3,"s":"a\"b\\c\n\u00e9\ud83d\ude00","t":true,"z":null,"a":[]}"#
        let value = try JSONValue(parsing: text)
        #expect(value["n"]?.int64Value == 9_007_199_254_740_993)
        #expect(value["f"] == .number("1.50"))
        #expect(value["s"]?.stringValue == "a\"b\\c\né😀")
        #expect(value.objectValue?.keys == ["kind", "apiVersion", "n", "f", "e", "s", "t", "z", "a"])
        let again = try JSONValue(parsing: value.serialized())
        #expect(again == value)
        #expect(try JSONValue(parsing: value.prettyPrinted()) == value)
    }

    @Test func objectsCompareWithoutOrder() throws {
        #expect(try JSONValue(parsing: #"{"a":1,"b":2}"#) == JSONValue(parsing: #"{"b":2,"a":1}"#))
        #expect(try JSONValue(parsing: #"{"a":1}"#) != JSONValue(parsing: #"{"a":1.0}"#))
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a member name"), (#"{"a" 1}"#, "expected ':'"),
        ("[1,]", "unexpected character"), ("01", "leading zero"), (#"{"a":1,"a":2}"#, "duplicate member \"a\""),
        ("\"\u{01}\"", "control character"), (#""\x""#, "invalid escape"), (#""\ud800""#, "unpaired surrogate"),
        ("[1] 2", "unexpected content"), ("tru", "unexpected end"), ("1.", "expected a digit after '.'"),
    ])
    func malformedDocumentsAreRefusedWithAReason(input: String, reason: String) {
        do {
            let value = try JSONValue(parsing: input)
            Issue.record("\(input.debugDescription) parsed as \(value)")
        } catch {
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: deep) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
    }

    @Test func objectMembersCanBeReplacedAndRemoved() {
        var object = JSONObject([("a", 1), ("b", 2)])
        object["a"] = "x"
        object["c"] = true
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(JSONValue.object(object).compactText == #"{"a":"x","c":true}"#)
    }
}
