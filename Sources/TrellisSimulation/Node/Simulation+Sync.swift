// Simulation+Sync.swift — block sync: how a node that fell behind (crash, partition, lost precommits) catches up.
//
// Each node periodically re-sends its current height's consensus messages (gossip) and announces its committed
// height; a peer that is ahead answers with up to
// `maxBlocksPerReply` blocks and their certificates. The receiver verifies each certificate (signatures,
// membership, quorum) against its own validator set for that height, commits through the application (which
// validates the block), and restarts consensus at the next height. Byzantine peers may withhold; honest ones serve.
import TrellisConsensus
import TrellisLedger

extension Simulation {
    static let maxBlocksPerReply: UInt64 = 8

    mutating func syncTick(_ i: Int) {
        guard nodes[i].isUp else { return }
        let height = nodes[i].app.committedHeight
        for j in nodes.indices where j != i { send(.status(committedHeight: height), from: i, to: j) }
        // Gossip: re-send this height's messages so that losses before the heal are repaired.
        if nodes[i].isHonest || nodes[i].byzantine?.contains(.withholdVotes) != true {
            let gossip = nodes[i].consensus?.messagesToGossip() ?? []
            for j in nodes.indices where j != i {
                for message in gossip { send(.consensus(message), from: i, to: j) }
            }
        }
        if nodes[i].byzantine?.contains(.replayOld) == true, !nodes[i].replayBuffer.isEmpty {
            for _ in 0..<3 {
                let message = random.pick(nodes[i].replayBuffer)
                var target = random.int(in: 0...(nodes.count - 1))
                if target == i { target = (target + 1) % nodes.count }
                trace("n\(i) replays \(summary(message)) to n\(target)")
                send(.consensus(message), from: i, to: target)
            }
        }
    }

    mutating func serveSync(to j: Int, theirHeight: UInt64, from i: Int) {
        guard nodes[i].isUp, nodes[i].byzantine?.contains(.withholdVotes) != true else { return }
        let mine = nodes[i].app.committedHeight
        guard mine > theirHeight else { return }
        let last = min(mine, theirHeight + Self.maxBlocksPerReply)
        let blocks = ((theirHeight + 1)...last).compactMap { h in
            nodes[i].app.committedBlock(at: h).map { SyncedBlock(block: $0.block, certificate: $0.certificate) }
        }
        send(.blocks(blocks), from: i, to: j)
    }

    mutating func applySync(_ blocks: [SyncedBlock], at i: Int, from j: Int) {
        for synced in blocks {
            let h = synced.block.header.height
            guard nodes[i].isUp, h == nodes[i].app.committedHeight + 1 else { continue }
            do {
                let set = try nodes[i].app.validatorSet(forHeight: h)
                try synced.certificate.verify(chainID: chainID, validatorSet: set, height: h, blockID: synced.block.hash)
            } catch {
                trace("n\(i) rejects synced block h=\(h) from n\(j): \(error)")
                return
            }
            commitBlock(synced.block, certificate: synced.certificate, node: i, source: "block sync from n\(j)")
        }
    }
}
