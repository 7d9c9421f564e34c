// PeerIntake.swift — the peer messages waiting for the consensus queue: bounded for the whole node in messages and in
// bytes, shared fairly between the peers that send them, handed over round-robin.
//
// Fault model: every authenticated peer may send, within its own rate limits (P2PLimits: 10,000 messages/s, 32 MiB/s,
// a 96 MiB burst), messages the consensus queue will only find redundant once it handles them — repeats of one
// 64 MiB proposal, proposals beyond the proposal reach, votes it has — and the queue does not drain while a block
// validates. Bounded per peer only, n peers could make a node hold n × their burst (GBs: out of memory, the chain
// stopped), and one peer could fill every slot and crowd out the others' votes (REVIEW-17-node RISK 3). So:
// - the intake holds at most `maxMessages` messages and `maxBytes` bytes (each message counted at its encoded size,
//   the frame it came in — decoded, a block of many small transactions takes up to about 3 × that in memory: each
//   transaction's keys, signatures and payload are arrays of their own) for all peers together;
// - when a new message does not fit, room is made only at the expense of the peer holding the most (messages or
//   bytes, whichever is short) and only while that peer holds more than the sender would with the message (or, for
//   a sender holding nothing, at least as much as the message): it loses its oldest messages — the ones its later
//   gossip repeats. The room is planned before anything is dropped: a message that does not fit then is refused and
//   drops nothing. So a message is refused when its sender would hold at least as much as every other peer: each of
//   k peers with messages waiting keeps about a k-th of either bound whatever the others send (max-min fair) — for
//   messages up to about a k-th of the bound: 3 peers each holding a near-maximum proposal (64 MiB and its
//   signature) fill the default 256 MiB; a further proposal from a peer holding nothing replaces the oldest lane's
//   (ties go to the empty sender), one from a peer already holding one waits until the queue drains (gossip repeats
//   it), and peers holding just under a proposal's size can keep it out while the queue is held up. A peer
//   sending votes (a few hundred bytes each) is never crowded out by peers sending proposals, nor by one peer's
//   flood of votes;
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
        /// Messages of other peers dropped to make room for it (0 when it was refused).
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
    /// most when the intake is full (see the header), or refuses it — then nothing else changes: the room a message
    /// needs is planned first and made only if the message then fits.
    mutating func enqueue(_ element: Element, bytes size: Int, from peer: Peer) -> Admission {
        precondition(size >= 0, "a message of \(size) bytes")
        guard size <= maxBytes else { return Admission(queued: false, evicted: 0) }
        guard let plan = room(for: size, from: peer) else { return Admission(queued: false, evicted: 0) }
        for (victim, count) in plan {
            for _ in 0..<count { dropOldest(of: victim) }
        }
        if lanes[peer] == nil {
            lanes[peer] = Lane()
            ring.append(peer)
        }
        lanes[peer]!.items.append((element, size))
        lanes[peer]!.bytes += size
        messages += 1
        bytes += size
        return Admission(queued: true, evicted: plan.reduce(0) { $0 + $1.count })
    }

    /// How many of their oldest messages which peers lose so that one more message of `size` bytes from `peer` fits,
    /// or nil when it does not fit (a dry run: nothing changes). A peer loses messages only while it holds more than
    /// `peer` would with the new one — or, for a sender holding nothing, at least as much as the new one (ties go to
    /// the peer that holds nothing: holders of messages at least its size cannot keep a new sender out; holders just
    /// below its size can, and a peer holding a single large message loses it to any empty sender's message). The
    /// tie rule reaches the message bound too, where it matters only once 4,096 peers each hold one message. Work: each
    /// planned drop scans the peers holding messages (O(drops × k), under the runner's lock).
    private func room(for size: Int, from peer: Peer) -> [(victim: Peer, count: Int)]? {
        let own = held(by: peer)
        var dropped: [Peer: (count: Int, bytes: Int)] = [:]
        var order: [Peer] = []
        var (heldMessages, heldBytes) = (messages, bytes)
        func left(_ q: Peer) -> (messages: Int, bytes: Int) {
            let lane = lanes[q]!, gone = dropped[q] ?? (0, 0)
            return (lane.items.count - gone.count, lane.bytes - gone.bytes)
        }
        func mayLose(_ amount: Int, ownAmount: Int, adding: Int) -> Bool {
            amount > ownAmount + adding || (ownAmount == 0 && amount >= adding && amount > 0)
        }
        func dropOne(_ q: Peer) {
            let gone = dropped[q] ?? (0, 0)
            if gone.count == 0 { order.append(q) }
            let item = lanes[q]!.items[lanes[q]!.items.index(lanes[q]!.items.startIndex, offsetBy: gone.count)]
            dropped[q] = (gone.count + 1, gone.bytes + item.bytes)
            heldMessages -= 1
            heldBytes -= item.bytes
        }
        while heldMessages + 1 > maxMessages {
            guard let largest = largestHolder(other: peer, by: { left($0).messages }),
                  mayLose(left(largest).messages, ownAmount: own.messages, adding: 1) else { return nil }
            dropOne(largest)
        }
        while heldBytes + size > maxBytes {
            guard let largest = largestHolder(other: peer, by: { left($0).bytes }),
                  mayLose(left(largest).bytes, ownAmount: own.bytes, adding: size) else { return nil }
            dropOne(largest)
        }
        return order.map { ($0, dropped[$0]!.count) }
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
    private func largestHolder(other peer: Peer, by measure: (Peer) -> Int) -> Peer? {
        var best: (peer: Peer, amount: Int)?
        for candidate in ring where candidate != peer {
            let amount = measure(candidate)
            if best == nil || amount > best!.amount { best = (candidate, amount) }
        }
        return best?.peer
    }

    /// Drops `peer`'s oldest message: while the consensus queue is held up, a peer's oldest messages are the ones its
    /// later gossip repeats (its newest is often the freshest round's proposal — a gossip burst ends with them).
    private mutating func dropOldest(of peer: Peer) {
        let item = lanes[peer]!.items.removeFirst()
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
