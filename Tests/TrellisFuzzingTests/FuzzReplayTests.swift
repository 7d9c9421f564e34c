// FuzzReplayTests.swift — the fuzz harnesses in the normal suite: every committed corpus file and every crash file
// (Tests/Fuzz/Corpus/<target>/, Tests/Fuzz/Regressions/<target>/) replayed through its harness, the generated
// seeds checked, and a bounded run of deterministic mutations of the seeds. A decoder that traps stops this test
// process (and fails `swift test`); a broken decoder contract fails the test naming the file.
import Foundation
import Testing
@testable import TrellisFuzzing
import TrellisLedger
import TrellisSimulation

/// Tests/Fuzz, found from this file's path.
let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

/// The files of `Tests/Fuzz/<kind>/<target>/`, sorted by name (none when the folder does not exist).
func fuzzFiles(_ kind: String, _ target: FuzzTarget) throws -> [URL] {
    let folder = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
    guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
    return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        .filter { !$0.lastPathComponent.hasPrefix(".") }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

@Suite struct FuzzReplayTests {
    @Test(arguments: FuzzTarget.allCases)
    func committedCorpusAndCrashFilesReplayCleanly(target: FuzzTarget) throws {
        let corpus = try fuzzFiles("Corpus", target)
        #expect(!corpus.isEmpty, "Tests/Fuzz/Corpus/\(target.rawValue) is empty: run Scripts/fuzz.sh seed")
        for file in try corpus + fuzzFiles("Regressions", target) {
            let data = [UInt8](try Data(contentsOf: file))
            do { try target.run(data) } catch {
                Issue.record("\(file.path): \(error)")
            }
        }
    }

    @Test func generatedSeedsCoverEveryTargetAndReplayCleanly() throws {
        let seeds = try FuzzCorpus.seeds()
        for target in FuzzTarget.allCases {
            let inputs = seeds[target] ?? []
            #expect(!inputs.isEmpty, "no seeds for \(target.rawValue)")
            for (i, input) in inputs.enumerated() {
                do { try target.run(input) } catch { Issue.record("seed \(i) of \(target.rawValue): \(error)") }
            }
        }
        if ProcessInfo.processInfo.environment["TRELLIS_FUZZ_WRITE_CORPUS"] != nil { try write(seeds) }
    }

    /// Two generations of the seeds are the same bytes, target by target: `Scripts/fuzz.sh seed` rewrites only what
    /// changed in the code (twenty-third session: the p2p_stream seeds differed on every run — a random secret-stream
    /// header — so regenerating one target's seeds dirtied another's).
    @Test func seedGenerationIsDeterministic() throws {
        let first = try FuzzCorpus.seeds(), second = try FuzzCorpus.seeds()
        #expect(Set(first.keys) == Set(FuzzTarget.allCases))
        for target in FuzzTarget.allCases {
            #expect(first[target] == second[target], "the \(target.rawValue) seeds differ between two generations")
        }
        // The committed p2p_stream seeds are the ones generated now (regenerated once with the fixed header).
        let committed = try fuzzFiles("Corpus", .p2pStream).filter { $0.lastPathComponent.hasPrefix("seed-") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }.map { [UInt8](try Data(contentsOf: $0)) }
        #expect(committed == first[.p2pStream], "Tests/Fuzz/Corpus/p2p_stream: run Scripts/fuzz.sh seed")
    }

    /// The fuzz targets know every governance action: the samples the seeds come from, and the committed corpus
    /// libFuzzer starts from (regenerate it with `Scripts/fuzz.sh seed` after adding an action).
    @Test func everyGovernanceActionIsSampledAndInTheCommittedCorpus() throws {
        let samples = PayloadSamples.all(validatorKey: FuzzWorld.validatorKeys[0].publicKey.hex).filter { $0.kind == "governance.propose" }.map(\.json)
        let corpus = try fuzzFiles("Corpus", .apiJSON).map { String(decoding: try Data(contentsOf: $0), as: UTF8.self) }
        for type in GovernanceAction.typeNames {
            #expect(samples.contains { $0.contains("\"type\":\"\(type)\"") }, "no governance.propose sample with the action \(type) (TrellisFuzzing/PayloadSamples.swift)")
            #expect(corpus.contains { $0.contains("\"type\":\"\(type)\"") }, "Tests/Fuzz/Corpus/api_json has no \(type) action: run Scripts/fuzz.sh seed")
        }
    }

    /// A bounded, deterministic mutation run (bit flips, byte changes, truncations, insertions) over the seeds:
    /// libFuzzer explores far more, this keeps the cheapest cases in every `swift test`.
    @Test(arguments: FuzzTarget.allCases)
    func mutatedSeedsKeepTheContract(target: FuzzTarget) throws {
        let seeds: [[UInt8]] = try fuzzFiles("Corpus", target).map { [UInt8](try Data(contentsOf: $0)) }
        guard !seeds.isEmpty else { return }
        var random = SimRandom(seed: 0x7472_656c_6c69_73 ^ UInt64(target.rawValue.utf8.count))
        let budget = target == .exportFile || target == .proofFile ? 60 : 300
        for i in 0..<budget {
            var input: [UInt8] = seeds[i % seeds.count]
            for _ in 0...random.int(in: 0...3) { mutate(&input, &random) }
            do { try target.run(input) } catch {
                Issue.record("mutation \(i) of \(target.rawValue) (\(input.count) bytes, hex \(input.prefix(64).map { String(format: "%02x", $0) }.joined())…): \(error)")
            }
        }
    }

    /// Writes the seeds as Tests/Fuzz/Corpus/<target>/seed-NN (replacing older seed files).
    private func write(_ seeds: [FuzzTarget: [[UInt8]]]) throws {
        for (target, inputs) in seeds {
            let folder = fuzzDirectory.appendingPathComponent("Corpus").appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for old in try FileManager.default.contentsOfDirectory(atPath: folder.path) where old.hasPrefix("seed-") {
                try FileManager.default.removeItem(at: folder.appendingPathComponent(old))
            }
            for (i, input) in inputs.enumerated() {
                try Data(input).write(to: folder.appendingPathComponent(String(format: "seed-%02d", i)))
            }
        }
    }

    private func mutate(_ input: inout [UInt8], _ random: inout SimRandom) {
        func below(_ bound: Int) -> Int { Int(random.below(UInt64(bound))) }
        switch below(5) {
        case 0 where !input.isEmpty:
            input[below(input.count)] ^= UInt8(1) << UInt8(below(8))
        case 1 where !input.isEmpty:
            input[below(input.count)] = [0x00, 0x01, 0x7f, 0x80, 0xff][below(5)]
        case 2 where !input.isEmpty:
            input.removeLast(below(input.count) + 1)
        case 3:
            input.insert(UInt8(truncatingIfNeeded: random.next()), at: below(input.count + 1))
        default:
            if input.count >= 4 {
                // A length or count field set to an extreme.
                let at = below(input.count - 3)
                input.replaceSubrange(at..<(at + 4), with: [[0xff, 0xff, 0xff, 0xff], [0x00, 0x00, 0x00, 0x00], [0x7f, 0xff, 0xff, 0xff]][below(3)])
            }
        }
    }
}
