// ClusterLoadTests.swift — the load generator of `trellis bench cluster`: many signers as genesis members of their
// own, and a lane that sends refused transactions again before anything newer (so a signer's nonce run never gets a
// gap behind a refusal).
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
@testable import trellis

@Suite struct ClusterLoadTests {
    @Test func loadMembersAreHalfSuppliersHalfParticipants() {
        let (suppliers, participants) = ClusterSetup.loadMembers(signers: 257)
        #expect(suppliers.count == 128)
        #expect(participants.count == 129)
        #expect(Set(suppliers + participants).count == 257)
        let small = ClusterSetup.loadMembers(signers: 1)
        #expect(small.suppliers.count == 2 && small.participants.count == 2, "a supplier splits to the next one: at least two of each")
    }

    @Test func theTemplateWithLoadMembersMakesAValidGenesis() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-load-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let example = try TestnetBundle.findTemplate()
        let template = root + "/template.json"
        try ClusterSetup.writeTemplate(signers: 40, from: example, to: template)
        let plan = NodePlan(name: "node1", home: root + "/node1", p2pListen: "127.0.0.1:1", p2pAddress: "127.0.0.1:1", apiListen: "127.0.0.1:2", apiURL: "http://127.0.0.1:2")
        let (genesis, _) = try TestnetBundle.create(root: root, templatePath: template, plans: [plan])
        let exampleMembers = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: example))) as? [String: Any])?["members"] as? [Any]).count
        #expect(genesis.members.count == exampleMembers + 40)
        let supplier = try #require(genesis.members.first { $0.memberID == "load-s1" })
        #expect(supplier.roles == [.supplier])
        let participant = try #require(genesis.members.first { $0.memberID == "load-c20" })
        #expect(participant.roles == [.participant])
        // Every load member got a key file whose public key genesis registers.
        let key = try KeyFile.read(from: root + "/members/load-c20.key")
        #expect(participant.publicKeys == [key.publicKey])
    }

    @Test func aRefusedRunIsSentAgainBeforeAnythingNewer() throws {
        let signer = LoadSigner(memberID: "load-c1", key: SigningKey.generate(), nextNonce: 1,
                                assets: [.credits(id: "cblock-x", quantity: 1_000, recipients: ["load-c2"])], weight: 1)
        let queue = LoadQueue(signers: [signer], chainID: "test")
        queue.fill(to: 6, expiresAt: 100)
        let first = queue.take(4)
        #expect(first.count == 4)
        // The node admitted the first two and refused the last two for capacity.
        queue.putBack(Array(first[2...]))
        let next = queue.take(3)
        #expect(next.map(\.hash) == [first[2].hash, first[3].hash] + [next[2].hash])
        #expect(!first.map(\.hash).contains(next[2].hash))
        #expect(queue.sentCount == 5, "a transaction sent again is counted once")
        #expect(queue.available == 1)
        // Nonces stay consecutive in sending order.
        let nonces = try (first[..<2] + next).map { try Transaction.decode($0.bytes).body.nonce }
        #expect(nonces == [1, 2, 3, 4, 5])
    }
}
