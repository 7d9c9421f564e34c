// PipeReadTests.swift — the test harness reads child processes' output with `PipeRead` (TrellisTesting): a read
// interrupted by a signal is retried (Foundation's FileHandle reads trap on EINTR and took the whole test process
// down on CI), and both pipes are read as they fill (a child that writes a lot to standard error before it closes
// standard output does not block against a reader waiting on standard output).
import Foundation
import Synchronization
import Testing
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

/// Signals the reading thread received (the handler counts them).
private let interruptions = Atomic<Int>(0)

@Suite(.serialized) struct PipeReadTests {
    @Test func bothPipesAreReadAsTheyFill() async throws {
        try await OwnThread.run {
            // 300,000 bytes to standard error (more than a pipe holds) before a line on standard output.
            let process = try shell("head -c 300000 /dev/zero >&2; echo done", standardError: .pipe)
            let (stdout, stderr) = PipeRead.readToEnd(process.standardOutput!, process.standardError!)
            #expect(process.waitUntilExit() == .exit(0))
            #expect(String(decoding: stdout, as: UTF8.self) == "done\n")
            #expect(stderr.count == 300_000)
        }
    }

    @Test func aReadInterruptedBySignalsIsRetried() async throws {
        // A handler without SA_RESTART: a blocked read(2) in the thread that takes the signal returns EINTR.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in interruptions.add(1, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        // It stays installed: a signal still pending when the test ends must not meet the default action (which
        // ends the process), and nothing else in the test process uses SIGUSR2.
        #expect(sigaction(SIGUSR2, &action, nil) == 0)

        // The child writes its line only when told to (a line on its standard input), so every signal below
        // reaches the reader while it is blocked in read(2) or about to be.
        let process = try shell("read go; echo late", standardInput: .pipe)
        let out = process.standardOutput!, input = process.standardInput!

        let reader = Mutex<pthread_t?>(nil)
        let result = Mutex<Data?>(nil)
        let release = DispatchSemaphore(value: 0)
        let thread = Thread {
            // The test process may block signals in its threads (a thread inherits its creator's mask): not here.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            reader.withLock { $0 = pthread_self() }
            let data = PipeRead.readToEnd(out)
            result.withLock { $0 = data }
            release.wait()  // alive until the test stops signalling it (a signal to an ended thread is undefined)
        }
        thread.start()
        defer { release.signal() }
        // Signal the reading thread while it waits for the child's line, until several signals have arrived.
        let before = interruptions.load(ordering: .relaxed)
        let interrupted = await Patience.eventually(Patience.minimumSeconds, intervalMilliseconds: 20) {
            if let target = reader.withLock({ $0 }) { pthread_kill(target, SIGUSR2) }
            return interruptions.load(ordering: .relaxed) - before >= 5
        }
        #expect(interrupted, "no signal reached the reading thread")
        let go = Array("go\n".utf8)
        _ = go.withUnsafeBytes { write(input.fileDescriptor, $0.baseAddress, $0.count) }
        try input.close()
        let finished = await Patience.eventually(Patience.minimumSeconds) { result.withLock { $0 != nil } }
        process.waitUntilExit()
        #expect(finished, "the read never returned")
        #expect(result.withLock { $0 }.map { String(decoding: $0, as: UTF8.self) } == "late\n", "the read gave up on EINTR")
    }

    /// `/bin/sh -c script`, started, with its standard output on a new pipe and its standard error and input as
    /// given.
    private func shell(_ script: String, standardError: ChildProcess.Stream = .inherit, standardInput: ChildProcess.Stream = .null) throws -> ChildProcess {
        try ChildProcess("/bin/sh", ["-c", script], standardInput: standardInput, standardOutput: .pipe, standardError: standardError)
    }
}
