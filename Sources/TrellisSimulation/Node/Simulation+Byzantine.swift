// Simulation+Byzantine.swift — what a Byzantine validator does to its outgoing messages.
//
// Byzantine validators run the ordinary state machine (with its signing guard) and then lie on the way out, signing
// the conflicting messages here with their key:
// equivocating proposals, double votes split between two halves of the honest validators (all Byzantine nodes use
// the same split and the same pair of blocks, i.e. they collude), fresh proposals where a proof-of-lock should be
// re-proposed, withheld votes, nil votes and invalid proposals. Replays and floods
// are sent from the sync tick. With at most f of them, none of this may break an invariant.
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

extension Simulation {
    /// Honest validators of the second half of the split (odd rank among honest nodes).
    var groupB: Set<Int> { Set(honest.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)) }

    mutating func byzantineBroadcast(_ message: ConsensusMessage, from i: Int, behaviour: ByzantineBehaviour) {
        let key = nodes[i].key
        let others = nodes.indices.filter { $0 != i }
        switch message {
        case .proposal(let p):
            if behaviour.contains(.invalidProposals), random.chance(permille: 500) {
                var block = p.block
                block.header.stateRoot = SHA256.hash(Array("forged/\(random.next())".utf8))
                let body = ProposalBody(height: p.height, round: p.round, polRound: nil, blockID: block.hash, proposer: key.publicKey)
                let forged = Proposal.signed(body, block: block, chainID: chainID, key: key)
                trace("n\(i) (Byzantine) proposes an INVALID block \(short(block.hash)) h=\(p.height) r=\(p.round)")
                for j in others { send(.consensus(.proposal(forged)), from: i, to: j) }
                return
            }
            // Equivocate, and never honour a proof-of-lock: a re-proposal of validValue is replaced by fresh blocks.
            if behaviour.contains(.equivocateProposals),
               let alternative = try? nodes[i].app.makeBlock(BuildRequest(height: p.height, round: p.round, proposer: key.publicKey, evidence: []),
                                                             time: p.block.header.time, variant: random.next() | 1) {
                let body = ProposalBody(height: p.height, round: p.round, polRound: nil, blockID: alternative.hash, proposer: key.publicKey)
                let twin = Proposal.signed(body, block: alternative, chainID: chainID, key: key)
                twins[TwinKey(height: p.height, round: p.round)] = (p.body.blockID, alternative.hash)
                trace("n\(i) (Byzantine) EQUIVOCATES at h=\(p.height) r=\(p.round): \(short(p.body.blockID)) / \(short(alternative.hash))")
                let split = groupB
                for j in others { send(.consensus(.proposal(split.contains(j) ? twin : p)), from: i, to: j) }
                return
            }
            for j in others { send(.consensus(message), from: i, to: j) }
        case .vote(var v):
            if behaviour.contains(.voteNil) { v = nilVote(v, key: key) }
            var recipients = others
            if behaviour.contains(.withholdVotes) { recipients = recipients.filter { _ in !random.chance(permille: 700) } }
            guard behaviour.contains(.doubleVote) else {
                for j in recipients { send(.consensus(.vote(v)), from: i, to: j) }
                return
            }
            if config.evidenceWitness, let witness = honest.first {
                // The vote to everyone; a conflicting one for a block nobody proposed (never counted, so never relayed)
                // to the witness only.
                for j in recipients { send(.consensus(.vote(v)), from: i, to: j) }
                guard recipients.contains(witness) else { return }
                var phantom = v.body
                phantom.blockID = SHA256.hash(Array("witness-phantom/\(v.body.height)/\(v.body.round)/\(v.body.type)".utf8))
                trace("n\(i) (Byzantine) DOUBLE-VOTES \(v.body.type) h=\(v.body.height) r=\(v.body.round) to the witness n\(witness) only")
                send(.consensus(.vote(Vote.signed(phantom, chainID: chainID, key: key))), from: i, to: witness)
                return
            }
            let pair = twins[TwinKey(height: v.body.height, round: v.body.round)]
                ?? (v.body.blockID, v.body.blockID == nil ? SHA256.hash(Array("phantom/\(v.body.height)/\(v.body.round)".utf8)) : nil)
            var bodyA = v.body
            bodyA.blockID = pair.0
            var bodyB = v.body
            bodyB.blockID = pair.1
            let voteA = Vote.signed(bodyA, chainID: chainID, key: key)
            let voteB = Vote.signed(bodyB, chainID: chainID, key: key)
            trace("n\(i) (Byzantine) DOUBLE-VOTES \(v.body.type) h=\(v.body.height) r=\(v.body.round): \(pair.0.map(short) ?? "nil") / \(pair.1.map(short) ?? "nil")")
            let split = groupB
            for j in recipients { send(.consensus(.vote(split.contains(j) ? voteB : voteA)), from: i, to: j) }
        }
    }

    /// Distinct votes a flooding validator sends per sync tick to every other validator.
    static var floodVotesPerTick: Int { 16 }

    /// A flooding Byzantine validator's burst (ByzantineBehaviour.flood): distinct validly signed votes for later
    /// rounds (up to 200 ahead: within the window and beyond), for the next height, for earlier rounds, and conflicting
    /// ones at the running round over the blocks proposed there (which count up to the cap) and phantom ids.
    mutating func flood(from i: Int) {
        guard let machine = nodes[i].replica?.machine, machine.phase == .running else { return }
        let key = nodes[i].key
        let (height, round) = (machine.height, machine.round)
        let proposed: [Hash] = machine.messagesToGossip().compactMap { if case .proposal(let p) = $0 { return p.body.blockID } else { return nil } }
        var votes: [Vote] = []
        for _ in 0..<Self.floodVotesPerTick {
            let type: VoteType = random.chance(permille: 500) ? .prevote : .precommit
            let target: (height: UInt64, round: UInt32)
            switch random.below(4) {
            case 0: target = (height, round)
            case 1: target = (height, round + UInt32(random.int(in: 1...200)))
            case 2: target = (height + 1, UInt32(random.int(in: 0...8)))
            default: target = (height, UInt32(random.int(in: 0...Int(round))))
            }
            let blockID: Hash?
            switch random.below(3) {
            case 0: blockID = nil
            case 1 where !proposed.isEmpty: blockID = random.pick(proposed)
            default: blockID = SHA256.hash(Array("flood/\(random.next())".utf8))
            }
            let body = VoteBody(type: type, height: target.height, round: target.round, blockID: blockID, validator: key.publicKey)
            votes.append(Vote.signed(body, chainID: chainID, key: key))
        }
        trace("n\(i) (Byzantine) FLOODS \(votes.count) votes around h=\(height) r=\(round)")
        for j in nodes.indices where j != i {
            for vote in votes { send(.consensus(.vote(vote)), from: i, to: j) }
        }
    }

    /// Votes per (round, type) a window-flooding validator sends: the cap of counted votes per validator.
    static var windowVotesPerRoundAndType: Int { VoteSet.maxVotesPerValidator }

    /// A window-flooding Byzantine validator's burst (ByzantineBehaviour.floodWindow): its proposals for its rounds of
    /// the window, ahead of time (signed once per round, re-sent every tick), then for every round of the window and both
    /// types 4 votes for blocks proposed at this height — the Byzantine validators' early ones (colluding: they share
    /// them) and the running round's — never the round's own block, so none is claimed: all countable, none redundant
    /// (the first takes the validator's slot in the vote set, the 3 others its cap). Ed25519 signatures are
    /// deterministic: the votes re-signed each tick are repeats a receiver drops before its WAL.
    mutating func floodWindow(from i: Int) {
        guard let machine = nodes[i].replica?.machine, machine.phase == .running,
              let set = try? nodes[i].app.validatorSet(forHeight: machine.height) else { return }
        let key = nodes[i].key
        let height = machine.height
        let window = machine.round...(machine.round + nodes[i].config.maxRoundsAhead)
        let schedule = ProposerSchedule(validatorSet: set)
        var messages: [ConsensusMessage] = []
        for r in window where schedule.proposer(height: height, round: r) == key.publicKey {
            let slot = TwinKey(height: height, round: r)
            if aheadProposals[slot] == nil {
                let request = BuildRequest(height: height, round: r, proposer: key.publicKey, evidence: [])
                guard let block = try? nodes[i].app.makeBlock(request, time: Int64(now / 1_000), variant: random.next() | 1) else { continue }
                let body = ProposalBody(height: height, round: r, polRound: nil, blockID: block.hash, proposer: key.publicKey)
                aheadProposals[slot] = Proposal.signed(body, block: block, chainID: chainID, key: key)
            }
            if let proposal = aheadProposals[slot] { messages.append(.proposal(proposal)) }
        }
        var proposed: [(round: UInt32, id: Hash)] = (0...window.upperBound).compactMap { r in
            aheadProposals[TwinKey(height: height, round: r)].map { (r, $0.body.blockID) }
        }
        for message in machine.messagesToGossip() {
            if case .proposal(let p) = message, !proposed.contains(where: { $0.id == p.body.blockID }) { proposed.append((p.round, p.body.blockID)) }
        }
        for r in window {
            let ids = proposed.filter { $0.round != r }.prefix(Self.windowVotesPerRoundAndType).map(\.id)
            for type in [VoteType.prevote, .precommit] {
                for id in ids {
                    messages.append(.vote(Vote.signed(VoteBody(type: type, height: height, round: r, blockID: id, validator: key.publicKey), chainID: chainID, key: key)))
                }
            }
        }
        trace("n\(i) (Byzantine) FLOODS THE WINDOW h=\(height) r=\(window.lowerBound)…\(window.upperBound): \(messages.count) messages")
        for j in nodes.indices where j != i {
            for message in messages { send(.consensus(message), from: i, to: j) }
        }
    }

    /// Padding bytes of a `floodProposals` block (four transactions just under the payload limit): large enough that
    /// holding, logging or validating one per window round shows, small enough for thousands of seeds.
    static var floodProposalBlockBytes: Int { 4 * 63 * 1024 }

    /// A proposal-flooding Byzantine validator's burst (ByzantineBehaviour.floodProposals): as proposer of a round of the
    /// running height up to the end of its window (past rounds included), or of rounds 0…maxRoundsAhead of the next
    /// height, its proposal for that round with a
    /// large block, signed once per (height, round) and re-sent every tick. The block is its application's block for the
    /// running height, moved to the target (height, round) and padded with transactions the header does not commit to:
    /// a well-formed, validly signed proposal whose block is invalid.
    mutating func floodProposals(from i: Int) {
        guard let machine = nodes[i].replica?.machine, machine.phase == .running,
              let set = try? nodes[i].app.validatorSet(forHeight: machine.height) else { return }
        let key = nodes[i].key
        let height = machine.height
        let window = nodes[i].config.maxRoundsAhead
        let schedule = ProposerSchedule(validatorSet: set)
        largeProposals = largeProposals.filter { $0.key.height >= height }  // earlier heights' are never sent again
        // Its rounds from 0 — past ones too: a proposal withheld through a stall and sent at a high round — and of the window.
        let targets = (0...(machine.round + window)).map { (height, $0) } + (0...window).map { (height + 1, $0) }
        var messages: [ConsensusMessage] = []
        for (h, r) in targets where schedule.proposer(height: h, round: r) == key.publicKey {
            let slot = TwinKey(height: h, round: r)
            if largeProposals[slot] == nil {
                let request = BuildRequest(height: height, round: machine.round, proposer: key.publicKey, evidence: [])
                guard var block = try? nodes[i].app.makeBlock(request, time: Int64(now / 1_000), variant: random.next() | 1) else { continue }
                block.header.height = h
                block.header.round = r
                let padding = Self.floodProposalBlockBytes / 4
                block.transactions = (0..<4).map { k in
                    Transaction(body: TransactionBody(chainID: chainID, kind: "sim.padding", payload: [UInt8](repeating: UInt8(truncatingIfNeeded: r), count: padding),
                                                      signer: "sim-flood", nonce: h &* 1_000 &+ UInt64(r) &* 8 &+ UInt64(k), expiresAtHeight: h + 100),
                                signatures: [])
                }
                let body = ProposalBody(height: h, round: r, polRound: nil, blockID: block.hash, proposer: key.publicKey)
                largeProposals[slot] = Proposal.signed(body, block: block, chainID: chainID, key: key)
            }
            if let proposal = largeProposals[slot] { messages.append(.proposal(proposal)) }
        }
        trace("n\(i) (Byzantine) FLOODS PROPOSALS h=\(height) r=\(machine.round)…\(machine.round + window) and h=\(height + 1): \(messages.count) large proposals")
        for j in nodes.indices where j != i {
            for message in messages { send(.consensus(message), from: i, to: j) }
        }
    }

    /// `vote` signed again for nil (itself when it is for nil already).
    func nilVote(_ vote: Vote, key: SigningKey) -> Vote {
        guard vote.body.blockID != nil else { return vote }
        var body = vote.body
        body.blockID = nil
        return Vote.signed(body, chainID: chainID, key: key)
    }

    /// What a Byzantine validator's gossip carries: with `voteNil`, its own votes turned to nil (its state machine
    /// counted the honest ones it signed).
    func byzantineGossip(_ messages: [ConsensusMessage], from i: Int, behaviour: ByzantineBehaviour) -> [ConsensusMessage] {
        guard behaviour.contains(.voteNil) else { return messages }
        let key = nodes[i].key
        return messages.map { message in
            guard case .vote(let v) = message, v.body.validator == key.publicKey else { return message }
            return .vote(nilVote(v, key: key))
        }
    }
}
