// SimulationTests.swift — many seeds through the simulator: faults, crashes, one Byzantine validator of four.
//
// Budget: these must run in CI well under five minutes on two cores in a debug build; seeds are split into chunks
// that Swift Testing runs in parallel.
import Testing
import TrellisConsensus
import TrellisSimulation

@Suite("Simulation")
struct SimulationTests {
    static let chunkSize: UInt64 = 25

    func runSeeds(_ seeds: Range<UInt64>, config: SimulationConfig) {
        for seed in seeds {
            let result = Simulation.run(seed: seed, config: config)
            #expect(result.passed, "seed \(seed): \(result.violations.map(\.description)) — replay: trellis sim --seed \(seed) --validators \(config.validators) --byzantine \(config.byzantine) --trace")
        }
    }

    @Test("200 seeds with partitions, loss, duplication, reordering, crashes and restarts", arguments: 0..<UInt64(8))
    func faultySeeds(chunk: UInt64) {
        runSeeds((chunk * Self.chunkSize)..<((chunk + 1) * Self.chunkSize), config: SimulationConfig())
    }

    @Test("50 seeds with one Byzantine validator of four, plus faults", arguments: 0..<UInt64(2))
    func byzantineSeeds(chunk: UInt64) {
        runSeeds((1_000 + chunk * Self.chunkSize)..<(1_000 + (chunk + 1) * Self.chunkSize), config: SimulationConfig(byzantine: 1))
    }

    @Test("Seven validators with two Byzantine ones")
    func sevenValidators() {
        runSeeds(2_000..<2_006, config: SimulationConfig(validators: 7, byzantine: 2))
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
