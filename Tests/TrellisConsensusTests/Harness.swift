// Harness.swift — builders for consensus unit tests: deterministic keys, a validator set, blocks, signed messages.
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

struct Harness {
    let chainID = "test-chain"
    let keys: [SigningKey]
    let set: ValidatorSet
    let config: ConsensusConfig

    init(powers: [UInt64] = [1, 1, 1, 1], faults: TestOnlyFaults = .none) throws {
        var keys: [SigningKey] = []
        for i in powers.indices { keys.append(try SigningKey(seed: [UInt8](repeating: UInt8(i + 1), count: 32))) }
        // Index keys in validator-set order so that `keys[i]` is validator i.
        let sorted = zip(keys, powers).sorted { $0.0.publicKey < $1.0.publicKey }
        self.keys = sorted.map(\.0)
        set = try ValidatorSet(sorted.map { Validator(publicKey: $0.0.publicKey, votingPower: $0.1, p2pAddress: "v") })
        config = ConsensusConfig(chainID: chainID, testOnlyFaults: faults)
    }

    var schedule: ProposerSchedule { ProposerSchedule(validatorSet: set) }

    func proposerIndex(height: UInt64, round: UInt32) -> Int {
        let key = schedule.proposer(height: height, round: round)
        return keys.firstIndex { $0.publicKey == key } ?? -1
    }

    /// A validator that is not the proposer of (height, round 0…rounds).
    func nonProposer(height: UInt64, rounds: ClosedRange<UInt32> = 0...0) -> Int {
        keys.indices.first { i in rounds.allSatisfy { proposerIndex(height: height, round: $0) != i } } ?? 0
    }

    func machine(_ i: Int, signingGuard: SigningGuard = SigningGuard(), config: ConsensusConfig? = nil) -> ConsensusState {
        ConsensusState(config: config ?? self.config, signingKey: keys[i], signingGuard: signingGuard)
    }

    func block(height: UInt64, variant: UInt8 = 0) -> Block {
        let h = Hash(bytes: [UInt8](repeating: variant, count: 32)) ?? .zero
        let header = BlockHeader(chainID: chainID, height: height, round: 0, time: 1_700_000_000, appVersion: AppVersion.initial, previousBlockHash: h,
                                 txCount: 0, txRoot: h, receiptsRoot: h, stateRoot: h, validatorSetHash: set.hash, nextValidatorSetHash: set.hash,
                                 proposer: keys[0].publicKey, lastCommitHash: .zero, evidenceHash: .zero)
        return Block(header: header, transactions: [], lastCommit: nil)
    }

    /// The block of `block(height:)`'s header that carries `evidence`: a block punishing those pairs.
    func block(height: UInt64, punishing evidence: [DuplicateVoteEvidence]) -> Block {
        Block(header: block(height: height).header, transactions: [], lastCommit: nil, evidence: evidence)
    }

    /// A commit certificate of `block` at round 0: every validator's precommit for it.
    func certificate(for block: Block) -> CommitCertificate {
        let height = block.header.height
        return CommitCertificate(height: height, round: 0, blockID: block.hash,
                                 precommits: keys.indices.map { vote(.precommit, height: height, round: 0, block.hash, by: $0) })
    }

    /// The first validator (in set order) that is none of `excluded`.
    func firstValidator(except excluded: Int...) -> Int {
        guard let i = keys.indices.first(where: { !excluded.contains($0) }) else { preconditionFailure("invalid state: no validator outside \(excluded)") }
        return i
    }

    func proposal(height: UInt64, round: UInt32, polRound: UInt32? = nil, block: Block, by i: Int? = nil) -> Proposal {
        let proposer = i ?? proposerIndex(height: height, round: round)
        let body = ProposalBody(height: height, round: round, polRound: polRound, blockID: block.hash, proposer: keys[proposer].publicKey)
        return Proposal.signed(body, block: block, chainID: chainID, key: keys[proposer])
    }

    func vote(_ type: VoteType, height: UInt64, round: UInt32, _ blockID: Hash?, by i: Int) -> Vote {
        Vote.signed(VoteBody(type: type, height: height, round: round, blockID: blockID, validator: keys[i].publicKey), chainID: chainID, key: keys[i])
    }

    /// Feeds several events, returning all effects.
    func feed(_ state: inout ConsensusState, _ events: [Event]) -> [Effect] {
        events.flatMap { state.handle($0) }
    }
}

extension [Effect] {
    var broadcastVotes: [Vote] {
        compactMap { if case .broadcast(.vote(let v)) = $0 { return v } else { return nil } }
    }

    var broadcastProposals: [Proposal] {
        compactMap { if case .broadcast(.proposal(let p)) = $0 { return p } else { return nil } }
    }

    var scheduledTimeouts: [Timeout] {
        compactMap { if case .scheduleTimeout(let t, _) = $0 { return t } else { return nil } }
    }

    var buildRequests: [BuildRequest] {
        compactMap { if case .buildProposalBlock(let r) = $0 { return r } else { return nil } }
    }

    var commits: [(Block, CommitCertificate)] {
        compactMap { if case .commit(let b, let c) = $0 { return (b, c) } else { return nil } }
    }

    var evidence: [DuplicateVoteEvidence] {
        compactMap { if case .recordEvidence(let e) = $0 { return e } else { return nil } }
    }
}
