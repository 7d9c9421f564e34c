// LatestStateReadTests.swift — the node's latest-height reads that need no proof read the flat `state` column family,
// never the tree: on a real node whose state holds a few thousand keys, `status`, the validator set of a block,
// a state read and every domain query (prefix scans) look up no node of the tree (RocksChainStore counts them), and
// a proved query looks up only the paths of the keys it read. Through the tree, one prefix scan looks up every node
// (tree keys are hashed): that made `GET /v1/status` take seconds on a large state and starve admission.
import Foundation
import Logging
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisTesting
@testable import TrellisNode

@Suite(.serialized) struct LatestStateReadTests {
    /// Members in the genesis: two state keys each (record and key index), so a walk of the whole tree looks up about
    /// 2,460 nodes.
    static let memberCount = 500

    /// A one-validator node that committed a few blocks and was shut down (so no commit moves the counter while a
    /// test reads), with `memberCount` members "m0000"….
    private func committedNode() async throws -> (Node, String) {
        var members = [OneValidatorHome.governor]
        for i in 0..<Self.memberCount {
            let id = "m" + String(format: "%04d", i)
            members.append(MemberSpec(memberID: id, legalName: "Supplier \(i)", registrationNo: "S-\(i)", publicKeys: [SigningKey.generate().publicKey], roles: [.supplier]))
        }
        let home = try OneValidatorHome.make(label: "latest", chainID: "latest-reads-1", members: members) { config in
            config.consensus.timeoutCommitMilliseconds = 50
        }
        let dir = home.path
        let node = try Node(home: home, logger: Logger(label: "test"))
        try await node.start()
        let committed = await Patience.eventually(60, intervalMilliseconds: 100) { node.consensus.tip.height >= 2 }
        await node.shutdown()
        try #require(committed, "the node never reached height 2 (at \(node.consensus.tip.height))")
        return (node, dir)
    }

    /// Tree nodes `body` looked up in the node's store.
    private func lookups<T>(_ node: Node, _ body: () throws -> T) rethrows -> (count: Int, value: T) {
        let before = node.store.latestTreeNodesLookedUp
        let value = try body()
        return (node.store.latestTreeNodesLookedUp - before, value)
    }

    @Test func latestReadsWithoutProofLookUpNoTreeNode() async throws {
        let (node, dir) = try await committedNode()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tip = node.consensus.tip.height

        // The counter sees a walk: the schedule's prefix scan through the latest tree looks up every node.
        let walk = try lookups(node) { try ValidatorSchedule.set(forHeight: tip, in: node.reader.state().reader) }
        #expect(walk.count >= 2 * Self.memberCount, "a prefix scan through the tree looked up only \(walk.count) nodes")
        let liveKeys = try node.store.stateScan(prefix: []).count
        print("latest reads: one prefix scan through the tree of \(liveKeys) live keys (\(Self.memberCount) members) looked up \(walk.count) tree nodes")

        let status = try lookups(node) { try node.status() }
        #expect(status.count == 0, "GET /v1/status looked up \(status.count) tree nodes")
        #expect(status.value.rules?.activeVersion == 1)

        let set = try lookups(node) { try node.validatorSet(forHeight: tip) }
        #expect(set.count == 0, "the validator set of a block looked up \(set.count) tree nodes")
        #expect(set.value == walk.value)

        let read = try lookups(node) { try node.state(key: LedgerKeys.member("m0007"), height: nil, prove: false) }
        #expect(read.count == 0, "a latest state read looked up \(read.count) tree nodes")
        #expect(read.value.height == tip && read.value.value != nil)
        #expect(read.value.stateRoot == node.consensus.tip.stateRoot)
        // The same read at the latest height named explicitly.
        #expect(try lookups(node) { try node.state(key: LedgerKeys.member("m0007"), height: tip, prove: false) }.count == 0)

        let view = try node.reader.view(atHeight: tip)
        for (name, parameters) in [("member", ["id": "m0007"]), ("holdings", ["member": "m0007"]), ("exposure", [:]), ("supply", [:]),
                                   ("credit_blocks", ["owner": "m0007"]), ("evidence_by", ["member": "m0007"])] {
            let answer = try lookups(node) { try node.query(name, parameters: parameters, height: nil, prove: false) }
            #expect(answer.count == 0, "query \(name) looked up \(answer.count) tree nodes")
            #expect(answer.value.height == tip && answer.value.stateRoot == view.root)
            // The answer through the tree is the same.
            let throughTree = try NodeQueries.run(name, parameters: parameters, state: view.reader)
            #expect(answer.value.result == throughTree, "query \(name) answers otherwise from the flat state")
        }
    }

    @Test func aProvedLatestQueryLooksUpOnlyThePathsOfItsKeys() async throws {
        let (node, dir) = try await committedNode()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tip = node.consensus.tip.height
        let proved = try lookups(node) { try node.query("member", parameters: ["id": "m0007"], height: nil, prove: true) }
        #expect(proved.value.height == tip)
        let proof = try #require(proved.value.proofs.first)
        #expect(proved.value.proofs.count == 1 && proof.key == LedgerKeys.member("m0007") && proof.value != nil)
        #expect(proof.proof?.verify(key: proof.key, value: proof.value, root: proved.value.stateRoot) == true)
        // One path down a tree of a few thousand keys (depth about 12), not a walk of it.
        #expect(proved.count > 0 && proved.count <= 64, "a proof of one key looked up \(proved.count) tree nodes")
        print("latest reads: a proved member query looked up \(proved.count) tree nodes")
    }
}
