// EventReasonsTests.swift — a lineage or provenance answer carries `event_reasons`: the reason each
// `certificate.reject`, `asset.freeze` or `asset.unfreeze` event's transaction gives, read from that transaction
// (first-hour pass F1: the sender of a rejected piece could not read why — GET /v1/tx answers only the signer; the
// provenance of a frozen credit block since the twenty-fourth session). Beside `result`, never in it; only for a
// caller who may read the answer; a hash named under a kind its transaction does not have, an unknown transaction
// and an empty reason add nothing.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisAPI
import TrellisLedger
import TrellisNode

@Suite struct EventReasonsTests {
    private func signed(_ service: FakeNodeService, kind: String, payload: [UInt8], signer: String, nonce: UInt64 = 1) -> TrellisLedger.Transaction {
        let body = TransactionBody(chainID: service.chainID, kind: kind, payload: payload, signer: signer, nonce: nonce, expiresAtHeight: 100)
        return TrellisLedger.Transaction.signed(body, by: [(signer, SigningKey.generate())])
    }

    private func event(_ cert: String, _ kind: String, _ hash: String, _ actor: String) -> String {
        #"{"cert_id":"\#(cert)","event":{"kind":"\#(kind)","height":4,"time":1764892800,"tx_hash":"\#(hash)","actor":"\#(actor)"}}"#
    }

    @Test func aLineageNamesTheReasonsOfItsRejectAndFreezeEventsToWhoeverMayReadIt() async throws {
        let service = FakeNodeService()
        let supplier1 = SigningKey.generate(), supplier2 = SigningKey.generate(), supplier3 = SigningKey.generate()
        service.register(Member(memberID: "supplier1", legalName: "S1", registrationNo: "1", publicKeys: [supplier1.publicKey], roles: [.supplier]))
        service.register(Member(memberID: "supplier2", legalName: "S2", registrationNo: "2", publicKeys: [supplier2.publicKey], roles: [.supplier]))
        service.register(Member(memberID: "supplier3", legalName: "S3", registrationNo: "3", publicKeys: [supplier3.publicKey], roles: [.supplier]))
        let reject = signed(service, kind: "certificate.reject", payload: CertificateRejectPayload(certID: "c1", reason: "wrong amount: 600, not 500").canonicalBytes, signer: "supplier2")
        let freeze = signed(service, kind: "asset.freeze", payload: AssetFreezePayload(assetType: .certificate, assetID: "c1", reason: "court order 12").canonicalBytes, signer: "regulator")
        let silent = signed(service, kind: "certificate.reject", payload: CertificateRejectPayload(certID: "c1", reason: "").canonicalBytes, signer: "supplier2", nonce: 2)
        let accept = signed(service, kind: "certificate.accept", payload: CertificateRefPayload(certID: "c1").canonicalBytes, signer: "supplier2", nonce: 3)
        for tx in [reject, freeze, silent, accept] { service.commitDirectly(tx) }
        let unknown = String(repeating: "ab", count: 32)
        let events = [event("c1", "certificate.reject", reject.hash.hex, "supplier2"), event("c1", "asset.freeze", freeze.hash.hex, "regulator"),
                      event("c1", "certificate.reject", silent.hash.hex, "supplier2"), event("c1", "certificate.reject", unknown, "supplier2"),
                      // Named under a kind its transaction does not have: not read as a reason.
                      event("c1", "asset.unfreeze", accept.hash.hex, "regulator"), event("c1", "certificate.accept", accept.hash.hex, "supplier2"),
                      // The same transaction twice (two pieces): once.
                      event("c2", "certificate.reject", reject.hash.hex, "supplier2")]
        let lineage = #"{"certificate":{"cert_id":"c1","holder":"supplier1","debtor":"core"},"transactions":[\#(events.joined(separator: ","))]}"#
        service.lineages["c1"] = Data(lineage.utf8)
        let clock: Int64 = 1_764_892_800
        let configuration = APIConfiguration(readPolicy: .consortium, requestSkewSeconds: 300, refusalFloorMilliseconds: 0, clock: { clock })
        let app = Application(router: APIServer.router(service: service, configuration: configuration))
        let target = "/v1/query/lineage?cert=c1"
        let holderHeaders = Self.headers(target, supplier1, "supplier1", chainID: service.chainID, timestamp: clock)
        let rejecterHeaders = Self.headers(target, supplier2, "supplier2", chainID: service.chainID, timestamp: clock)
        let otherHeaders = Self.headers(target, supplier3, "supplier3", chainID: service.chainID, timestamp: clock)
        try await app.test(.router) { client in
            // supplier1 holds the piece: it reads the lineage, and now why the piece came back and why it was frozen.
            let holder = try await client.execute(uri: target, method: .get, headers: holderHeaders)
            #expect(holder.status == .ok, "\(String(buffer: holder.body))")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(holder.body.readableBytesView)) as? [String: Any])
            let reasons = try #require(answer["event_reasons"] as? [[String: Any]], "\(answer)")
            #expect(reasons.map { $0["tx_hash"] as? String ?? "" } == [reject.hash.hex, freeze.hash.hex], "\(reasons)")
            #expect(reasons.map { $0["kind"] as? String ?? "" } == ["certificate.reject", "asset.freeze"])
            #expect(reasons.map { $0["reason"] as? String ?? "" } == ["wrong amount: 600, not 500", "court order 12"])
            // `result` is the query's answer as it was: no reason inside it (the proofs and the explorer's check cover it whole).
            let result = try #require(answer["result"] as? [String: Any])
            #expect(!String(decoding: try JSONSerialization.data(withJSONObject: result), as: UTF8.self).contains("reason"), "\(result)")
            // supplier2 signed events on the piece (the rejection): a party, it reads them too.
            let rejecter = try await client.execute(uri: target, method: .get, headers: rejecterHeaders)
            #expect(rejecter.status == .ok && String(buffer: rejecter.body).contains("wrong amount"), "\(String(buffer: rejecter.body))")
            // supplier3 is no party to this lineage: refused, and no reason leaks.
            let other = try await client.execute(uri: target, method: .get, headers: otherHeaders)
            #expect(other.status == .forbidden && !String(buffer: other.body).contains("wrong amount"), "\(String(buffer: other.body))")
        }
    }

    /// Headers signing GET `target` with `key` as `member` at `timestamp`.
    static func headers(_ target: String, _ key: SigningKey, _ member: String, chainID: String, timestamp: Int64) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in APIClientCredentials(key: key, member: member, chainID: chainID).headers(method: "GET", target: target, timestamp: timestamp) {
            fields[HTTPField.Name(name)!] = value
        }
        return fields
    }

    @Test func onlyTheKindsWithAReasonAreRead() {
        let lineage: [String: Any] = ["transactions": [
            ["cert_id": "c1", "event": ["kind": "certificate.accept", "tx_hash": "aa"]],
            ["cert_id": "c1", "event": ["kind": "asset.unfreeze", "tx_hash": "bb"]],
            ["cert_id": "c2", "event": ["kind": "asset.unfreeze", "tx_hash": "bb"]],
            ["cert_id": "c1", "event": "not an object"],
        ]]
        let found = EventReasons.events(inAnswerOf: "lineage", lineage)
        #expect(found.map(\.hash) == ["bb"] && found.map(\.kind) == ["asset.unfreeze"])
        #expect(EventReasons.events(inAnswerOf: "lineage", "not a lineage").isEmpty)
        // A provenance's events are its `transfers`; another query's answer (even of the same shape) gives none.
        let provenance: [String: Any] = ["transfers": [
            ["block_id": "b1", "event": ["kind": "asset.freeze", "tx_hash": "cc"]],
            ["block_id": "b1", "event": ["kind": "credits.transfer", "tx_hash": "dd"]],
        ]]
        #expect(EventReasons.events(inAnswerOf: "provenance", provenance).map(\.hash) == ["cc"])
        #expect(EventReasons.events(inAnswerOf: "provenance", lineage).isEmpty && EventReasons.events(inAnswerOf: "lineage", provenance).isEmpty)
        #expect(EventReasons.events(inAnswerOf: "credit_blocks", provenance).isEmpty && EventReasons.events(inAnswerOf: "retirements", lineage).isEmpty)
    }

    @Test func aProvenanceNamesTheFreezeReasonsOfItsBlocksToWhoeverMayReadIt() async throws {
        let service = FakeNodeService()
        let owner = SigningKey.generate(), stranger = SigningKey.generate()
        service.register(Member(memberID: "buyer1", legalName: "B1", registrationNo: "1", publicKeys: [owner.publicKey], roles: [.supplier]))
        service.register(Member(memberID: "supplier3", legalName: "S3", registrationNo: "3", publicKeys: [stranger.publicKey], roles: [.supplier]))
        let freeze = signed(service, kind: "asset.freeze", payload: AssetFreezePayload(assetType: .creditBlock, assetID: "blk-2", reason: "registry dispute 7").canonicalBytes, signer: "regulator")
        let unfreeze = signed(service, kind: "asset.unfreeze", payload: AssetFreezePayload(assetType: .creditBlock, assetID: "blk-2", reason: "dispute settled").canonicalBytes, signer: "regulator", nonce: 2)
        for tx in [freeze, unfreeze] { service.commitDirectly(tx) }
        func transfer(_ block: String, _ kind: String, _ hash: String, _ actor: String) -> String {
            #"{"block_id":"\#(block)","event":{"kind":"\#(kind)","height":5,"time":1764892800,"tx_hash":"\#(hash)","actor":"\#(actor)"}}"#
        }
        let transfers = [transfer("blk-1", "credits.transfer", String(repeating: "cd", count: 32), "proponent1"),
                         transfer("blk-2", "asset.freeze", freeze.hash.hex, "regulator"), transfer("blk-2", "asset.unfreeze", unfreeze.hash.hex, "regulator")]
        service.queryAnswers["provenance"] = Data(#"{"program_id":"CCER","serial":7,"block":{"block_id":"blk-2","owner":"buyer1"},"transfers":[\#(transfers.joined(separator: ","))]}"#.utf8)
        let clock: Int64 = 1_764_892_800
        let configuration = APIConfiguration(readPolicy: .consortium, requestSkewSeconds: 300, refusalFloorMilliseconds: 0, clock: { clock })
        let app = Application(router: APIServer.router(service: service, configuration: configuration))
        let target = "/v1/query/provenance?program=CCER&serial=7"
        let ownerHeaders = Self.headers(target, owner, "buyer1", chainID: service.chainID, timestamp: clock)
        let otherHeaders = Self.headers(target, stranger, "supplier3", chainID: service.chainID, timestamp: clock)
        try await app.test(.router) { client in
            // buyer1 owns the block: it reads the provenance, and why the block was frozen and unfrozen.
            let read = try await client.execute(uri: target, method: .get, headers: ownerHeaders)
            #expect(read.status == .ok, "\(String(buffer: read.body))")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(read.body.readableBytesView)) as? [String: Any])
            let reasons = try #require(answer["event_reasons"] as? [[String: Any]], "\(answer)")
            #expect(reasons.map { $0["tx_hash"] as? String ?? "" } == [freeze.hash.hex, unfreeze.hash.hex], "\(reasons)")
            #expect(reasons.map { $0["kind"] as? String ?? "" } == ["asset.freeze", "asset.unfreeze"])
            #expect(reasons.map { $0["reason"] as? String ?? "" } == ["registry dispute 7", "dispute settled"])
            let result = try #require(answer["result"] as? [String: Any])
            #expect(!String(decoding: try JSONSerialization.data(withJSONObject: result), as: UTF8.self).contains("reason"), "\(result)")
            // supplier3 is no party to the block: refused as before, and no reason leaks.
            let other = try await client.execute(uri: target, method: .get, headers: otherHeaders)
            #expect(other.status == .forbidden && !String(buffer: other.body).contains("dispute"), "\(String(buffer: other.body))")
        }
    }
}
