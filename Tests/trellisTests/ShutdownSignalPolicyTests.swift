// ShutdownSignalPolicyTests.swift — the first SIGTERM/SIGINT asks for a graceful shutdown, every later one forces
// an exit with 128 + the signal (what `trellis node start` does with them: NodeLifecycle.swift).
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import trellis

@Suite struct ShutdownSignalPolicyTests {
    @Test func firstSignalShutsDownGracefullyTheNextForces() {
        var policy = ShutdownSignalPolicy()
        #expect(policy.receive(SIGTERM) == .shutDownGracefully)
        #expect(policy.receive(SIGINT) == .forceExit(status: 128 + SIGINT))
        #expect(policy.receive(SIGTERM) == .forceExit(status: 128 + SIGTERM))
        #expect(policy.signalsReceived == 3)
    }

    @Test func ctrlCTwiceForcesWithTheShellsStatus() {
        var policy = ShutdownSignalPolicy()
        #expect(policy.receive(SIGINT) == .shutDownGracefully)
        #expect(policy.receive(SIGINT) == .forceExit(status: 130))
    }
}
