// PeerMessageScreen.swift — what the node checks about a decoded peer message before acting on it (pure).
//
// A consensus message is for a height at most one above the sender's committed height, and every node broadcasts
// its committed height twice a second (`status`). So a message for a height more than `maxHeightsAhead` above both
// this node's committed height and the height the sender itself last reported cannot come from an honest node: the
// sender is disconnected. A node that is far behind still hears honest peers far ahead (their reported heights
// vouch for their messages); while a sender has not reported a height yet, such a message is only dropped (the
// consensus state machine would drop it too), never held against it.

import TrellisCrypto

/// Verdict on one message from a peer.
public enum PeerMessageVerdict: Sendable, Equatable {
    case deliver
    /// Not useful now, and not proof of misbehaviour.
    case drop
    case disconnect(PeerMisbehaviour)
}

/// The last height each peer reported, and the check of consensus messages against it.
public struct PeerMessageScreen: Sendable {
    /// How far above every height it could know a consensus message may be (`p2p.max_consensus_heights_ahead`).
    public let maxHeightsAhead: UInt64
    /// Most peers whose reported heights are remembered (peers are member keys; this only bounds memory).
    static let maxRememberedPeers = 4_096
    private var reportedHeights: [PublicKey: UInt64] = [:]

    public init(maxHeightsAhead: UInt64) {
        self.maxHeightsAhead = maxHeightsAhead
    }

    /// Checks `message` from `peer` while this node has committed `ourHeight`; remembers reported heights.
    public mutating func check(_ message: PeerMessage, from peer: PublicKey, ourHeight: UInt64) -> PeerMessageVerdict {
        switch message {
        case .status(let height):
            if reportedHeights[peer] == nil && reportedHeights.count >= Self.maxRememberedPeers { reportedHeights.removeAll() }
            reportedHeights[peer] = height
            return .deliver
        case .consensus(let consensus):
            let height = consensus.height
            guard height > ourHeight, height - ourHeight > maxHeightsAhead else { return .deliver }
            guard let reported = reportedHeights[peer] else { return .drop }
            guard height > reported, height - reported > maxHeightsAhead else { return .deliver }
            return .disconnect(.farFutureConsensus(height: height, ourHeight: ourHeight, peerHeight: reported, maxHeightsAhead: maxHeightsAhead))
        case .transactions, .blockRequest, .blockResponse, .evidence:
            return .deliver
        }
    }

    /// A height that more than a third of the remembered peers reported reaching (for the sync-lag metric), so a
    /// few peers reporting absurd heights cannot move it; nil before any report.
    public var reportedHeightOfAThird: UInt64? {
        guard !reportedHeights.isEmpty else { return nil }
        let descending = reportedHeights.values.sorted(by: >)
        return descending[descending.count / 3]
    }

    /// Forgets a peer (it disconnected).
    public mutating func forget(_ peer: PublicKey) {
        reportedHeights[peer] = nil
    }
}
