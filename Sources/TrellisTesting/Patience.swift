// Patience.swift — how tests wait for something they expect to happen.
//
// The whole suite (~120 suites, in one process, run in parallel) shares two cores on CI, and end-to-end suites start
// node processes and block threads of Swift's cooperative pool while they poll them. A test that waits with a short
// wall-clock budget ("connected within 10 s") then fails when the machine is busy rather than when the code is wrong:
// CI failed that way more than once. So:
// - a wait is a budget of POLLS, not of wall time: while this task (or the task that would make the condition true)
//   is starved of a thread, the budget is not spent;
// - no budget is below `minimumSeconds` of polls: waiting longer costs nothing when the code works (the wait ends
//   when the condition holds) and only delays a failure that is real.
// Only for conditions a test expects to BECOME true. A test that checks something does NOT happen must not use these.
// A synchronous test that blocks while it waits runs its body with `OwnThread.run`, off the cooperative pool.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Patience {
    /// The least budget any wait gets, in seconds of polling.
    public static let minimumSeconds: Double = 60

    /// How many polls `seconds` (raised to `minimumSeconds`) makes at one poll every `intervalMilliseconds`.
    public static func polls(seconds: Double, intervalMilliseconds: Int) -> Int {
        let budget = max(seconds, minimumSeconds)
        return max(1, Int((budget * 1_000 / Double(max(1, intervalMilliseconds))).rounded(.up)))
    }

    /// Polls `condition` until it holds or the budget of polls is spent; suspends (never blocks a thread) between
    /// polls. Returns whether it held.
    public static func eventually(_ seconds: Double, intervalMilliseconds: Int = 50, _ condition: () -> Bool) async -> Bool {
        for _ in 0..<polls(seconds: seconds, intervalMilliseconds: intervalMilliseconds) {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: UInt64(intervalMilliseconds) * 1_000_000)
        }
        return condition()
    }

    /// The blocking form, for synchronous tests that poll other processes (it sleeps the calling thread).
    public static func eventuallyBlocking(_ seconds: Double, intervalMilliseconds: Int = 250, _ condition: () -> Bool) -> Bool {
        for _ in 0..<polls(seconds: seconds, intervalMilliseconds: intervalMilliseconds) {
            if condition() { return true }
            usleep(UInt32(intervalMilliseconds) * 1_000)
        }
        return condition()
    }
}
