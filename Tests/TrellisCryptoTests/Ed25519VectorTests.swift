// Ed25519VectorTests.swift — RFC 8032 §7.1 vectors: signing reproduces them, verification accepts them and rejects
// any single flipped bit in message, public key or signature.
import Foundation
import Testing
@testable import TrellisCrypto

struct RFC8032Vector: Decodable {
    let name: String
    let secret_seed: String
    let public_key: String
    let message: String
    let signature: String
}

private struct VectorFile: Decodable {
    let tests: [RFC8032Vector]
}

func loadRFC8032Vectors() throws -> [RFC8032Vector] {
    let url = try #require(Bundle.module.url(forResource: "ed25519_rfc8032", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url)).tests
}

@Suite struct Ed25519VectorTests {
    @Test func vectorsArePresent() throws {
        #expect(try loadRFC8032Vectors().count >= 4)
    }

    @Test func signingReproducesVectors() throws {
        for v in try loadRFC8032Vectors() {
            let key = try SigningKey(seed: Hex.decode(v.secret_seed))
            #expect(key.publicKey.hex == v.public_key, "\(v.name): public key")
            #expect(key.sign(try Hex.decode(v.message)).hex == v.signature, "\(v.name): signature")
        }
    }

    @Test func verificationAcceptsVectors() throws {
        for v in try loadRFC8032Vectors() {
            let pk = try PublicKey(hex: v.public_key)
            #expect(pk.verify(try Signature(hex: v.signature), message: try Hex.decode(v.message)), "\(v.name)")
        }
    }

    @Test func anyFlippedBitIsRejected() throws {
        for v in try loadRFC8032Vectors() {
            let pk = try Hex.decode(v.public_key)
            let sig = try Hex.decode(v.signature)
            let msg = try Hex.decode(v.message)
            // Every bit of the signature.
            for bit in 0..<(sig.count * 8) {
                var s = sig
                s[bit / 8] ^= 1 << UInt8(bit % 8)
                #expect(!(try PublicKey(bytes: pk)).verify(try Signature(bytes: s), message: msg), "\(v.name) sig bit \(bit)")
            }
            // Every bit of the public key.
            for bit in 0..<(pk.count * 8) {
                var k = pk
                k[bit / 8] ^= 1 << UInt8(bit % 8)
                #expect(!(try PublicKey(bytes: k)).verify(try Signature(bytes: sig), message: msg), "\(v.name) key bit \(bit)")
            }
            // Every bit of the message (or an appended byte for the empty message).
            if msg.isEmpty {
                #expect(!(try PublicKey(bytes: pk)).verify(try Signature(bytes: sig), message: [0]))
            }
            for bit in 0..<min(msg.count * 8, 512) {
                var m = msg
                m[bit / 8] ^= 1 << UInt8(bit % 8)
                #expect(!(try PublicKey(bytes: pk)).verify(try Signature(bytes: sig), message: m), "\(v.name) msg bit \(bit)")
            }
        }
    }

    @Test func wrongLengthsAreTypedErrors() {
        #expect(throws: CryptoError.wrongLength(what: "public key", expected: 32, actual: 31)) { try PublicKey(bytes: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError.wrongLength(what: "signature", expected: 64, actual: 65)) { try Signature(bytes: [UInt8](repeating: 0, count: 65)) }
        #expect(throws: CryptoError.wrongLength(what: "secret seed", expected: 32, actual: 0)) { try SigningKey(seed: []) }
        #expect(throws: CryptoError.self) { try PublicKey(hex: "zz") }
    }

    @Test func signingKeyNeverPrintsItsSecret() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let text = "\(key) \(String(reflecting: key))"
        #expect(!text.contains(Hex.encode(key.seed)))
        #expect(text.contains(key.publicKey.hex))
    }
}

@Suite struct SignDomainTests {
    @Test func signBytesLayout() {
        let bytes = SignDomain.tx.signBytes(chainID: "c1", body: [0xAA, 0xBB])
        #expect(bytes == Array("trellis/v1/tx".utf8) + [0] + Array("c1".utf8) + [0, 0xAA, 0xBB])
    }

    @Test func signatureDoesNotCrossDomainsOrChains() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 1, count: 32))
        let body: [UInt8] = [1, 2, 3]
        let sig = key.sign(.prevote, chainID: "alpha", body: body)
        #expect(key.publicKey.verify(sig, domain: .prevote, chainID: "alpha", body: body))
        for other in SignDomain.allCases where other != .prevote {
            #expect(!key.publicKey.verify(sig, domain: other, chainID: "alpha", body: body), "\(other)")
        }
        #expect(!key.publicKey.verify(sig, domain: .prevote, chainID: "beta", body: body))
        #expect(!key.publicKey.verify(sig, domain: .prevote, chainID: "alpha", body: [1, 2, 4]))
    }
}
