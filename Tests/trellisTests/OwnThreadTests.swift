// OwnThreadTests.swift — a blocking body run with `OwnThread.run` holds no cooperative thread: more blocked bodies
// than the machine has cores at once, each waiting for a signal that only an ordinary async task (which needs a
// cooperative thread) can send. Were the bodies on the cooperative pool, the signaller could not run and every
// body would give up after its budget; on threads of their own all are released.
import Dispatch
import Foundation
import Testing
import TrellisTesting

@Suite struct OwnThreadTests {
    @Test func blockedBodiesLeaveTheCooperativePoolFree() async throws {
        try await expectBlockedBodiesReleased(awaitingFirst: false)
    }

    /// An async body (the end-to-end tests that await transports and polls) blocks after an `await` on its own thread
    /// too: the executor preference holds across its suspensions.
    @Test func asyncBodiesBlockedAfterAnAwaitLeaveTheCooperativePoolFree() async throws {
        try await expectBlockedBodiesReleased(awaitingFirst: true)
    }

    /// More bodies than cores block until a signaller on the cooperative pool releases them (`awaitingFirst`: each
    /// body suspends once before it blocks).
    private func expectBlockedBodiesReleased(awaitingFirst: Bool) async throws {
        let bodies = ProcessInfo.processInfo.activeProcessorCount + 2
        let release = DispatchSemaphore(value: 0)
        let released = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<bodies {
                group.addTask {
                    try await OwnThread.run {
                        if awaitingFirst { try await Task.sleep(nanoseconds: 1_000_000) }
                        // Blocks this thread until the signaller runs (a generous budget: only a starved pool misses it).
                        return release.wait(timeout: .now() + Patience.minimumSeconds) == .success
                    }
                }
            }
            // The signaller: plain async code on the cooperative pool, started after every body is blocking or queued.
            group.addTask {
                try await Task.sleep(nanoseconds: 200_000_000)
                for _ in 0..<bodies { release.signal() }
                return true
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(released == bodies + 1, "\(bodies + 1 - released) blocked bodies were never released: they starved the cooperative pool")
    }

    @Test func theBodysValueAndErrorComeBack() async throws {
        struct Refused: Error, Equatable {}
        #expect(try await OwnThread.run { 6 * 7 } == 42)
        await #expect(throws: Refused()) { try await OwnThread.run { throw Refused() } }
    }
}
