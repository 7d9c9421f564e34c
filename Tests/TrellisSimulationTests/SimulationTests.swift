// SimulationTests.swift — many seeds through the simulator: faults, crashes, one Byzantine validator of four.
//
// 349 seeds in all (225 + 50 + 6 + 20 Twins + 8 laggard + 8 flood + 8 window flood + 8 window flood with crashes +
// 8 proposal flood + 4 at the node's cadence):
// CI keeps at least 300. Budget: these must run in CI well under five
// minutes on two cores in a debug build; seeds are split into chunks
// that Swift Testing runs in parallel — on Dispatch threads, not on the cooperative pool (one thread per core),
// which real nodes of other suites running at the same time need for their timers and actors.
import Dispatch
import Testing
import TrellisConsensus
import TrellisSimulation

@Suite("Simulation")
struct SimulationTests {
    static let chunkSize: UInt64 = 25

    /// Runs `body` on a Dispatch thread: a simulation is seconds of synchronous CPU work, and on the cooperative
    /// pool it starved the real single-validator node of `EmptyBlocksTests` (its next height never started).
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }

    func runSeeds(_ seeds: Range<UInt64>, config: SimulationConfig) async {
        for seed in seeds {
            let result = await Self.offPool { Simulation.run(seed: seed, config: config) }
            #expect(result.passed, "seed \(seed): \(result.violations.map(\.description)) — replay: trellis sim --seed \(seed) --validators \(config.validators) --byzantine \(config.byzantine) --trace")
        }
    }

    @Test("225 seeds with partitions, loss, duplication, reordering, crashes (several at once) and restarts", arguments: 0..<UInt64(9))
    func faultySeeds(chunk: UInt64) async {
        await runSeeds((chunk * Self.chunkSize)..<((chunk + 1) * Self.chunkSize), config: SimulationConfig())
    }

    @Test("50 seeds with one Byzantine validator of four, plus faults", arguments: 0..<UInt64(2))
    func byzantineSeeds(chunk: UInt64) async {
        await runSeeds((1_000 + chunk * Self.chunkSize)..<(1_000 + (chunk + 1) * Self.chunkSize), config: SimulationConfig(byzantine: 1))
    }

    @Test("Seven validators with two Byzantine ones")
    func sevenValidators() async {
        await runSeeds(2_000..<2_006, config: SimulationConfig(validators: 7, byzantine: 2))
    }

    @Test("Twins: one key run as two instances in different partitions (equivocation by real replica code)", arguments: 0..<UInt64(2))
    func twinsSeeds(chunk: UInt64) async {
        let config = SimulationConfig(byzantine: 1, byzantineBehaviour: [], twins: true)
        await runSeeds((3_000 + chunk * 10)..<(3_000 + (chunk + 1) * 10), config: config)
    }

    @Test("A validator cut off while the others run more rounds than maxRoundsAhead without deciding catches up, and the chain goes on (PRE-1)")
    func laggardCatchesUpRounds() async {
        // One Byzantine validator votes nil: the two honest ones present run rounds, but no block has a quorum without
        // the third, cut off for the fault phase — by its end the others are past its window (4 rounds here).
        var config = SimulationConfig(byzantine: 1, byzantineBehaviour: [.voteNil], faults: false, faultPhaseMilliseconds: 20_000)
        config.laggard = true
        config.maxRoundsAhead = 4
        await runSeeds(4_000..<4_004, config: config)
    }

    @Test("The laggard scenario with faults on: the laggard stays cut off through the fault plan's heals, and still catches up")
    func laggardWithFaults() async {
        var config = SimulationConfig(byzantine: 1, byzantineBehaviour: [.voteNil], faultPhaseMilliseconds: 20_000)
        config.laggard = true
        config.maxRoundsAhead = 4
        await runSeeds(4_010..<4_014, config: config)
    }

    @Test("Flooding Byzantine validators against small bounds (4 rounds ahead, 16 buffered, 4 pending evidence), with faults: the bounds hold (checked after every step), and the WAL's default bound never refuses a message",
          arguments: [4, 7])
    func floodAgainstSmallBounds(validators: Int) async {
        var config = SimulationConfig(validators: validators, byzantine: (validators - 1) / 3,
                                      byzantineBehaviour: [.flood, .doubleVote, .equivocateProposals])
        config.maxRoundsAhead = 4
        config.maxBufferedFutureMessages = 16
        config.maxPendingEvidence = 4
        let bounded = config
        var evidence = 0
        for seed in UInt64(5_000 + validators * 10)..<UInt64(5_000 + validators * 10 + 4) {
            let result = await Self.offPool { Simulation.run(seed: seed, config: bounded) }
            // `passed` includes the per-step bounds: at most one pending pair per (validator, height), pool and buffer sizes.
            #expect(result.passed, "seed \(seed): \(result.violations.map(\.description))")
            #expect(result.walFullReports == 0, "seed \(seed): the flood reached the WAL's bound")
            evidence += result.evidenceRecorded
        }
        #expect(evidence > 0, "the flooders' equivocations were recorded")
    }

    @Test("Byzantine validators fill the round window with countable votes (their proposals ahead of time, 4 votes per round and type) while the others run rounds without deciding: a 64-entry WAL fills, and the chain still goes on (review 15)",
          arguments: [4, 7])
    func windowFloodAgainstASmallWAL(validators: Int) async {
        // Before, the full WAL refused every received message, honest first votes included: no honest node decided again.
        var config = SimulationConfig(validators: validators, byzantine: (validators - 1) / 3, byzantineBehaviour: [.voteNil, .floodWindow],
                                      faults: false, faultPhaseMilliseconds: 20_000)
        config.application = .test
        config.laggard = true
        config.smallBounds()
        let bounded = config
        var refused = 0
        for seed in UInt64(5_500 + validators * 10)..<UInt64(5_500 + validators * 10 + 4) {
            let result = await Self.offPool { Simulation.run(seed: seed, config: bounded) }
            #expect(result.passed, "seed \(seed): \(result.violations.map(\.description))")
            refused += result.walFullReports
        }
        #expect(refused > 0, "the flood filled the WAL (its refusals are what this scenario is about)")
    }

    @Test("Window floods, double votes and equivocating proposals against all the small bounds, a 64-entry WAL included, with crashes and restarts: replays over a WAL past its bound keep the chain safe and live",
          arguments: [4, 7])
    func windowFloodWithCrashes(validators: Int) async {
        var config = SimulationConfig(validators: validators, byzantine: (validators - 1) / 3,
                                      byzantineBehaviour: [.floodWindow, .doubleVote, .equivocateProposals])
        config.application = .test
        config.smallBounds()
        let bounded = config
        for seed in UInt64(5_700 + validators * 10)..<UInt64(5_700 + validators * 10 + 4) {
            let result = await Self.offPool { Simulation.run(seed: seed, config: bounded) }
            #expect(result.passed, "seed \(seed): \(result.violations.map(\.description))")
            // Evidence completeness: every double-voting validator's equivocation reached the chain, through crashes and
            // small WALs (a full WAL never refuses a validator's first equivocation of a height; the pool is stored).
            #expect(result.punishedOnChain == result.byzantine, "seed \(seed): punished \(result.punishedOnChain.sorted()) of \(result.byzantine.sorted())")
        }
    }

    @Test("Evidence gossip: a double-voting validator sends its conflicting vote to one honest validator only, which crashes for good soon after recording it — the equivocation still gets on chain, through another proposer's block (the run reports evidenceLost otherwise)",
          arguments: [7, 10])
    func evidenceOfACrashedWitnessGetsOnChain(validators: Int) async {
        var config = SimulationConfig(validators: validators, byzantine: 1, byzantineBehaviour: [.doubleVote], faults: false)
        config.application = .test
        config.evidenceWitness = true
        let witnessed = config
        for seed in UInt64(6_100 + validators * 10)..<UInt64(6_100 + validators * 10 + 6) {
            let result = await Self.offPool { Simulation.run(seed: seed, config: witnessed) }
            #expect(result.passed, "seed \(seed): \(result.violations.map(\.description))")
            #expect(!result.byzantine.isEmpty && result.punishedOnChain == result.byzantine, "seed \(seed): punished \(result.punishedOnChain.sorted()) of \(result.byzantine.sorted())")
            #expect(result.evidenceRecorded > 0)
        }
    }

    @Test("Byzantine proposers send, every tick, their proposals with large blocks for every round they own in the window and the next height's, against the small bounds, with faults and crashes: honest nodes hold and validate one block per round up to round_p + 1 (checked after every step), and the chain goes on",
          arguments: [4, 7])
    func proposalFloodAgainstSmallBounds(validators: Int) async {
        var config = SimulationConfig(validators: validators, byzantine: (validators - 1) / 3,
                                      byzantineBehaviour: [.floodProposals, .doubleVote, .equivocateProposals])
        config.application = .test
        config.smallBounds()
        await runSeeds(UInt64(5_900 + validators * 10)..<UInt64(5_900 + validators * 10 + 4), config: config)
    }

    @Test("The node's cadence (its timeouts, gossip every 4 ticks only while stalled) with a Byzantine validator that votes nil and floods large proposals, and a laggard: the laggard gets the proposals of the rounds it reaches late from gossip, and the chain goes on")
    func nodeCadenceWithALaggard() async {
        var config = SimulationConfig(byzantine: 1, byzantineBehaviour: [.voteNil, .floodProposals], faults: false, faultPhaseMilliseconds: 12_000)
        config.application = .test
        config.laggard = true
        config.maxRoundsAhead = 4
        config.nodeCadence()
        await runSeeds(6_100..<6_104, config: config)
    }

    @Test("A fault-free run commits steadily and every validator reaches the same height")
    func faultFree() {
        let result = Simulation.run(seed: 42, config: SimulationConfig(faults: false, faultPhaseMilliseconds: 3_000, livenessBlocks: 3))
        #expect(result.passed)
        #expect(Set(result.committedHeights).count == 1)
        #expect((result.committedHeights.first ?? 0) >= 8)
    }

    @Test("A seed replays identically")
    func determinism() {
        let config = SimulationConfig(byzantine: 1)
        var first: [String] = []
        var second: [String] = []
        let a = Simulation.run(seed: 7, config: config) { first.append($0) }
        let b = Simulation.run(seed: 7, config: config) { second.append($0) }
        #expect(a.committedHeights == b.committedHeights)
        #expect(a.processedEvents == b.processedEvents)
        #expect(first == second)
        #expect(first.count > 100)
    }

    @Test("The PRNG is SplitMix64-seeded xoshiro256** with known outputs")
    func prng() {
        var mix = SplitMix64(seed: 0)
        #expect(mix.next() == 0xE220_A839_7B1D_CDAF)
        var a = SimRandom(seed: 12345), b = SimRandom(seed: 12345)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var r = SimRandom(seed: 1)
        #expect((0..<1000).allSatisfy { _ in r.below(7) < 7 })
    }
}
