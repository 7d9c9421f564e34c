// ExecutorDefenceTests.swift — defence in depth (issue 14): a contract error that is neither a rule's rejection nor
// unreadable state rejects its transaction alone, with code `internal` and the same receipt on every node; the block
// goes on and the failed transaction's writes are dropped.
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// A contract with one kind whose behaviour the payload's cert id selects: "throw" throws an unanticipated error
/// (with a pointer-like text that must not reach the receipt), "write-then-throw" writes first, "many" returns more
/// created ids than a receipt may list, anything else succeeds.
struct FaultyContract: Contract {
    struct Unanticipated: Error, CustomStringConvertible {
        let address = "0x00007f3a9c0012d0"
        var description: String { "unanticipated failure at \(address)" }
    }

    static let kind = "test.faulty"
    static let marker = StateKey.make("faulty", "written")

    var name: String { "faulty" }
    var kinds: [KindSpec] { [KindSpec(Self.kind, payload: CertificateRefPayload.self, signerRoles: [], summary: "test only")] }

    func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        let p = try AssetState.payload(payload, CertificateRefPayload.self, kind: kind)
        switch p.certID {
        case "throw": throw Unanticipated()
        case "write-then-throw":
            state.put(Self.marker, [1])
            throw Unanticipated()
        case "many": return (0...Limits.maxListCount).map { "id-\($0)" }
        default:
            state.put(Self.marker, [2])
            return [p.certID]
        }
    }
}

@Suite struct ExecutorDefenceTests {
    static let registry = ContractRegistry([MembershipContract(), GovernanceContract(), ReceivablesContract(), GreenAssetsContract(), FaultyContract()])

    func faulty(_ selector: String, nonce: UInt64) -> Transaction {
        TestNet.tx("alice", FaultyContract.kind, CertificateRefPayload(certID: selector), nonce: nonce)
    }

    @Test func anUnanticipatedContractErrorRejectsOneTransactionWithInternalAndTheBlockGoesOn() throws {
        let block = [faulty("throw", nonce: 1), TestNet.rotate("bob", add: "bob-2", nonce: 1), faulty("write-then-throw", nonce: 2),
                     faulty("many", nonce: 3), faulty("fine", nonce: 4)]
        let a = try TestChain(net: TestNet(), registry: Self.registry)
        let b = try TestChain(net: TestNet(), registry: Self.registry)
        let (built, receipts, dropped) = try a.commitNext(block)
        #expect(dropped.isEmpty)
        #expect(receipts.count == 5)
        for i in [0, 2, 3] {
            guard case .rejected(let code, let message) = receipts[i].outcome else { Issue.record("receipt \(i) is \(receipts[i].outcome)"); continue }
            #expect(code == "internal")
            #expect(receipts[i].nonceConsumed)
            #expect(!message.contains("0x") && !message.contains("Unanticipated"), "the message must not carry the error's text: \(message)")
        }
        #expect(receipts[1].isOK && receipts[4].isOK)
        // The failed transactions' writes were dropped; the later success wrote its own.
        #expect(try a.engine.state(FaultyContract.marker).value == [2])
        #expect(try a.engine.reader.nonce(of: "alice").value == 4)
        // Another node validates the same block to the same state root and receipts.
        try b.commit(built)
        #expect(b.engine.stateRoot == a.engine.stateRoot)
        for (tx, receipt) in zip(built.transactions, receipts) {
            #expect(try b.engine.receipt(tx.hash)?.receipt.canonicalBytes == receipt.canonicalBytes)
        }
    }

    /// A failed transaction's writes are undone to what the block held before it: a key an earlier transaction of the
    /// block wrote keeps that value, a key nobody wrote stays absent.
    @Test func aFailedTransactionsWritesAreUndoneToTheBlocksValue() throws {
        let a = try TestChain(net: TestNet(), registry: Self.registry)
        let (_, first, _) = try a.commitNext([faulty("write-then-throw", nonce: 1)])
        #expect(first.map(\.rejectionCode) == ["internal"])
        #expect(try a.engine.state(FaultyContract.marker).value == nil)
        let (_, second, _) = try a.commitNext([faulty("fine", nonce: 2), faulty("write-then-throw", nonce: 3)])
        #expect(second.map(\.rejectionCode) == [nil, "internal"])
        #expect(try a.engine.state(FaultyContract.marker).value == [2])
    }
}
