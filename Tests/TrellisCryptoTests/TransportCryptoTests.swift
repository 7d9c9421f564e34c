// TransportCryptoTests.swift — X25519 session keys mirror between client and server; the secret stream
// round-trips in order and rejects any tampering, reordering, replay or wrong key.
import Testing
@testable import TrellisCrypto

@Suite struct KeyExchangeTests {
    @Test func clientAndServerDeriveMirroredKeys() throws {
        let client = EphemeralKeyPair(), server = EphemeralKeyPair()
        let c = try client.clientSessionKeys(serverPublicKey: server.publicKey)
        let s = try server.serverSessionKeys(clientPublicKey: client.publicKey)
        #expect(c.transmit == s.receive)
        #expect(c.receive == s.transmit)
        #expect(c.transmit != c.receive)
        let other = EphemeralKeyPair()
        #expect(try other.serverSessionKeys(clientPublicKey: client.publicKey).receive != c.transmit)
    }

    @Test func seededPairsAreReproducibleAndLengthsChecked() throws {
        let a = try EphemeralKeyPair(seed: [UInt8](repeating: 3, count: 32))
        let b = try EphemeralKeyPair(seed: [UInt8](repeating: 3, count: 32))
        #expect(a.publicKey == b.publicKey)
        #expect(throws: KeyExchangeError.wrongLength(expected: 32, actual: 5)) { try EphemeralKeyPair(seed: [1, 2, 3, 4, 5]) }
        #expect(throws: KeyExchangeError.wrongLength(expected: 32, actual: 0)) { try a.clientSessionKeys(serverPublicKey: []) }
    }
}

@Suite struct SecretStreamTests {
    let key = [UInt8](repeating: 0x42, count: 32)

    @Test func roundTripInOrder() throws {
        let sender = try SecretStreamSender(key: key)
        let receiver = try SecretStreamReceiver(key: key, header: sender.header)
        for i in 0..<50 {
            let message = [UInt8](repeating: UInt8(i), count: i * 7)
            let sealed = sender.seal(message)
            #expect(sealed.count == message.count + 17)
            #expect(try receiver.open(sealed) == message)
        }
    }

    @Test func tamperingReorderingAndReplayAreRejected() throws {
        let sender = try SecretStreamSender(key: key)
        let first = sender.seal([1, 2, 3]), second = sender.seal([4, 5, 6])

        let flipped = try SecretStreamReceiver(key: key, header: sender.header)
        var bad = first
        bad[5] ^= 1
        #expect(throws: SecretStreamError.authenticationFailed) { try flipped.open(bad) }

        let reordered = try SecretStreamReceiver(key: key, header: sender.header)
        #expect(throws: SecretStreamError.authenticationFailed) { try reordered.open(second) }

        let replayed = try SecretStreamReceiver(key: key, header: sender.header)
        #expect(try replayed.open(first) == [1, 2, 3])
        #expect(throws: SecretStreamError.authenticationFailed) { try replayed.open(first) }

        let wrongKey = try SecretStreamReceiver(key: [UInt8](repeating: 0x43, count: 32), header: sender.header)
        #expect(throws: SecretStreamError.authenticationFailed) { try wrongKey.open(first) }

        let short = try SecretStreamReceiver(key: key, header: sender.header)
        #expect(throws: SecretStreamError.ciphertextTooShort(3)) { try short.open([1, 2, 3]) }
    }

    /// A sender given its header (reproducible fuzz seeds only) seals the same bytes every time, and a receiver built
    /// from that header opens them as it opens a random-header sender's stream.
    @Test func aSenderWithAGivenHeaderIsReproducibleAndOpensLikeAnyOther() throws {
        let header = [UInt8](repeating: 0x07, count: SecretStreamSender.headerByteCount)
        let one = try SecretStreamSender(key: key, header: header), two = try SecretStreamSender(key: key, header: header)
        #expect(one.header == header && two.header == header)
        let messages: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 9, count: 100)]
        let sealed = messages.map { one.seal($0) }
        #expect(sealed == messages.map { two.seal($0) }, "the same header, key and messages give the same bytes")
        let receiver = try SecretStreamReceiver(key: key, header: header)
        for (message, frame) in zip(messages, sealed) { #expect(try receiver.open(frame) == message) }
        // Another header is another stream: its frames do not open under the first header.
        let other = try SecretStreamSender(key: key, header: [UInt8](repeating: 0x08, count: SecretStreamSender.headerByteCount))
        #expect(throws: SecretStreamError.authenticationFailed) { try SecretStreamReceiver(key: key, header: header).open(other.seal([1, 2, 3])) }
        #expect(throws: SecretStreamError.wrongHeaderLength(23)) { _ = try SecretStreamSender(key: key, header: [UInt8](repeating: 0, count: 23)) }
        #expect(throws: SecretStreamError.wrongKeyLength(31)) { _ = try SecretStreamSender(key: [UInt8](repeating: 0, count: 31), header: header) }
    }

    @Test func badKeysAndHeadersAreTypedErrors() {
        #expect(throws: SecretStreamError.wrongKeyLength(31)) { _ = try SecretStreamSender(key: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: SecretStreamError.wrongHeaderLength(23)) { _ = try SecretStreamReceiver(key: [UInt8](repeating: 0, count: 32), header: [UInt8](repeating: 0, count: 23)) }
    }
}
