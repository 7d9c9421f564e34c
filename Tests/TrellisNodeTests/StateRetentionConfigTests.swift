// StateRetentionConfigTests.swift — `[state]` of config.toml reaches a real node's store: a home whose config says
// `archive = true` proves state at any committed height, however small `proof_history_heights` is, and the same home
// with `archive = false` refuses a height outside the window by name (what the API answers as 410 `state_pruned`).
// Until now only the store was tested with each retention; nothing read the setting from a node's config.
import Foundation
import Logging
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisTesting
@testable import TrellisNode

@Suite(.serialized) struct StateRetentionConfigTests {
    /// The window both homes write: two heights, so height 1 is outside it once the node is at height 4.
    static let windowHeights = 2
    /// Where each node is run to before it is read.
    static let runToHeight: UInt64 = 6

    /// A one-validator home whose config.toml text says `[state] proof_history_heights = windowHeights` and
    /// `archive = <archive>` (edited in the file as an operator would), started, run to `runToHeight` and shut down.
    private func nodeRun(archive: Bool) async throws -> (Node, String) {
        let home = try OneValidatorHome.make(label: "retention", chainID: "retention-1", members: [OneValidatorHome.governor]) { config in
            config.consensus.timeoutCommitMilliseconds = 50
        }
        let written = try String(contentsOfFile: home.configPath, encoding: .utf8)
        let edited = written
            .replacingOccurrences(of: #"proof_history_heights = \d+"#, with: "proof_history_heights = \(Self.windowHeights)", options: .regularExpression)
            .replacingOccurrences(of: "archive = false", with: "archive = \(archive)")
        #expect(edited.contains("proof_history_heights = \(Self.windowHeights)\narchive = \(archive)\n"), "config.toml's [state] section changed: \(written)")
        try edited.write(toFile: home.configPath, atomically: true, encoding: .utf8)
        let node = try Node(home: home, logger: Logger(label: "test"))
        try await node.start()
        let reached = await Patience.eventually(60, intervalMilliseconds: 100) { node.consensus.tip.height >= Self.runToHeight }
        await node.shutdown()
        try #require(reached, "the node never reached height \(Self.runToHeight) (at \(node.consensus.tip.height))")
        return (node, home.path)
    }

    @Test func archiveTrueInConfigKeepsEveryHeightProvable() async throws {
        let (node, dir) = try await nodeRun(archive: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(node.store.stateRetention == .archive)
        let key = LedgerKeys.member("gov")
        for height in 1...node.consensus.tip.height {
            let read = try node.state(key: key, height: height, prove: true)
            let header = try #require(try node.block(at: height)?.0.header)
            #expect(read.height == height && read.stateRoot == header.stateRoot)
            #expect(read.value != nil)
            #expect(try #require(read.proof).verify(key: key, value: read.value, root: header.stateRoot), "height \(height): the proof does not verify")
        }
    }

    @Test func archiveFalseInConfigRefusesHeightsOutsideTheWindowByName() async throws {
        let (node, dir) = try await nodeRun(archive: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(node.store.stateRetention == .window(heights: UInt64(Self.windowHeights)))
        let tip = node.consensus.tip.height
        let key = LedgerKeys.member("gov")
        // The window is served, with proofs.
        let inside = try node.state(key: key, height: tip - 1, prove: true)
        #expect(try #require(inside.proof).verify(key: key, value: inside.value, root: inside.stateRoot))
        do {
            _ = try node.state(key: key, height: 1, prove: true)
            Issue.record("height 1 was served by a node that keeps \(Self.windowHeights) heights")
        } catch {
            guard case .statePruned(let message) = error else { throw error }
            #expect(message.contains("the state at height 1 is no longer kept"), "\(message)")
            #expect(message.contains("proof_history_heights = \(Self.windowHeights)"), "\(message)")
            #expect(message.contains("ask an archive node ([state] archive = true)"), "\(message)")
        }
    }
}
