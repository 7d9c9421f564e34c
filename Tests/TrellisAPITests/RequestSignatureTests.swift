// RequestSignatureTests.swift — the request-signing scheme byte for byte: the worked example of docs/ACCESS.md is
// recomputed here (a change to the scheme or to the doc fails this test), and credentials parse strictly.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger

@Suite struct RequestSignatureTests {
    /// The worked example of docs/ACCESS.md.
    static let exampleKey = try! SigningKey(seed: (1...32).map { UInt8($0) })
    static let example = APIRequestSignature.Components(member: "supplier1", method: "GET", target: "/v1/query/holdings?member=supplier1", body: [],
                                                        timestamp: 1_764_892_800, nonce: "0123456789abcdef0123456789abcdef")
    static let exampleChain = "trellis-example-1"

    static func accessDoc() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("docs/ACCESS.md"), encoding: .utf8)
    }

    @Test func theWorkedExampleInTheDocsIsWhatTheCodeSigns() throws {
        let doc = try Self.accessDoc()
        let signBytes = Self.example.signBytes(chainID: Self.exampleChain)
        let signature = Self.exampleKey.sign(signBytes)
        // The doc prints the sign bytes as hex in lines of 64 digits, the public key and the signature whole.
        let hex = Hex.encode(signBytes)
        let lines = stride(from: 0, to: hex.count, by: 64).map { String(hex.dropFirst($0).prefix(64)) }
        #expect(doc.contains(lines.joined(separator: "\n")), "docs/ACCESS.md lacks the sign bytes:\n\(lines.joined(separator: "\n"))")
        #expect(doc.contains(Self.exampleKey.publicKey.hex), "docs/ACCESS.md lacks the public key \(Self.exampleKey.publicKey.hex)")
        #expect(doc.contains(signature.hex), "docs/ACCESS.md lacks the signature \(signature.hex)")
        #expect(doc.contains(SHA256.hash([]).hex), "docs/ACCESS.md lacks the empty body's SHA-256")
        #expect(Self.exampleKey.publicKey.verify(signature, message: signBytes))
    }

    @Test func everyCoveredComponentChangesTheSignBytes() {
        let base = Self.example.signBytes(chainID: Self.exampleChain)
        var variants: [APIRequestSignature.Components] = []
        for change in 0..<7 {
            var c = Self.example
            switch change {
            case 0: c.member = "supplier2"
            case 1: c.method = "POST"
            case 2: c.path = "/v1/query/holding"
            case 3: c.query = "member=supplier2"
            case 4: c.bodySHA256 = SHA256.hash([0])
            case 5: c.timestamp += 1
            default: c.nonce = "0123456789abcdef0123456789abcdee"
            }
            variants.append(c)
        }
        for v in variants { #expect(v.signBytes(chainID: Self.exampleChain) != base, "\(v) signs the same bytes") }
        #expect(Self.example.signBytes(chainID: "other-chain") != base)
        // Path and query are length-prefixed: moving a character between them changes the bytes.
        var shifted = Self.example
        shifted.path = "/v1/query/holdings?"
        shifted.query = "member=supplier1"
        #expect(shifted.signBytes(chainID: Self.exampleChain) != base)
    }

    @Test func credentialsParseStrictly() throws {
        let signature = String(repeating: "ab", count: 64)
        let ok = try APIRequestSignature.parse(member: "supplier1", timestamp: "1764892800", nonce: "0123456789abcdef", signature: signature)
        #expect(ok?.member == "supplier1" && ok?.timestamp == 1_764_892_800)
        #expect(try APIRequestSignature.parse(member: nil, timestamp: nil, nonce: nil, signature: nil) == nil)
        #expect(try APIRequestSignature.parse(member: "@operator", timestamp: "1", nonce: "0123456789abcdef", signature: signature)?.member == "@operator")

        func refused(_ m: String?, _ t: String?, _ n: String?, _ s: String?) -> APIRequestSignature.CredentialError? {
            do { _ = try APIRequestSignature.parse(member: m, timestamp: t, nonce: n, signature: s); return nil } catch { return error }
        }
        #expect(refused("supplier1", nil, "0123456789abcdef", signature) == .incomplete(missing: ["Trellis-Timestamp"]))
        let malformed: [(String, String, String, String, String)] = [
            ("supplier 1", "1", "0123456789abcdef", signature, "Trellis-Member"),
            ("@admin", "1", "0123456789abcdef", signature, "Trellis-Member"),
            (String(repeating: "a", count: 129), "1", "0123456789abcdef", signature, "Trellis-Member"),
            ("s", "+1", "0123456789abcdef", signature, "Trellis-Timestamp"),
            ("s", "1.5", "0123456789abcdef", signature, "Trellis-Timestamp"),
            ("s", String(repeating: "1", count: 21), "0123456789abcdef", signature, "Trellis-Timestamp"),
            ("s", "1", "short", signature, "Trellis-Nonce"),
            ("s", "1", String(repeating: "a", count: 65), signature, "Trellis-Nonce"),
            ("s", "1", "0123456789abcdef!", signature, "Trellis-Nonce"),
            ("s", "1", "0123456789abcdef", String(signature.dropLast()), "Trellis-Signature"),
            ("s", "1", "0123456789abcdef", String(repeating: "zz", count: 64), "Trellis-Signature"),
            ("s", "1", "0123456789abcdef", String(repeating: "ab", count: 5_000), "Trellis-Signature"),
        ]
        for (m, t, n, s, header) in malformed {
            guard case .malformed(let named, _)? = refused(m, t, n, s) else { Issue.record("accepted \(m) \(t) \(n) \(s.prefix(20))"); continue }
            #expect(named == header)
        }
    }

    @Test func theNonceWindowRefusesReplaysAndStaysBounded() {
        var window = NonceWindowProbe(capacity: 3, skew: 10)
        #expect(window.admit("a", "n1", at: 100, now: 100) == "admitted")
        #expect(window.admit("a", "n1", at: 100, now: 105) == "replayed")
        #expect(window.admit("b", "n1", at: 100, now: 105) == "admitted", "nonces are per member")
        #expect(window.admit("a", "n2", at: 100, now: 105) == "admitted")
        #expect(window.admit("a", "n3", at: 100, now: 105) == "full")
        // Once the first entries' timestamps leave the window they are forgotten and room returns.
        #expect(window.admit("a", "n3", at: 115, now: 111) == "admitted")
        #expect(window.count <= 3)
    }
}

/// Drives `NonceWindow` (TrellisAPI) with strings for compact expectations.
struct NonceWindowProbe {
    var window: NonceWindow
    init(capacity: Int, skew: Int64) { window = NonceWindow(capacity: capacity, perMemberCapacity: capacity, skewSeconds: skew) }
    var count: Int { window.count }
    mutating func admit(_ member: String, _ nonce: String, at timestamp: Int64, now: Int64) -> String {
        switch window.admit(member: member, nonce: nonce, timestamp: timestamp, now: now) {
        case .admitted: return "admitted"
        case .replayed: return "replayed"
        case .full: return "full"
        case .memberFull: return "member full"
        }
    }
}

import TrellisAPI
