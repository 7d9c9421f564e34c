// NodeLifecycle.swift — how `trellis node start` runs and stops. swift-service-lifecycle's `ServiceGroup` runs the
// node and the API; the first SIGTERM or SIGINT starts a graceful shutdown in reverse order — the API stops taking
// connections and ends its event streams, then the node finishes its consensus step, closes peer connections and
// flushes RocksDB — and the process exits 0. A second signal forces an exit at once (status 128 + the signal): no
// worse than a crash or kill -9, which the node is built to survive (synced blocks, signing guard, consensus WAL).
import Foundation
import Logging
import ServiceLifecycle
import TrellisNode
import UnixSignals

/// The node as a service of the group: already started (so start-up errors are reported before anything runs),
/// stopped when the group shuts down — after the API, which is listed after it.
struct NodeRunService: Service {
    let node: Node
    let logger: Logger

    func run() async throws {
        // Returns when the group's graceful shutdown reaches this service; throws if the group is cancelled instead.
        try? await gracefulShutdown()
        logger.info("stopping: finishing the consensus step, closing peer connections, flushing the store")
        await node.shutdown()
        logger.info("node stopped")
    }
}

/// What a termination signal does: the first asks for a graceful shutdown, any further one forces an exit.
struct ShutdownSignalPolicy: Sendable {
    enum Action: Equatable, Sendable {
        case shutDownGracefully
        /// Exit now with this status (128 + the signal number, as a shell reports death by that signal).
        case forceExit(status: Int32)
    }

    private(set) var signalsReceived = 0

    mutating func receive(_ signal: Int32) -> Action {
        signalsReceived += 1
        return signalsReceived == 1 ? .shutDownGracefully : .forceExit(status: 128 + signal)
    }
}

enum NodeLifecycle {
    /// Longest the graceful shutdown may take before the group cancels what is left (a `wait=commit` request ends
    /// at once on cancellation; an event stream ends at the start of the shutdown).
    static let maximumGracefulShutdown: Duration = .seconds(30)
    static let maximumCancellation: Duration = .seconds(10)

    /// Runs `node` (started) and `api` until a signal stops them. Throws what the API's run throws (e.g. its address
    /// in use); returns normally after a graceful shutdown.
    static func run(node: Node, api: some Service, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: NodeRunService(node: node, logger: logger)),
                       .init(service: api, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = maximumGracefulShutdown
        configuration.maximumCancellationDuration = maximumCancellation
        let group = ServiceGroup(configuration: configuration)
        // The group traps no signal itself (its graceful and cancellation sets may not overlap): one watcher traps
        // both and applies the policy, so the same signal sent twice forces the exit.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var policy = ShutdownSignalPolicy()
                for await signal in signals {
                    switch policy.receive(signal.rawValue) {
                    case .shutDownGracefully:
                        logger.notice("signal received: shutting down gracefully (send it again to force an exit)", metadata: ["signal": "\(signal)"])
                        await group.triggerGracefulShutdown()
                    case .forceExit(let status):
                        logger.critical("second signal: exiting at once without a graceful shutdown", metadata: ["signal": "\(signal)", "status": "\(status)"])
                        _exit(status)
                    }
                }
            }
            // The group ends first (graceful shutdown done, or the API failed); the watcher is then cancelled.
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
    }
}
