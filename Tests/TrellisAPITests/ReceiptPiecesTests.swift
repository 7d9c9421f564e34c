// ReceiptPiecesTests.swift — a committed split's receipt in the API names each new piece with its recipient and
// amount (`receipt.pieces`, derived from the payload), while the canonical receipt (`receipt_hex`) stays as hashed.
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisAPI
import TrellisLedger
import TrellisNode

@Suite struct ReceiptPiecesTests {
    private func signed(_ service: FakeNodeService, kind: String, payload: [UInt8], signer: String = "supplier1") -> TrellisLedger.Transaction {
        let body = TransactionBody(chainID: service.chainID, kind: kind, payload: payload, signer: signer, nonce: 1, expiresAtHeight: 100)
        return TrellisLedger.Transaction.signed(body, by: [(signer, SigningKey.generate())])
    }

    /// Commits `tx` with `created` through `?wait=commit` and answers (the POST's receipt, the GET's whole answer).
    private func commit(_ tx: TrellisLedger.Transaction, created: [String], on service: FakeNodeService) async throws -> ([String: Any], [String: Any]) {
        service.waitOutcome = .ok(createdIDs: created)
        let app = Application(router: APIServer.router(service: service, configuration: APIConfiguration(maxBodyBytes: 64 * 1024, commitWaitMilliseconds: 100, readPolicy: .open)))
        let (postBody, getBody) = try await app.test(.router) { client -> (Data, Data) in
            let post = try await client.execute(uri: "/v1/tx?wait=commit", method: .post, body: ByteBuffer(string: "{\"tx\":\"\(Hex.encode(tx.canonicalBytes))\"}"))
            let get = try await client.execute(uri: "/v1/tx/\(tx.hash.hex)", method: .get)
            return (Data(post.body.readableBytesView), Data(get.body.readableBytesView))
        }
        let posted = try #require(try JSONSerialization.jsonObject(with: postBody) as? [String: Any])
        let got = try #require(try JSONSerialization.jsonObject(with: getBody) as? [String: Any])
        return (try #require(posted["receipt"] as? [String: Any], "\(posted)"), got)
    }

    @Test func aCertificateSplitNamesEachNewPieceWithItsRecipientAndAmount() async throws {
        let service = FakeNodeService()
        let payload = CertificateSplitTransferPayload(certID: "cert-0", outputs: [SplitOutput(to: "supplier2", amount: 600), SplitOutput(to: "supplier1", amount: 400)])
        let tx = signed(service, kind: "certificate.split_transfer", payload: payload.canonicalBytes)
        let (receipt, answer) = try await commit(tx, created: ["cert-a", "cert-b"], on: service)
        for view in [receipt, try #require(answer["receipt"] as? [String: Any])] {
            let pieces = try #require(view["pieces"] as? [[String: Any]], "\(view)")
            #expect(pieces.count == 2)
            #expect(pieces[0]["cert_id"] as? String == "cert-a" && pieces[0]["to"] as? String == "supplier2" && pieces[0]["amount"] as? Int == 600 && pieces[0]["status"] as? String == "pending_accept", "\(pieces)")
            #expect(pieces[1]["cert_id"] as? String == "cert-b" && pieces[1]["to"] as? String == "supplier1" && pieces[1]["amount"] as? Int == 400 && pieces[1]["status"] as? String == "active", "\(pieces)")
            #expect(view["created"] as? [String] == ["cert-a", "cert-b"])
        }
        // The canonical receipt (hashed into receipts_root) is what the executor wrote: the ids only.
        let receiptHex = try #require(answer["receipt_hex"] as? String)
        let canonical = try CanonicalDecoder.decode(Receipt.self, from: try Hex.decode(receiptHex))
        #expect(canonical == Receipt(txHash: tx.hash, index: canonical.index, nonceConsumed: true, outcome: .ok(createdIDs: ["cert-a", "cert-b"])))
    }

    @Test func aCreditTransferNamesEachNewBlockWithItsRecipientAndQuantity() async throws {
        let service = FakeNodeService()
        let payload = CreditsTransferPayload(blockID: "cblock-0", outputs: [CreditsOutput(to: "bank", quantity: 30), CreditsOutput(to: "proponent", quantity: 70)])
        let tx = signed(service, kind: "credits.transfer", payload: payload.canonicalBytes, signer: "proponent")
        let (receipt, _) = try await commit(tx, created: ["cblock-a", "cblock-b"], on: service)
        let pieces = try #require(receipt["pieces"] as? [[String: Any]], "\(receipt)")
        #expect(pieces.map { $0["block_id"] as? String } == ["cblock-a", "cblock-b"])
        #expect(pieces.map { $0["to"] as? String } == ["bank", "proponent"])
        #expect(pieces.map { $0["quantity"] as? Int } == [30, 70])
    }

    /// Pieces are only shown when every created id pairs with an output, and never for other kinds.
    @Test func noPiecesWhenTheIDsDoNotPairWithOutputsOrTheKindHasNone() async throws {
        let service = FakeNodeService()
        let payload = CertificateSplitTransferPayload(certID: "cert-0", outputs: [SplitOutput(to: "supplier2", amount: 600), SplitOutput(to: "supplier1", amount: 400)])
        let split = signed(service, kind: "certificate.split_transfer", payload: payload.canonicalBytes)
        let (uneven, _) = try await commit(split, created: ["cert-a"], on: service)
        #expect(uneven["pieces"] == nil && uneven["created"] as? [String] == ["cert-a"], "\(uneven)")
        let garbled = signed(service, kind: "certificate.split_transfer", payload: [1, 2, 3])
        let (undecodable, _) = try await commit(garbled, created: ["cert-a"], on: service)
        #expect(undecodable["pieces"] == nil, "\(undecodable)")
        let (issue, _) = try await commit(service.sampleTransaction(nonce: 2), created: ["cert-1"], on: service)
        #expect(issue["pieces"] == nil, "\(issue)")
    }
}
