// HashAndHexTests.swift — SHA-256 against published digests; hex encoding is lowercase and decoding strict.
import Testing
@testable import TrellisCrypto

@Suite struct SHA256Tests {
    @Test func knownDigests() {
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func partsEqualConcatenation() {
        let a: [UInt8] = Array("hello ".utf8), b: [UInt8] = Array("world".utf8)
        #expect(SHA256.hash(parts: [a, b]) == SHA256.hash(a + b))
        #expect(SHA256.hash(parts: []) == SHA256.hash([]))
    }

    @Test func hashRequires32Bytes() {
        #expect(Hash(bytes: [1, 2, 3]) == nil)
        #expect(Hash(bytes: [UInt8](repeating: 0, count: 32)) == Hash.zero)
        #expect(throws: HexError.wrongLength(expectedBytes: 32, actualBytes: 1)) { try Hash(hex: "ab") }
    }
}

@Suite struct HexTests {
    @Test func roundTrip() throws {
        let bytes: [UInt8] = (0...255).map { UInt8($0) }
        let text = Hex.encode(bytes)
        #expect(text.count == 512)
        #expect(text == text.lowercased())
        #expect(try Hex.decode(text) == bytes)
        #expect(try Hex.decode(text.uppercased()) == bytes)
    }

    @Test func rejectsMalformed() throws {
        #expect(throws: HexError.oddLength(3)) { try Hex.decode("abc") }
        #expect(throws: HexError.invalidCharacter(position: 1)) { try Hex.decode("0g") }
        #expect(throws: HexError.invalidCharacter(position: 0)) { try Hex.decode(" 0") }
        #expect(throws: HexError.invalidCharacter(position: 2)) { try Hex.decode("00é") }
        #expect(try Hex.decode("") == [])
    }
}
