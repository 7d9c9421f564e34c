// GovernanceTests.swift — proposals execute only with a quorum of distinct active governors, approvals expire,
// validator changes take effect at h+2, and governance can never lock itself out.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct GovernanceTests {
    func proposalID(_ receipt: Receipt) throws -> String {
        guard case .ok(let ids) = receipt.outcome, let id = ids.first else { throw TxRejection("test", "no proposal id in \(receipt)") }
        return id
    }

    @Test func proposalWithoutQuorumNeverTakesEffect() throws {
        let chain = try TestChain(net: TestNet(quorum: 2))
        let r = try chain.commitNext([TestNet.propose("gov1", .suspendMember(memberID: "alice"), nonce: 1)]).receipts
        let id = try proposalID(r[0])
        for _ in 0..<5 { try chain.commitNext([]) }
        #expect(try chain.engine.reader.member("alice").value?.status == .active)
        #expect(try chain.engine.reader.proposal(id).value?.status == .open)
        // The proposer approving again does not make two approvals.
        #expect(try chain.commitNext([TestNet.approve("gov1", id, nonce: 2)]).receipts[0].rejectionCode == "already_approved")
        #expect(try chain.engine.reader.member("alice").value?.status == .active)
        // A second distinct governor executes it.
        #expect(try chain.commitNext([TestNet.approve("gov2", id, nonce: 1)]).receipts[0].isOK)
        #expect(try chain.engine.reader.member("alice").value?.status == .suspended)
        let proposal = try #require(try chain.engine.reader.proposal(id).value)
        #expect(proposal.status == .executed && proposal.executedHeight == chain.engine.currentHeight)
        #expect(try chain.commitNext([TestNet.approve("gov3", id, nonce: 1)]).receipts[0].rejectionCode == "proposal_closed")
    }

    @Test func approvalsExpireWithTheProposal() throws {
        let chain = try TestChain(net: TestNet(quorum: 2, proposalTTLBlocks: 3))
        let id = try proposalID(try chain.commitNext([TestNet.propose("gov1", .suspendMember(memberID: "alice"), nonce: 1)]).receipts[0])  // height 1, open through 4
        for _ in 0..<3 { try chain.commitNext([]) }  // heights 2…4
        let late = try chain.commitNext([TestNet.approve("gov2", id, nonce: 1)]).receipts[0]  // height 5
        #expect(late.rejectionCode == "proposal_expired")
        #expect(try chain.engine.reader.member("alice").value?.status == .active)
    }

    @Test func approvalsOfGovernorsWhoLostTheRoleDoNotCount() throws {
        let chain = try TestChain(net: TestNet(quorum: 2))
        let suspendAlice = try proposalID(try chain.commitNext([TestNet.propose("gov1", .suspendMember(memberID: "alice"), nonce: 1)]).receipts[0])
        // gov1 is stripped of the governor role (gov2 + gov3).
        let demote = try proposalID(try chain.commitNext([TestNet.propose("gov2", .setRoles(memberID: "gov1", roles: [.participant]), nonce: 1)]).receipts[0])
        #expect(try chain.commitNext([TestNet.approve("gov3", demote, nonce: 1)]).receipts[0].isOK)
        // gov3's approval now joins only gov1's, which no longer counts: not executed.
        #expect(try chain.commitNext([TestNet.approve("gov3", suspendAlice, nonce: 2)]).receipts[0].isOK)
        #expect(try chain.engine.reader.member("alice").value?.status == .active)
        #expect(try chain.commitNext([TestNet.approve("gov2", suspendAlice, nonce: 2)]).receipts[0].isOK)
        #expect(try chain.engine.reader.member("alice").value?.status == .suspended)
    }

    @Test func governanceCannotDropBelowItsQuorum() throws {
        let chain = try TestChain(net: TestNet(quorum: 3))
        // The dry run at proposal time already refuses an action that would leave 2 governors for a quorum of 3.
        let revoke = try chain.commitNext([TestNet.propose("gov1", .revokeMember(memberID: "gov3"), nonce: 1)]).receipts[0]
        #expect(revoke.rejectionCode == "quorum_unreachable")
        let tooHigh = try chain.commitNext([TestNet.propose("gov1", .setParameters(Parameters(governanceQuorum: 4)), nonce: 2)]).receipts[0]
        #expect(tooHigh.rejectionCode == "quorum_unreachable")
        #expect(try chain.engine.reader.member("gov3").value?.status == .active)
    }

    @Test func validatorChangeTakesEffectTwoHeightsLater() throws {
        let chain = try TestChain(net: TestNet(quorum: 2))
        let newKey = testKey("validator5")
        chain.validatorNames.append("validator5")
        let genesisSet = try chain.engine.validatorSet(forHeight: 1)
        let add = GovernanceAction.addValidator(Validator(publicKey: newKey.publicKey, votingPower: 10, p2pAddress: "127.0.0.1:26660"))
        let id = try proposalID(try chain.commitNext([TestNet.propose("gov1", add, nonce: 1)]).receipts[0])  // height 1
        let (block2, r2, _) = try chain.commitNext([TestNet.approve("gov2", id, nonce: 1)])                    // executes at height 2
        #expect(r2[0].isOK)
        #expect(try chain.engine.validatorSet(forHeight: 3) == genesisSet)
        let after = try chain.engine.validatorSet(forHeight: 4)
        #expect(after.contains(newKey.publicKey) && after.count == 5)
        #expect(block2.header.nextValidatorSetHash == genesisSet.hash)
        let (block3, _, _) = try chain.commitNext([])
        #expect(block3.header.validatorSetHash == genesisSet.hash && block3.header.nextValidatorSetHash == after.hash)
        let (block4, _, _) = try chain.commitNext([])
        #expect(block4.header.validatorSetHash == after.hash)
        // Block 4's certificate was signed by the 5 validators of height 4 and verified against that set.
        #expect(try chain.engine.certificate(at: 4)?.signatures.count == 5)
    }

    @Test func accreditationGrantRevokeAndCreditCancellationMarker() throws {
        let chain = try TestChain(net: TestNet(quorum: 1))
        let accreditation = Accreditation(scheme: "ISO-14065", sectoralScopes: ["energy"], validFrom: 0, validTo: 2_000_000_000, active: true)
        var r = try chain.commitNext([TestNet.propose("gov1", .grantAccreditation(memberID: "verifier", accreditation: accreditation), nonce: 1),
                                      TestNet.propose("gov2", .grantAccreditation(memberID: "alice", accreditation: accreditation), nonce: 1)]).receipts
        #expect(r[0].isOK && r[1].rejectionCode == "not_a_verifier")
        #expect(try chain.engine.reader.member("verifier").value?.accreditations == [accreditation])
        r = try chain.commitNext([TestNet.propose("gov1", .revokeAccreditation(memberID: "verifier", scheme: "ISO-14065"), nonce: 2),
                                  TestNet.propose("gov3", .approveCreditCancellation(blockID: "blk-1", reason: "double counted"), nonce: 1)]).receipts
        #expect(r.allSatisfy { $0.isOK })
        #expect(try chain.engine.reader.member("verifier").value?.accreditations.first?.active == false)
        let marker = try chain.engine.reader.query(CreditCancellationApproval.self, LedgerKeys.creditCancellationApproval("blk-1"))
        #expect(marker.value?.reason == "double counted" && marker.value?.approvedHeight == 2)
        // GreenAssets consumes it exactly once.
        let overlay = StateOverlay(base: CommittedState(store: chain.store))
        #expect(try GovernanceContract.consumeCreditCancellation(blockID: "blk-1", in: overlay).proposalID == marker.value?.proposalID)
        #expect(throws: TxRejection.self) { try GovernanceContract.consumeCreditCancellation(blockID: "blk-1", in: overlay) }
        #expect(throws: TxRejection.self) { try GovernanceContract.consumeCreditCancellation(blockID: "blk-2", in: overlay) }
    }

    @Test func observersAreAddedAndRemovedByGovernanceOnly() throws {
        let chain = try TestChain(net: TestNet(quorum: 1))
        let node = testKey("auditor-node").publicKey
        var r = try chain.commitNext([TestNet.propose("gov1", .addObserver(publicKey: node, name: "auditor full node"), nonce: 1),
                                      TestNet.propose("gov2", .removeObserver(publicKey: testKey("nobody").publicKey), nonce: 1),
                                      TestNet.propose("gov3", .addObserver(publicKey: node, name: ""), nonce: 1)]).receipts
        #expect(r[0].isOK && r[1].rejectionCode == "observer_not_found" && r[2].rejectionCode == "invalid_observer", "\(r)")
        #expect(try chain.engine.reader.query(String.self, LedgerKeys.observer(node)).value == "auditor full node")
        r = try chain.commitNext([TestNet.propose("gov1", .addObserver(publicKey: node, name: "again"), nonce: 2)]).receipts
        #expect(r[0].rejectionCode == "observer_exists")
        r = try chain.commitNext([TestNet.propose("gov1", .removeObserver(publicKey: node), nonce: 3)]).receipts
        #expect(r[0].isOK)
        #expect(try chain.engine.reader.query(String.self, LedgerKeys.observer(node)).value == nil)
        // JSON form, strict.
        let spec = try #require(ContractRegistry.standard.spec(for: GovernanceContract.propose))
        let json = #"{"action": {"type": "observer.add", "public_key": "\#(node.hex)", "name": "auditor full node"}, "summary": "watch"}"#
        let payload = try CanonicalDecoder.decode(ProposePayload.self, from: try spec.canonicalPayload(fromJSON: Data(json.utf8)))
        #expect(payload.action == .addObserver(publicKey: node, name: "auditor full node"))
        #expect(throws: TxRejection.self) { try spec.canonicalPayload(fromJSON: Data(#"{"action": {"type": "observer.remove"}}"#.utf8)) }
    }

    @Test func addMemberAndKeyUniqueness() throws {
        let chain = try TestChain(net: TestNet(quorum: 1))
        let carol = Member(memberID: "carol", legalName: "Carol Ltd", registrationNo: "R", publicKeys: [testKey("carol").publicKey], roles: [.financier])
        let dupKey = Member(memberID: "dave", legalName: "Dave Ltd", registrationNo: "R", publicKeys: [testKey("alice").publicKey], roles: [.financier])
        let r = try chain.commitNext([TestNet.propose("gov1", .addMember(carol), nonce: 1), TestNet.propose("gov2", .addMember(dupKey), nonce: 1),
                                      TestNet.propose("gov3", .addMember(carol), nonce: 1)]).receipts
        #expect(r[0].isOK && r[1].rejectionCode == "key_in_use" && r[2].rejectionCode == "member_exists")
        #expect(try chain.commitNext([TestNet.rotate("carol", add: "carol-2", nonce: 1)]).receipts[0].isOK)
    }

    @Test func governancePayloadJSONIsStrictAndRoundTrips() throws {
        let spec = try #require(ContractRegistry.standard.spec(for: GovernanceContract.propose))
        let json = #"{"action": {"type": "validator.add", "public_key": "\#(testKey("v9").publicKey.hex)", "voting_power": 5, "p2p_address": "10.0.0.9:26656"}, "summary": "grow"}"#
        let bytes = try spec.canonicalPayload(fromJSON: Data(json.utf8))
        let payload = try CanonicalDecoder.decode(ProposePayload.self, from: bytes)
        #expect(payload.action == .addValidator(Validator(publicKey: testKey("v9").publicKey, votingPower: 5, p2pAddress: "10.0.0.9:26656")))
        let back = try spec.jsonPayload(fromCanonical: bytes)
        #expect(try spec.canonicalPayload(fromJSON: back) == bytes)
        let unknownField = #"{"action": {"type": "member.suspend", "member_id": "alice", "extra": 1}}"#
        #expect(throws: TxRejection.self) { try spec.canonicalPayload(fromJSON: Data(unknownField.utf8)) }
        let badType = #"{"action": {"type": "member.delete", "member_id": "alice"}}"#
        #expect(throws: TxRejection.self) { try spec.canonicalPayload(fromJSON: Data(badType.utf8)) }
    }

    /// Every string an action carries has the canonical form's length limit in its JSON form too: the API refuses it
    /// with the field's reason instead of signing bytes that every node's mempool refuses (fuzz target api_json).
    @Test func actionStringsLongerThanTheCanonicalLimitAreRefusedFromJSON() throws {
        let spec = try #require(ContractRegistry.standard.spec(for: GovernanceContract.propose))
        let long = String(repeating: "x", count: Limits.maxNameBytes + 1)
        let key = testKey("v9").publicKey.hex
        let cases: [(String, String)] = [
            (#"{"type": "upgrade.schedule", "version": 9, "activation_height": 100, "description": "\#(long)"}"#, "description_too_long"),
            (#"{"type": "credits.approve_cancel", "block_id": "blk-1", "reason": "\#(long)"}"#, "reason_too_long"),
            (#"{"type": "verifier.revoke", "member_id": "alice", "scheme": "\#(long)"}"#, "invalid_scheme"),
            (#"{"type": "validator.add", "public_key": "\#(key)", "voting_power": 5, "p2p_address": "h:\#(String(repeating: "0", count: Limits.maxNameBytes))1"}"#, "invalid_validator"),
        ]
        for (action, code) in cases {
            let json = Data(#"{"action": \#(action)}"#.utf8)
            let error = #expect(throws: TxRejection.self) { try spec.canonicalPayload(fromJSON: json) }
            #expect(error?.code == code, "\(action.prefix(60)): \(String(describing: error))")
        }
        // At the limit, each is accepted and its bytes decode as the mempool decodes them.
        let atLimit = String(repeating: "x", count: Limits.maxNameBytes)
        let ok = #"{"action": {"type": "upgrade.schedule", "version": 9, "activation_height": 100, "description": "\#(atLimit)"}}"#
        #expect((try? spec.decodePayload(try spec.canonicalPayload(fromJSON: Data(ok.utf8)))) != nil)
    }
}
