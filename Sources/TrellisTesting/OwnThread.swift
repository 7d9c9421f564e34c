// OwnThread.swift — runs a synchronous test body that blocks (it polls node processes, waits for CLI processes to
// exit, sleeps between kills) on a thread of its own instead of one of Swift's cooperative threads.
//
// Swift Testing calls a synchronous test function on the cooperative pool, which has one thread per core: on CI's
// two cores, two end-to-end tests waiting on processes held both, and every in-process suite beside them (the
// consensus, ledger and API suites) starved until they finished (Patience's header). An end-to-end test is async
// and wraps its body: `@Test func x() async throws { try await OwnThread.run { try xBody() } }`. The body runs in the
// same task (Swift Testing's expectations and issues still belong to the test) with a task executor preference for
// a serial Dispatch queue of its own, which Dispatch serves with its own thread, so a blocked body blocks only that
// thread.
import Dispatch

public enum OwnThread {
    /// Runs `body` on a thread of its own (see above) and returns what it returns. An async body (one that also awaits
    /// transports or polls with `Patience.eventually`) runs there too, between its suspensions: what it does
    /// synchronously — starting a testnet, running curl, reading logs — blocks that thread, never a cooperative one.
    public static func run<T>(_ body: () async throws -> T) async throws -> T {
        let executor = QueueTaskExecutor(DispatchQueue(label: "trellis-test-own-thread"))
        return try await withTaskExecutorPreference(executor) { try await body() }
    }
}

/// A task executor that runs every job on one serial Dispatch queue.
final class QueueTaskExecutor: TaskExecutor, @unchecked Sendable {
    let queue: DispatchQueue

    init(_ queue: DispatchQueue) { self.queue = queue }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
