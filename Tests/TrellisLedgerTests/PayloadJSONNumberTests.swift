// PayloadJSONNumberTests.swift — a payload's JSON form writes whole numbers in digits: a number written with a
// fraction or an exponent is named with its path and as written, judged on the text (Foundation reads the 64-bit
// extremes, written in digits, as floating point: those must pass), never on digits inside a string.
import Foundation
import Testing
@testable import TrellisLedger

@Suite struct PayloadJSONNumberTests {
    func found(_ json: String) -> String? {
        PayloadJSONCheck.numberWithFractionOrExponent(Data(json.utf8)).map { "\($0.path) = \($0.value)" }
    }

    @Test func aFractionOrAnExponentIsNamedWithItsPathAsWritten() {
        #expect(found(#"{"limit":1e3}"#) == "limit = 1e3")
        #expect(found(#"{"limit":1000.0}"#) == "limit = 1000.0")
        #expect(found(#"{"a":[1,{"b":2,"c":-2.5E+1}],"z":3}"#) == "a[1].c = -2.5E+1")
        #expect(found(#"{"x":{"y":[[0],[1,4e0]]}}"#) == "x.y[1][1] = 4e0")
        // The first in the text's order, and a key with an escape read as JSON reads it.
        #expect(found(#"{"b\"q":1.5,"a":2e2}"#) == #"b"q = 1.5"#)
    }

    @Test func digitsAndTextPass() {
        #expect(found(#"{"start":-9223372036854775808,"end":9223372036854775807,"max":18446744073709551615}"#) == nil)
        #expect(found(#"{"id":"1.5e3","note":"a \"2.5\" b","n":[1,2,3],"t":true,"f":false,"z":null}"#) == nil)
        #expect(found("7") == nil)
        #expect(found(#"{"bad json"#) == nil)  // the decoder has said why already
    }
}
