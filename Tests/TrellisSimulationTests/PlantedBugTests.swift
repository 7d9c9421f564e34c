// PlantedBugTests.swift — a check that the checker works: plant a known bug, expect the simulator to find a
// violation within a few hundred seeds.
import Testing
import TrellisConsensus
import TrellisSimulation

@Suite("Planted bugs are caught")
struct PlantedBugTests {
    /// The first failing seed in `seeds`, with its violations.
    func firstFailure(_ seeds: Range<UInt64>, config: SimulationConfig) async -> SimulationResult? {
        await SimulationTests.offPool {
            for seed in seeds {
                let result = Simulation.run(seed: seed, config: config)
                if !result.passed { return result }
            }
            return nil
        }
    }

    /// One Byzantine validator of four is within f (SimulationTests shows such seeds pass without the bug); its
    /// equivocation (as proposer, and double votes colluding on the same split) splits the honest nodes' views,
    /// which is when a forgotten lock lets a second value be decided.
    @Test("Skipping the lock check (lines 23, 29) breaks agreement, and the simulator sees it")
    func skipLockCheck() async throws {
        let config = SimulationConfig(byzantine: 1, byzantineBehaviour: [.equivocateProposals, .doubleVote], plantedBug: TestOnlyFaults(skipLockCheck: true))
        let failure = try #require(await firstFailure(0..<300, config: config))
        #expect(failure.violations.contains { if case .agreement = $0 { return true } else { return false } },
                "seed \(failure.seed): \(failure.violations.map(\.description))")
    }

    @Test("Two colluding Byzantine validators of four (more than f) break agreement, and the simulator sees it")
    func tooManyByzantine() async throws {
        let config = SimulationConfig(byzantine: 2, byzantineBehaviour: [.equivocateProposals, .doubleVote])
        let failure = try #require(await firstFailure(0..<300, config: config))
        #expect(failure.violations.contains { if case .agreement = $0 { return true } else { return false } },
                "seed \(failure.seed): \(failure.violations.map(\.description))")
    }

    @Test("A node that forgets what it signed (no signing guard, WAL never synced) double-signs after restarts")
    func forgetSignatures() async throws {
        let config = SimulationConfig(plantedBug: TestOnlyFaults(skipSigningGuard: true), plantedUnsyncedWAL: true)
        let failure = try #require(await firstFailure(0..<300, config: config))
        #expect(failure.violations.contains { if case .doubleSign = $0 { return true } else { return false } },
                "seed \(failure.seed): \(failure.violations.map(\.description))")
    }

    /// Validators that crash together and come back without replaying their WAL have lost their locks and stay
    /// silent where their guard already signed: what deadlocked four real validators restarted at once.
    @Test("A replica that skips WAL replay at restart is caught (the test that proves the WAL matters)")
    func noWALReplay() async throws {
        let config = SimulationConfig(plantedBug: TestOnlyFaults(skipWALReplay: true))
        let failure = try #require(await firstFailure(0..<300, config: config))
        #expect(failure.violations.contains {
            switch $0 {
            case .liveness, .agreement: return true
            default: return false
            }
        }, "seed \(failure.seed): \(failure.violations.map(\.description))")
        print("planted no-WAL-replay bug caught at seed \(failure.seed): \(failure.violations.map(\.description))")
    }

    @Test("The signing guard alone prevents those double-signs when the WAL is lost")
    func guardAlone() async {
        let config = SimulationConfig(plantedUnsyncedWAL: true)
        for seed in UInt64(0)..<100 {
            let result = await SimulationTests.offPool { Simulation.run(seed: seed, config: config) }
            #expect(!result.violations.contains { if case .doubleSign = $0 { return true } else { return false } }, "seed \(seed): \(result.violations)")
        }
    }
}
