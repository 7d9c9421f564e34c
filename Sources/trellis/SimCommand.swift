// SimCommand.swift — `trellis sim`: run the deterministic multi-node simulator over many seeds, or replay one.
//
// `trellis sim --seeds N [--start S] [--validators V] [--byzantine K]` prints one line per failing seed (with the
// command that replays it) and ends with exactly `N passed, M failed`; exit 0 only when all pass.
// `--behaviour`, `--laggard` and `--small-bounds` select the scenarios of the consensus robustness work (a validator
// far behind in rounds, floods against small bounds); `--node-cadence` runs with the node's timeouts and gossip. `trellis sim --seed S --trace` replays one seed with a readable
// event log. `--json` prints one JSON object instead (the counts, each failing seed with its violations and replay command, and with --seed the run's figures); at a
// terminal, progress ("seed i/N, F failed") goes to standard error.
import ArgumentParser
import Foundation
import TrellisConsensus
import TrellisSimulation

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the deterministic consensus simulator (faults, crashes, Byzantine validators) over seeds."
    )

    @Option(help: "Number of seeds to run.")
    var seeds: UInt64?

    @Option(help: "First seed of the range.")
    var start: UInt64 = 0

    @Option(help: "Replay this one seed.")
    var seed: UInt64?

    @Option(help: "Validators per run (4…10).")
    var validators = 4

    @Option(help: "Byzantine validators per run (≤ f to expect success).")
    var byzantine = 0

    @Option(help: "The application the validators run: ledger (the real executor and contracts) or test (synthetic, faster).")
    var app: String = "ledger"

    @Flag(help: "Twins: the first Byzantine validator runs as two honest instances with one key, in different partitions.")
    var twins = false

    @Option(help: "Fix the Byzantine validators' behaviours (comma-separated: equivocate-proposals, double-vote, withhold-votes, invalid-proposals, replay-old, vote-nil, flood, flood-window, flood-proposals, or none); default: a random mix per seed.")
    var behaviour: String?

    @Flag(help: "Laggard: the first honest validator is cut off for the whole fault phase (use with --behaviour vote-nil: the others run rounds without deciding).")
    var laggard = false

    @Flag(help: "Evidence witness (with --behaviour double-vote, --byzantine 1, 7+ validators): the conflicting vote goes to one honest validator only, which crashes for good soon after recording it; only evidence gossip gets the equivocation on chain (checked).")
    var evidenceWitness = false

    @Flag(help: "Small consensus bounds (4 rounds ahead, 16 buffered future messages, 4 pending evidence, a WAL of 64 entries a height): reach the paths a long stall or a flood reaches.")
    var smallBounds = false

    @Flag(help: "The node's cadence: its default timeouts and timeout_commit, gossip every 4 ticks of 500 ms only while stalled (the simulator's default gossips every tick with shorter timeouts).")
    var nodeCadence = false

    @Flag(help: "Run without network faults and crashes.")
    var noFaults = false

    @Flag(help: "Print a readable event log (with --seed).")
    var trace = false

    @Flag(help: "Print one JSON object: passed, failed, failures [{seed, violations, replay}] (and with --seed, the run).")
    var json = false

    @Option(help: "Length of the fault phase in simulated milliseconds.")
    var faultPhaseMs: UInt64 = 6_000

    @Option(help: ArgumentHelp("Plant a known bug to check that the checker finds it: skip-lock-check, forget-signatures (no signing guard, WAL never synced), or no-wal-replay (restarted replicas ignore their WAL).", visibility: .hidden))
    var plantedBug: String?

    /// Bad input exits with 2 (see Trellis.swift).
    func checkInput() throws {
        guard (4...10).contains(validators) else { throw badInput("--validators must be 4…10, got \(validators)") }
        guard (0...validators).contains(byzantine) else { throw badInput("--byzantine must be 0…\(validators), got \(byzantine)") }
        guard (seeds == nil) != (seed == nil) else { throw badInput("give either --seeds N or --seed S") }
        if let seeds, seeds == 0 { throw badInput("--seeds must be positive") }
        if let seeds, start > UInt64.max - seeds { throw badInput("--start + --seeds overflows") }
        if trace && seed == nil { throw badInput("--trace needs --seed S") }
        if trace && json { throw badInput("--trace prints a readable log; it cannot be combined with --json") }
        if twins && byzantine < 1 { throw badInput("--twins needs --byzantine 1 or more") }
        if let plantedBug, !["skip-lock-check", "forget-signatures", "no-wal-replay"].contains(plantedBug) {
            throw badInput("--planted-bug must be skip-lock-check, forget-signatures or no-wal-replay")
        }
        if plantedBug != nil && !TestOnlyFaults.available {
            throw badInput("--planted-bug needs a debug build (planted bugs are compiled out of release builds): swift build, then .build/debug/trellis sim …")
        }
        guard faultPhaseMs >= 1_000 else { throw badInput("--fault-phase-ms must be at least 1000") }
        guard SimApplicationKind(rawValue: app) != nil else { throw badInput("--app must be ledger or test") }
        if let behaviour {
            guard Self.parseBehaviour(behaviour) != nil else {
                throw badInput("--behaviour must be none or a comma-separated list of \(Self.behaviourNames.map(\.0).joined(separator: ", "))")
            }
            guard byzantine >= 1 else { throw badInput("--behaviour needs --byzantine 1 or more") }
            guard !twins else { throw badInput("--twins runs its Byzantine validators without behaviours; --behaviour cannot be combined with it") }
        }
        if laggard && byzantine >= validators { throw badInput("--laggard needs an honest validator") }
        if evidenceWitness {
            guard byzantine == 1, (validators - 1) / 3 >= 2 else { throw badInput("--evidence-witness needs --byzantine 1 and at least 7 validators (the Byzantine validator and the witness are two faults)") }
            guard let behaviour, Self.parseBehaviour(behaviour)?.contains(.doubleVote) == true else { throw badInput("--evidence-witness needs --behaviour with double-vote") }
            guard noFaults else { throw badInput("--evidence-witness needs --no-faults (a crash or partition of the witness before its gossip would lose the pair without a bug)") }
        }
    }

    static let behaviourNames: [(String, ByzantineBehaviour)] = [
        ("equivocate-proposals", .equivocateProposals), ("double-vote", .doubleVote), ("withhold-votes", .withholdVotes),
        ("invalid-proposals", .invalidProposals), ("replay-old", .replayOld), ("vote-nil", .voteNil), ("flood", .flood),
        ("flood-window", .floodWindow), ("flood-proposals", .floodProposals)]

    /// `none` or comma-separated names; nil for an unknown name.
    static func parseBehaviour(_ text: String) -> ByzantineBehaviour? {
        if text == "none" { return [] }
        var result: ByzantineBehaviour = []
        for name in text.split(separator: ",") {
            guard let match = behaviourNames.first(where: { $0.0 == name }) else { return nil }
            result.insert(match.1)
        }
        return result
    }

    func run() throws {
        try checkInput()
        #if TRELLIS_TEST_FAULTS
        let bug = TestOnlyFaults(skipLockCheck: plantedBug == "skip-lock-check", skipSigningGuard: plantedBug == "forget-signatures",
                                 skipWALReplay: plantedBug == "no-wal-replay")
        #else
        let bug = TestOnlyFaults.none  // checkInput refused --planted-bug
        #endif
        var config = SimulationConfig(validators: validators, byzantine: byzantine, faults: !noFaults,
                                      faultPhaseMilliseconds: faultPhaseMs, plantedBug: bug,
                                      plantedUnsyncedWAL: plantedBug == "forget-signatures")
        config.application = SimApplicationKind(rawValue: app) ?? .ledger
        if twins {
            config.twins = true
            config.byzantineBehaviour = []
        }
        if let behaviour { config.byzantineBehaviour = Self.parseBehaviour(behaviour) }
        config.laggard = laggard
        config.evidenceWitness = evidenceWitness
        if smallBounds { config.smallBounds() }
        if nodeCadence { config.nodeCadence() }
        let flags = "--app \(app) --validators \(validators) --byzantine \(byzantine) --fault-phase-ms \(faultPhaseMs)"
            + (noFaults ? " --no-faults" : "") + (twins ? " --twins" : "") + (plantedBug.map { " --planted-bug \($0)" } ?? "")
            + (behaviour.map { " --behaviour \($0)" } ?? "") + (laggard ? " --laggard" : "") + (smallBounds ? " --small-bounds" : "") + (nodeCadence ? " --node-cadence" : "") + (evidenceWitness ? " --evidence-witness" : "")
        let range: [UInt64] = seed.map { [$0] } ?? Array(start..<(start + (seeds ?? 0)))
        var failed = 0
        var failures: [[String: Any]] = []
        var single: [String: Any]?
        let began = Date()
        for (done, s) in range.enumerated() {
            if range.count > 1 { progressLine("seed \(done + 1)/\(range.count) (\(s)), \(failed) failed") }
            let result = Simulation.run(seed: s, config: config, log: trace ? { print($0) } : nil)
            let replay = "trellis sim --seed \(s) \(flags) --trace"
            if seed != nil {
                single = ["seed": s, "passed": result.passed, "committed_heights": result.committedHeights, "simulated_ms": result.simulatedMilliseconds,
                          "events": result.processedEvents, "evidence": result.evidenceRecorded, "wal_full": result.walFullReports, "violations": result.violations.map(\.description)]
            }
            if !result.passed {
                failed += 1
                failures.append(["seed": s, "violations": result.violations.map(\.description), "replay": replay])
                if !json { print("seed \(s) FAILED: \(result.violations.map(\.description).joined(separator: "; ")) — replay: \(replay)") }
            } else if seed != nil && !json {
                print("seed \(s) passed: heights \(result.committedHeights), \(result.simulatedMilliseconds) ms simulated, \(result.processedEvents) events, \(result.evidenceRecorded) evidence, \(result.walFullReports) messages refused by full WALs")
            }
        }
        let seconds = Date().timeIntervalSince(began)
        if range.count > 1 { progressLine(String(repeating: " ", count: 60)) }
        printError(String(format: "%.1f s, %.0f seeds/minute", seconds, Double(range.count) / max(seconds, 0.001) * 60))
        if json {
            var out: [String: Any] = ["passed": range.count - failed, "failed": failed, "failures": failures, "start": range.first ?? start, "seeds": range.count,
                                      "app": app, "validators": validators, "byzantine": byzantine, "faults": !noFaults, "twins": twins,
                                      "fault_phase_ms": faultPhaseMs]
            if let single { out["run"] = single }
            print(jsonObject(out))
        } else {
            print("\(range.count - failed) passed, \(failed) failed")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
