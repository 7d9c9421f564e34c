// CodecTests.swift — fixed byte vectors and round trips of the consensus formats (DESIGN.md §3).
import Testing
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Consensus encodings")
struct CodecTests {
    func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    @Test("ProposalBody has a fixed byte encoding")
    func proposalBodyVector() throws {
        let body = ProposalBody(height: 7, round: 2, polRound: 1, blockID: try #require(Hash(bytes: [UInt8](repeating: 0xAB, count: 32))),
                                proposer: try PublicKey(bytes: [UInt8](repeating: 0x11, count: 32)))
        let expected = "0000000000000007" + "00000002" + "01" + "00000001" + String(repeating: "ab", count: 32) + String(repeating: "11", count: 32)
        #expect(hex(body.canonicalBytes) == expected)
        let noPol = ProposalBody(height: 1, round: 0, polRound: nil, blockID: .zero, proposer: body.proposer)
        #expect(hex(noPol.canonicalBytes) == "0000000000000001" + "00000000" + "00" + String(repeating: "00", count: 32) + String(repeating: "11", count: 32))
        // Sign bytes: "trellis/v1/proposal" 0x00 chain 0x00 body.
        let signBytes = body.signBytes(chainID: "c")
        #expect(hex(Array(signBytes.prefix(22))) == hex(Array("trellis/v1/proposal".utf8)) + "00" + "63" + "00")
        #expect(Array(signBytes.dropFirst(22)) == body.canonicalBytes)
    }

    @Test("A polRound not below the round is rejected by the decoder")
    func polRoundBound() throws {
        let body = ProposalBody(height: 1, round: 2, polRound: 2, blockID: .zero, proposer: try PublicKey(bytes: [UInt8](repeating: 1, count: 32)))
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(ProposalBody.self, from: body.canonicalBytes) }
    }

    @Test("Proposal, messages, events and timeouts round-trip; the proposal signature verifies and binds the block")
    func roundTrips() throws {
        let t = try Harness()
        let block = t.block(height: 3)
        let proposal = t.proposal(height: 3, round: 1, polRound: 0, block: block)
        #expect(proposal.verify(chainID: t.chainID))
        #expect(!proposal.verify(chainID: "other-chain"))
        var tampered = proposal
        tampered.block = t.block(height: 3, variant: 5)
        #expect(!tampered.verify(chainID: t.chainID))
        #expect(try CanonicalDecoder.decode(Proposal.self, from: proposal.canonicalBytes) == proposal)
        let vote = t.vote(.precommit, height: 3, round: 1, block.hash, by: 2)
        for message in [ConsensusMessage.proposal(proposal), .vote(vote)] {
            #expect(try CanonicalDecoder.decode(ConsensusMessage.self, from: message.canonicalBytes) == message)
        }
        let events: [Event] = [.startHeight(height: 3, validatorSet: t.set), .proposalReceived(proposal), .voteReceived(vote),
                               .timeoutFired(Timeout(height: 3, round: 1, step: .prevote)), .blockValidated(blockID: block.hash, valid: false),
                               .proposalBlockBuilt(height: 3, round: 1, block: block)]
        for event in events {
            #expect(try CanonicalDecoder.decode(Event.self, from: event.canonicalBytes, limits: DecodingLimits(maxBytesLength: 1 << 20)) == event)
        }
        #expect(hex(Timeout(height: 9, round: 3, step: .precommit).canonicalBytes) == "0000000000000009" + "00000003" + "03")
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(ConsensusMessage.self, from: [9]) }
    }
}
