// SimNetwork.swift — the simulated network: per-link delay, loss, duplication, reordering and partitions.
//
// Fault model: any message may be dropped, delayed within [minDelay, maxDelay], delivered twice, or overtaken by
// a later one (independent random delays reorder). A partition blocks directed links: symmetric partitions block
// both directions between two groups, asymmetric ones only one, flaky links block random single directions; an
// isolated node (the laggard) stays cut off through every partition and heal of the fault phase. After the final heal
// (`isolated` cleared, `heal()`) with loss and duplication off,
// every message is delivered within maxDelay — the "global stabilisation" that liveness needs.
import TrellisConsensus
import TrellisLedger

/// Network conditions and the current partition.
struct SimNetwork {
    var minDelayMilliseconds: UInt64
    var maxDelayMilliseconds: UInt64
    var lossPermille: UInt64 = 0
    var duplicatePermille: UInt64 = 0
    /// blocked[from][to]: messages on that directed link are dropped.
    private(set) var blocked: [[Bool]]
    /// Nodes cut off from every other whatever the partitions and heals (the laggard), until `healAll` clears it.
    var isolated: Set<Int> = []

    init(nodes: Int, minDelayMilliseconds: UInt64, maxDelayMilliseconds: UInt64) {
        self.minDelayMilliseconds = minDelayMilliseconds
        self.maxDelayMilliseconds = maxDelayMilliseconds
        blocked = Array(repeating: Array(repeating: false, count: nodes), count: nodes)
    }

    /// Blocks links from `group` to the rest, and back unless `asymmetric`.
    mutating func partition(_ group: Set<Int>, asymmetric: Bool) {
        for a in blocked.indices {
            for b in blocked.indices where group.contains(a) != group.contains(b) {
                if group.contains(a) || !asymmetric { blocked[a][b] = true }
            }
        }
    }

    /// Blocks each directed link independently with probability `permille`/1000 (flaky, one-way links).
    mutating func blockRandomLinks(permille: UInt64, random: inout SimRandom) {
        for a in blocked.indices {
            for b in blocked.indices where a != b && random.chance(permille: permille) { blocked[a][b] = true }
        }
    }

    /// Removes every partition.
    mutating func heal() {
        for a in blocked.indices { for b in blocked.indices { blocked[a][b] = false } }
    }

    /// The delivery delays of one message on a link: empty when dropped, two entries when duplicated.
    func deliveries(from: Int, to: Int, random: inout SimRandom) -> [UInt64] {
        guard !blocked[from][to], !isolated.contains(from), !isolated.contains(to), !random.chance(permille: lossPermille) else { return [] }
        var delays = [random.uint(in: minDelayMilliseconds...maxDelayMilliseconds)]
        if random.chance(permille: duplicatePermille) { delays.append(random.uint(in: minDelayMilliseconds...maxDelayMilliseconds)) }
        return delays
    }
}
