// HandshakeTests.swift — the peer handshake as a pure state machine: both sides establish mirrored encrypted
// sessions, and every misconfiguration or forgery is refused with the error that names it.
import Testing
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

private let genesis = SHA256.hash(Array("genesis".utf8))

private func identity(_ key: SigningKey, chain: String = "test-chain", genesisHash: Hash = genesis, allowed: [PublicKey]? = nil) -> HandshakeIdentity {
    let allowedSet = allowed.map(Set.init)
    return HandshakeIdentity(chainID: chain, genesisHash: genesisHash, nodeKey: key, isAllowed: { allowedSet?.contains($0) ?? true })
}

/// Runs a handshake between two state machines, delivering frames in order. Returns both sessions or the first error.
private func run(_ a: Handshake, _ b: Handshake, tamper: ((Int, inout [UInt8]) -> Void)? = nil) -> (PeerSession?, PeerSession?, HandshakeError?) {
    var toB = a.start(), toA: [[UInt8]] = []
    var sa: PeerSession?, sb: PeerSession?
    var frameIndex = 0
    do {
        for _ in 0..<10 {
            for var f in toB {
                tamper?(frameIndex, &f); frameIndex += 1
                let r = try b.receive(f); toA += r.send; if let s = r.session { sb = s }
            }
            toB = []
            for var f in toA {
                tamper?(frameIndex, &f); frameIndex += 1
                let r = try a.receive(f); toB += r.send; if let s = r.session { sa = s }
            }
            toA = []
            if toB.isEmpty && toA.isEmpty { break }
        }
    } catch {
        return (sa, sb, error)
    }
    return (sa, sb, nil)
}

@Suite struct HandshakeTests {
    let alice = SigningKey.generate(), bob = SigningKey.generate()

    @Test func establishesMirroredSessions() throws {
        let a = Handshake(role: .initiator, identity: identity(alice)), b = Handshake(role: .acceptor, identity: identity(bob))
        let (sa, sb, error) = run(a, b)
        #expect(error == nil)
        let sessionA = try #require(sa), sessionB = try #require(sb)
        #expect(sessionA.peerKey == bob.publicKey)
        #expect(sessionB.peerKey == alice.publicKey)
        #expect(sessionA.initiatedLocally && !sessionB.initiatedLocally)
        #expect(try sessionB.open(sessionA.seal([1, 2, 3])) == [1, 2, 3])
        #expect(try sessionA.open(sessionB.seal([4])) == [4])
    }

    @Test func unknownPeerIsRefused() {
        let stranger = SigningKey.generate()
        let a = Handshake(role: .initiator, identity: identity(stranger))
        let b = Handshake(role: .acceptor, identity: identity(bob, allowed: [alice.publicKey]))
        #expect(run(a, b).2 == .peerNotAllowed(stranger.publicKey))
    }

    @Test func otherChainOrGenesisIsRefusedNamingBoth() {
        let other = SHA256.hash([9])
        let a1 = Handshake(role: .initiator, identity: identity(alice, genesisHash: other))
        #expect(run(a1, Handshake(role: .acceptor, identity: identity(bob))).2 == .genesisMismatch(ours: genesis, theirs: other))
        #expect(HandshakeError.genesisMismatch(ours: genesis, theirs: other).description.contains(other.hex))
        let a2 = Handshake(role: .initiator, identity: identity(alice, chain: "other-chain"))
        #expect(run(a2, Handshake(role: .acceptor, identity: identity(bob))).2 == .chainMismatch(ours: "test-chain", theirs: "other-chain"))
    }

    @Test func connectingToSelfIsRefused() {
        let a = Handshake(role: .initiator, identity: identity(alice)), b = Handshake(role: .acceptor, identity: identity(alice))
        #expect(run(a, b).2 == .connectedToSelf)
    }

    @Test func aTamperedFrameFailsTheHandshake() {
        // Frame 0 = initiator hello, 1 = acceptor hello, 2 = acceptor header, 3 = acceptor auth, …
        for index in 0..<6 {
            let a = Handshake(role: .initiator, identity: identity(alice)), b = Handshake(role: .acceptor, identity: identity(bob))
            let (sa, sb, error) = run(a, b) { i, frame in if i == index && !frame.isEmpty { frame[frame.count - 1] ^= 1 } }
            #expect(error != nil || sa == nil || sb == nil, "tampering frame \(index) went unnoticed")
        }
    }

    @Test func anImpostorCannotClaimAnotherKey() {
        // Mallory presents Alice's public key in her hello but cannot sign for it.
        final class Impostor {
            static func run(bob: SigningKey, alice: PublicKey) -> HandshakeError? {
                let mallory = SigningKey.generate()
                let eph = EphemeralKeyPair()
                let hello = HandshakeHello(version: p2pProtocolVersion, chainID: "test-chain", genesisHash: genesis, nodeKey: alice, ephemeralKey: eph.publicKey)
                let b = Handshake(role: .acceptor, identity: identity(bob))
                do {
                    let reply = try b.receive(hello.canonicalBytes).send
                    let serverHello = try HandshakeHello.decodeForTest(reply[0])
                    let keys = try eph.clientSessionKeys(serverPublicKey: serverHello.ephemeralKey)
                    let sender = try SecretStreamSender(key: keys.transmit)
                    _ = try b.receive(sender.header)
                    _ = try b.receive(sender.seal(mallory.sign(Array("anything".utf8)).bytes))
                    return nil
                } catch let e as HandshakeError { return e } catch { return .malformed("\(error)") }
            }
        }
        #expect(Impostor.run(bob: bob, alice: alice.publicKey) == .badSignature(alice.publicKey))
    }

    @Test func garbageHelloIsMalformed() {
        let b = Handshake(role: .acceptor, identity: identity(bob))
        #expect(throws: HandshakeError.self) { _ = try b.receive([1, 2, 3]) }
        #expect(throws: HandshakeError.unexpectedFrame(state: "failed")) { _ = try b.receive([1, 2, 3]) }
    }
}

extension HandshakeHello {
    static func decodeForTest(_ bytes: [UInt8]) throws -> HandshakeHello {
        try TrellisCodec.CanonicalDecoder.decode(HandshakeHello.self, from: bytes)
    }
}

import TrellisCodec
