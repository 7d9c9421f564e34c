// PeerIntake.swift — the peer messages waiting for the consensus queue: bounded for the whole node in messages and in
// bytes, shared fairly between the peers that send them, handed over round-robin.
//
// Fault model: every authenticated peer may send, within its own rate limits (P2PLimits: 10,000 messages/s, 32 MiB/s,
// a 96 MiB burst), messages the consensus queue will only find redundant once it handles them — repeats of one
// 64 MiB proposal, proposals beyond the proposal reach, votes it has — and the queue does not drain while a block
// validates. Bounded per peer only, n peers could make a node hold n × their burst (GBs: out of memory, the chain
// stopped), and one peer could fill every slot and crowd out the others' votes (REVIEW-17-node RISK 3). So:
// - the intake holds at most `maxMessages` messages and `maxBytes` bytes (each message counted at its encoded size,
//   the frame it came in) for all peers together;
// - when a new message does not fit, room is made only at the expense of the peer holding the most (messages or
//   bytes, whichever is short) and only while that peer holds more than the sender would with the message: it
//   loses its newest messages (as if they had been refused on arrival). A message is refused (drop-newest) when its
//   sender would hold at least as much as every other peer — so each of k peers with messages waiting keeps at least
//   about a k-th of either bound whatever the others send (max-min fair), and a peer sending votes (a few hundred
//   bytes each) is never crowded out by peers sending proposals, nor a proposal by a peer's flood of votes;
// - the consensus queue takes one message at a time, one peer after the other (round-robin over the peers with
//   messages waiting; each peer's in arrival order), so a peer's backlog delays the others by one message per turn.
// What is dropped is re-obtained: a stalled height's proposals and votes are re-gossiped by every node holding them
// (every `gossipEveryTicks`, votes every tick past round 0), a block request is retried after `sync_retry`, status
// comes every tick. A drop costs latency, never safety.
import NIOCore

/// Fair, bounded per-peer queues (pure bookkeeping; `ConsensusRunner` owns one behind a lock).
struct PeerIntake<Peer: Hashable, Element> {
    /// What `enqueue` did.
    struct Admission: Equatable {
        /// Whether the new message was queued.
        var queued: Bool
        /// Messages of other peers dropped to make room for it.
        var evicted: Int
    }

    fileprivate struct Lane {
        var items = CircularBuffer<(element: Element, bytes: Int)>()
        var bytes = 0
    }

    /// Messages held at most, all peers together.
    let maxMessages: Int
    /// Bytes held at most, all peers together (≥ the largest message, or that message could never be queued).
    let maxBytes: Int
    private var lanes: [Peer: Lane] = [:]
    /// The peers with messages waiting, in the order they are served.
    private var ring: [Peer] = []
    /// The index in `ring` of the peer served next.
    private var nextIndex = 0
    private(set) var messages = 0
    private(set) var bytes = 0

    init(maxMessages: Int, maxBytes: Int) {
        precondition(maxMessages > 0, "an intake that holds no message")
        precondition(maxBytes > 0, "an intake that holds no byte")
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
    }

    var isEmpty: Bool { messages == 0 }

    /// Messages and bytes `peer` has waiting.
    func held(by peer: Peer) -> (messages: Int, bytes: Int) {
        guard let lane = lanes[peer] else { return (0, 0) }
        return (lane.items.count, lane.bytes)
    }

    /// Queues `element` (`bytes` long, as received) from `peer`, making room at the expense of the peer holding the
    /// most when the intake is full (see the header), or refuses it.
    mutating func enqueue(_ element: Element, bytes size: Int, from peer: Peer) -> Admission {
        precondition(size >= 0, "a message of \(size) bytes")
        var evicted = 0
        guard size <= maxBytes else { return Admission(queued: false, evicted: 0) }
        let own = held(by: peer)
        while messages + 1 > maxMessages {
            guard let largest = largestHolder(other: peer, by: { $0.items.count }), lanes[largest]!.items.count > own.messages + 1 else {
                return Admission(queued: false, evicted: evicted)
            }
            dropNewest(of: largest)
            evicted += 1
        }
        while bytes + size > maxBytes {
            guard let largest = largestHolder(other: peer, by: { $0.bytes }), lanes[largest]!.bytes > own.bytes + size else {
                return Admission(queued: false, evicted: evicted)
            }
            dropNewest(of: largest)
            evicted += 1
        }
        if lanes[peer] == nil {
            lanes[peer] = Lane()
            ring.append(peer)
        }
        lanes[peer]!.items.append((element, size))
        lanes[peer]!.bytes += size
        messages += 1
        bytes += size
        return Admission(queued: true, evicted: evicted)
    }

    /// The next message to handle: the oldest of the next peer in turn.
    mutating func dequeue() -> (element: Element, peer: Peer)? {
        guard !ring.isEmpty else { return nil }
        if nextIndex >= ring.count { nextIndex = 0 }
        let peer = ring[nextIndex]
        let item = lanes[peer]!.items.removeFirst()
        lanes[peer]!.bytes -= item.bytes
        messages -= 1
        bytes -= item.bytes
        if lanes[peer]!.items.isEmpty {
            removeLane(at: nextIndex)  // the next peer moves into this index
        } else {
            nextIndex += 1
        }
        return (item.element, peer)
    }

    /// The peer other than `peer` holding the most by `measure` (nil when no other peer holds anything).
    private func largestHolder(other peer: Peer, by measure: (Lane) -> Int) -> Peer? {
        var best: (peer: Peer, amount: Int)?
        for candidate in ring where candidate != peer {
            let amount = measure(lanes[candidate]!)
            if best == nil || amount > best!.amount { best = (candidate, amount) }
        }
        return best?.peer
    }

    private mutating func dropNewest(of peer: Peer) {
        let item = lanes[peer]!.items.removeLast()
        lanes[peer]!.bytes -= item.bytes
        messages -= 1
        bytes -= item.bytes
        if lanes[peer]!.items.isEmpty, let index = ring.firstIndex(of: peer) { removeLane(at: index) }
    }

    private mutating func removeLane(at index: Int) {
        lanes[ring[index]] = nil
        ring.remove(at: index)
        if index < nextIndex { nextIndex -= 1 }
        if nextIndex >= ring.count { nextIndex = 0 }
    }
}

extension PeerIntake: Sendable where Peer: Sendable, Element: Sendable {}
extension PeerIntake.Lane: Sendable where Peer: Sendable, Element: Sendable {}
