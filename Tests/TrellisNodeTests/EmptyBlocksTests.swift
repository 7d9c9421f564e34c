// EmptyBlocksTests.swift — `consensus.create_empty_blocks` on a real single-validator node (RocksDB home, P2P
// listener, consensus driver with real timers): with true the heights keep moving on their own; with false the node
// stays at its height until a transaction arrives, commits it, and waits again.
import Foundation
import Logging
import Testing
import TrellisTesting
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

@Suite(.serialized) struct EmptyBlocksTests {
    /// A started one-validator node whose only member is "core" (key `member`).
    private func startNode(createEmptyBlocks: Bool, member: SigningKey) async throws -> (Node, String) {
        let home = try OneValidatorHome.make(
            label: "empty", chainID: "empty-blocks-1",
            members: [MemberSpec(memberID: "core", legalName: "Core Ltd", registrationNo: "C-1", publicKeys: [member.publicKey], roles: [.coreEnterprise]),
                      OneValidatorHome.governor]) { config in
            config.consensus.timeoutCommitMilliseconds = 100
            config.consensus.createEmptyBlocks = createEmptyBlocks
        }
        let dir = home.path
        let node = try Node(home: home, logger: Logger(label: "test"))
        try await node.start()
        return (node, dir)
    }

    private func height(_ node: Node) -> UInt64 { node.consensus.tip.height }

    /// Polls every 100 ms, `seconds` × 10 times: a budget of polls, not of wall time, so a machine busy with other
    /// suites (which delays this task and the node's alike) cannot use the budget up while nothing ran.
    private func waitFor(seconds: Double, _ condition: () -> Bool) async -> Bool {
        await Patience.eventually(seconds, intervalMilliseconds: 100, condition)
    }

    @Test func withEmptyBlocksHeightsMoveWithoutTransactions() async throws {
        let (node, dir) = try await startNode(createEmptyBlocks: true, member: .generate())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(await waitFor(seconds: 15) { height(node) >= 3 }, "an idle node with empty blocks stopped at \(height(node))")
        await node.shutdown()
    }

    @Test func withoutEmptyBlocksOnlyTransactionsStartAHeight() async throws {
        let member = SigningKey.generate()
        let (node, dir) = try await startNode(createEmptyBlocks: false, member: member)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        #expect(height(node) == 0, "an idle node without empty blocks committed \(height(node)) blocks")

        let spec = try #require(ContractRegistry.standard.spec(for: "member.rotate_keys"))
        let payload = try spec.canonicalPayload(fromJSON: Data("{\"add_keys\":[\"\(SigningKey.generate().publicKey.hex)\"],\"remove_keys\":[]}".utf8))
        let body = TransactionBody(chainID: "empty-blocks-1", kind: "member.rotate_keys", payload: payload, signer: "core", nonce: 1,
                                   expiresAtHeight: 100, cosigners: [])
        let hash = try node.submitTransaction(Transaction.signed(body, by: [("core", member)]).canonicalBytes)
        #expect(await waitFor(seconds: 15) { (try? node.reader.transaction(hash)) != nil }, "the transaction was never committed (height \(height(node)))")
        let committed = height(node)
        try await Task.sleep(nanoseconds: 1_500_000_000)
        #expect(height(node) == committed, "the node kept making empty blocks after the transaction (\(committed) → \(height(node)))")
        await node.shutdown()
    }
}
