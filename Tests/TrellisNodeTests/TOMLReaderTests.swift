// TOMLReaderTests.swift — the strict config reader: what it accepts, and that every refusal is an error naming
// the line (never a trap, which is how the previous C++ parser answered some of these).
import Testing
@testable import TrellisNode

@Suite struct TOMLReaderTests {
    @Test func readsTheSubsetConfigUses() throws {
        let table = try TOMLReader.parse("""
        # comment
        top = -9_223_372_036_854_775_808
        [node]   # trailing comment
        name = "bank \\"A\\" \\u00e9\\U0001F600"
        raw = 'C:\\path'
        on = true
        off = false
        [p2p]
        peers = [
          "a@h:1", # first
          'b@h:2',
        ]
        empty = []
        big = 9_223_372_036_854_775_807
        zero = 0
        "quoted key" = +7
        [deep.er]
        x = 1

        """)
        #expect(table["top"]?.value == .integer(Int64.min))
        guard case .table(let node)? = table["node"]?.value, case .table(let p2p)? = table["p2p"]?.value,
              case .table(let deep)? = table["deep"]?.value, case .table(let er)? = deep["er"]?.value else {
            Issue.record("tables missing: \(table)")
            return
        }
        #expect(node["name"]?.value == .string("bank \"A\" é😀"))
        #expect(node["name"]?.line == 4)
        #expect(node["raw"]?.value == .string("C:\\path"))
        #expect(node["on"]?.value == .boolean(true))
        #expect(node["off"]?.value == .boolean(false))
        #expect(p2p["peers"]?.value == .array([.string("a@h:1"), .string("b@h:2")]))
        #expect(p2p["empty"]?.value == .array([]))
        #expect(p2p["big"]?.value == .integer(Int64.max))
        #expect(p2p["zero"]?.value == .integer(0))
        #expect(p2p["quoted key"]?.value == .integer(7))
        #expect(er["x"]?.line == 18)
        #expect(try TOMLReader.parse("a = 1\r\nb = 2\r\n")["b"]?.line == 2)
    }

    @Test(arguments: [
        ("[api\nlisten = 1", 1, "table header"),
        ("a = 1\nb = ", 2, "value"),
        ("a = 1\na = 2", 2, "defined twice"),
        ("[x]\n[x]", 2, "defined twice"),
        ("a = 1\n[a]", 2, "redefines"),
        ("a = 9223372036854775808", 1, "64-bit"),
        ("a = -9223372036854775809", 1, "64-bit"),
        ("a = 99999999999999999999999", 1, "64-bit"),
        ("a = 1.5", 1, "floating-point"),
        ("a = 1e3", 1, "floating-point"),
        ("a = inf", 1, "floating-point"),
        ("a = nan", 1, "floating-point"),
        ("a = 1979-05-27", 1, "dates"),
        ("a = 0x10", 1, "decimal"),
        ("a = 012", 1, "leading zeros"),
        ("a = 1__0", 1, "between two digits"),
        ("a = 1_", 1, "between two digits"),
        ("a = _1", 1, "expected a value"),
        ("a = \"open", 1, "unterminated"),
        ("a = \"bad \\q\"", 1, "escape"),
        ("a = \"\\uD800\"", 1, "scalar"),
        ("a = '''x'''", 1, "multi-line"),
        ("a = { b = 1 }", 1, "inline tables"),
        ("[[t]]", 1, "arrays of tables"),
        ("a.b = 1", 1, "dotted key"),
        ("a = [1, 2", 1, "unterminated array"),
        ("a = [1 2]", 1, "expected"),
        ("a = truex", 1, "after a value"),
        ("a = 1 2", 1, "end of the line"),
        ("x\n= 1", 1, "expected \"=\""),
        ("a = \"x\u{01}\"", 1, "control character"),
        ("# c\u{00}", 1, "control character"),
        ("a = 1\rb = 2", 1, "end of the line"),
        ("\n\n= 1", 3, "expected a key"),
    ])
    func refusalsNameTheLine(text: String, line: Int, mention: String) {
        do {
            let table = try TOMLReader.parse(text)
            Issue.record("accepted \(text.debugDescription): \(table)")
        } catch {
            #expect(error.line == line, "\(text.debugDescription): \(error)")
            #expect(error.message.contains(mention), "\(text.debugDescription): \(error)")
        }
    }

    @Test func deepArraysAreRefusedNotRecursedWithoutBound() {
        let text = "a = " + String(repeating: "[", count: 10_000)
        #expect(throws: TOMLSyntaxError.self) { try TOMLReader.parse(text) }
    }

    @Test func randomTextNeverTraps() {
        // Mutations of a real config: every answer is a table or a TOMLSyntaxError (a trap would end the test run).
        let base = Array(NodeConfig().toml().utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabet = Array("[]=\"'#.,_-+0123456789\n\r\t abcxyzu\\{}".utf8)
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0..<(1 + Int(next() % 6)) {
                let position = Int(next() % UInt64(bytes.count))
                switch next() % 3 {
                case 0: bytes[position] = alphabet[Int(next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: position)
                }
            }
            _ = try? NodeConfig.parse(String(decoding: bytes, as: UTF8.self))
        }
    }
}
