// SimCommandTests.swift — `trellis sim` as scripts use it: the summary line, exit codes, replay hints.
import Foundation
import Testing

/// Runs the CLI on a thread of its own: a simulator run takes minutes in a debug build, and blocking one of the
/// (two, on CI) cooperative threads that long starved the suite's async tests (an API server that never started).
private func runOffPool(_ arguments: [String]) async throws -> CLIResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try CLI.run(arguments) }) }.start()
    }
}

@Suite("trellis sim")
struct SimCommandTests {
    @Test("Passing seeds end with exactly 'N passed, 0 failed' and exit 0")
    func passing() async throws {
        let result = try await runOffPool(["sim", "--seeds", "3", "--start", "10"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").last == "3 passed, 0 failed")
    }

    @Test("A failing seed prints how to replay it, the summary counts it, and the exit code is 1")
    func failing() async throws {
        // Seed 1 finds the planted "no WAL replay" bug: validators that crashed together never gather a quorum
        // again (see PlantedBugTests).
        let result = try await runOffPool(["sim", "--seeds", "1", "--start", "1", "--planted-bug", "no-wal-replay"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.last == "0 passed, 1 failed")
        #expect(lines.first?.contains("trellis sim --seed 1") == true)
        #expect(lines.first?.contains("--planted-bug no-wal-replay") == true)
        #expect(lines.first?.contains("liveness") == true)
    }

    @Test("--seed S --trace prints a readable log of one run")
    func trace() async throws {
        let result = try await runOffPool(["sim", "--seed", "3", "--trace", "--no-faults", "--fault-phase-ms", "1000"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("COMMIT h=1"))
        #expect(result.stdout.contains("PREVOTE h=1 r=0"))
    }

    @Test("--json prints one JSON object with the counts (and with --seed, the run); progress never reaches a pipe")
    func json() async throws {
        let many = try await runOffPool(["sim", "--seeds", "2", "--start", "10", "--app", "test", "--no-faults", "--fault-phase-ms", "1000", "--json"])
        #expect(many.status == 0, "\(many.stderr)")
        let lines = many.stdout.split(separator: "\n")
        #expect(lines.count == 1, "one line on stdout: \(many.stdout)")
        let object = (try? JSONSerialization.jsonObject(with: Data(many.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(object["passed"] as? Int == 2 && object["failed"] as? Int == 0 && (object["failures"] as? [Any])?.isEmpty == true, "\(many.stdout)")
        #expect(object["seeds"] as? Int == 2 && object["start"] as? Int == 10 && object["app"] as? String == "test")
        #expect(!many.stderr.contains("seed 1/2"), "progress is for a terminal only: \(many.stderr)")
        let one = try await runOffPool(["sim", "--seed", "3", "--app", "test", "--no-faults", "--fault-phase-ms", "1000", "--json"])
        #expect(one.status == 0, "\(one.stderr)")
        let run = ((try? JSONSerialization.jsonObject(with: Data(one.stdout.utf8))) as? [String: Any])?["run"] as? [String: Any] ?? [:]
        #expect(run["seed"] as? Int == 3 && run["passed"] as? Bool == true && (run["committed_heights"] as? [Int])?.count == 4, "\(one.stdout)")
        #expect(try CLI.run(["sim", "--seed", "3", "--trace", "--json"]).status == 2)
    }

    @Test("Bad input exits with 2")
    func badInput() throws {
        #expect(try CLI.run(["sim", "--seeds", "1", "--validators", "3"]).status == 2)
        #expect(try CLI.run(["sim"]).status == 2)
    }
}
