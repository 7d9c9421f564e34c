// Replica+Sync.swift — block sync, one protocol for the node and the simulator.
//
// Every tick a replica broadcasts `status(committedHeight)`. A replica behind asks the peer for the next block
// (`blockRequest`, at most once per `syncRetryMilliseconds` per height) and commits the answer only after the
// certificate verified against its own validator set for that height; the ledger re-executes the block. It then
// starts the following height at once and asks for the next block. A certified block for a height already
// committed must equal the committed one, or the replica halts (divergence).
import TrellisCrypto
import TrellisLedger

extension Replica {
    /// A sync message from `peer`.
    public mutating func receiveSync(_ message: SyncMessage, from peer: Host.Peer) {
        guard started, haltReason == nil else { return }
        switch message {
        case .status(let height):
            highestPeerHeight = max(highestPeerHeight, height)
            requestNextBlockIfBehind(from: peer, peerHeight: height)
        case .blockRequest(let height):
            if let (block, certificate) = application.committedBlock(at: height) {
                host.send(.blockResponse(block: block, certificate: certificate), to: peer)
            }
        case .blockResponse(let block, let certificate):
            applySynced(block, certificate: certificate, from: peer)
        case .evidence(let pairs):
            receiveEvidence(pairs, from: peer)
        }
    }

    mutating func requestNextBlockIfBehind(from peer: Host.Peer, peerHeight: UInt64) {
        let next = application.committedHeight + 1
        guard peerHeight >= next else { return }
        let now = host.monotonicMilliseconds
        if let last = lastSyncRequest, last.height == next, now &- last.atMilliseconds < settings.syncRetryMilliseconds { return }
        lastSyncRequest = (next, now)
        host.send(.blockRequest(height: next), to: peer)
    }

    mutating func applySynced(_ block: Block, certificate: CommitCertificate, from peer: Host.Peer) {
        let h = block.header.height
        let committed = application.committedHeight
        guard h <= committed + 1, h >= 1 else { return }
        if h <= committed, application.committedBlock(at: h)?.block.hash == block.hash { return }  // a late duplicate
        do {
            let set = try application.validatorSet(forHeight: h)
            try certificate.verify(chainID: machine.config.chainID, validatorSet: set, height: h, blockID: block.hash)
        } catch {
            host.replicaReported(.syncBlockRefused(height: h, reason: "\(error)"))
            return
        }
        // A certified block at a committed height that differs from ours: `commit` halts naming both hashes.
        guard commit(block, certificate: certificate, source: .sync) else { return }
        startHeightIfStill(h + 1, waited: true)
        requestNextBlockIfBehind(from: peer, peerHeight: highestPeerHeight)
    }
}
