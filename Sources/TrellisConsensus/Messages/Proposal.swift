// Proposal.swift — the signed PROPOSAL message of Tendermint Algorithm 1: ⟨PROPOSAL, h, r, v, vr⟩.
//
// The signature covers SignDomain.proposal.signBytes(chain_id, canonical(ProposalBody)); the body names the block
// by its id (the header hash), and the header commits to the transactions, the last commit and the evidence, so a
// receiver that checks `block.hash == body.blockID` (and the application checks the header roots) knows the whole
// block is the one the proposer signed. `polRound` is the paper's `vr`: nil stands for −1.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// What a proposer signs: (height, round, polRound, block id, proposer).
public struct ProposalBody: Sendable, Hashable, CanonicalCodable {
    public var height: UInt64
    public var round: UInt32
    /// The round of the proof-of-lock this proposal carries (`vr`), or nil for −1.
    public var polRound: UInt32?
    public var blockID: Hash
    public var proposer: PublicKey

    public init(height: UInt64, round: UInt32, polRound: UInt32?, blockID: Hash, proposer: PublicKey) {
        self.height = height
        self.round = round
        self.polRound = polRound
        self.blockID = blockID
        self.proposer = proposer
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(round)
        encoder.encode(polRound)
        encoder.encode(blockID)
        encoder.encode(proposer)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        round = try decoder.decodeUInt32()
        polRound = try decoder.decodeOptional(UInt32.self)
        blockID = try decoder.decode(Hash.self)
        proposer = try decoder.decode(PublicKey.self)
        if let vr = polRound, vr >= round {
            throw .invalidValue(type: "ProposalBody", reason: "polRound \(vr) must be below the round \(round)")
        }
    }

    /// The exact bytes the proposer signs.
    public func signBytes(chainID: String) -> [UInt8] { SignDomain.proposal.signBytes(chainID: chainID, body: canonicalBytes) }
}

/// A signed proposal together with the proposed block.
public struct Proposal: Sendable, Hashable, CanonicalCodable {
    public var body: ProposalBody
    public var block: Block
    public var signature: Signature

    public init(body: ProposalBody, block: Block, signature: Signature) {
        self.body = body
        self.block = block
        self.signature = signature
    }

    /// Signs `body` with `key` (which must be the body's proposer) and attaches `block`.
    public static func signed(_ body: ProposalBody, block: Block, chainID: String, key: SigningKey) -> Proposal {
        precondition(body.proposer == key.publicKey, "proposal body names another proposer than the signing key")
        return Proposal(body: body, block: block, signature: key.sign(body.signBytes(chainID: chainID)))
    }

    public var height: UInt64 { body.height }
    public var round: UInt32 { body.round }

    /// True when the block is the one the body names and the proposer's signature verifies.
    public func verify(chainID: String) -> Bool {
        block.hash == body.blockID && body.proposer.verify(signature, message: body.signBytes(chainID: chainID))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(body)
        encoder.encode(block)
        encoder.encode(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        body = try decoder.decode(ProposalBody.self)
        block = try decoder.decode(Block.self)
        signature = try decoder.decode(Signature.self)
    }
}
