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
