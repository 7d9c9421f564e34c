// APIRoutesTests.swift — the HTTP API over an in-memory node: status codes, JSON shapes and JSON errors (under the
// open read policy; who may read what: AccessTests).
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisAPI
import TrellisNode

private func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    let data = Data(buffer.readableBytesView)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(String(decoding: data, as: UTF8.self))")
}

private func errorCode(_ buffer: ByteBuffer) throws -> String? {
    ((try json(buffer))["error"] as? [String: Any])?["code"] as? String
}

private func app(_ service: FakeNodeService, maxBody: Int = 64 * 1024) -> some ApplicationProtocol {
    Application(router: APIServer.router(service: service, configuration: APIConfiguration(maxBodyBytes: maxBody, commitWaitMilliseconds: 100, readPolicy: .open)))
}

private func txBody(_ tx: TrellisLedger.Transaction) -> ByteBuffer {
    ByteBuffer(string: "{\"tx\":\"\(Hex.encode(tx.canonicalBytes))\"}")
}

import TrellisLedger

@Suite struct APIRoutesTests {
    @Test func submitReturnsHashThenDuplicateIsConflict() async throws {
        let service = FakeNodeService()
        let tx = service.sampleTransaction()
        try await app(service).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/tx", method: .post, body: txBody(tx))
                #expect(response.status == .accepted)
                #expect(try json(response.body)["hash"] as? String == tx.hash.hex)
            }
            do {
                let response = try await client.execute(uri: "/v1/tx", method: .post, body: txBody(tx))
                #expect(response.status == .conflict)
                #expect(try errorCode(response.body) == "duplicate_transaction")
            }
            do {
                let response = try await client.execute(uri: "/v1/tx/\(tx.hash.hex)", method: .get)
                #expect(response.status == .ok)
                #expect(try json(response.body)["status"] as? String == "pending")
            }
        }
    }

    @Test func waitForCommitReturnsHeightAndReceipt() async throws {
        let service = FakeNodeService()
        let tx = service.sampleTransaction()
        try await app(service).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/tx?wait=commit", method: .post, body: txBody(tx))
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["status"] as? String == "committed")
                #expect(body["height"] as? Int == 4)
                #expect((body["receipt"] as? [String: Any])?["created"] as? [String] == ["cert-1"])
                #expect((body["transaction"] as? [String: Any])?["payload"] as? [String: String] == ["note": "fake"])
            }
            do {
                let response = try await client.execute(uri: "/v1/tx/\(tx.hash.hex)", method: .get)
                #expect(try json(response.body)["height"] as? Int == 4)
            }
        }
    }

    /// A committed transaction's answer proves its outcome: the canonical receipt and its RFC 9162 path to the
    /// block's receipts_root (what the explorer checks against the certified header).
    @Test func aCommittedTransactionCarriesItsReceiptAndItsPathToTheReceiptsRoot() async throws {
        let service = FakeNodeService()
        let tx = service.sampleTransaction()
        let others = (1...4).map { Receipt(txHash: SHA256.hash([UInt8($0)]), index: UInt32($0), nonceConsumed: true, outcome: .rejected(code: "bad_nonce", message: "x")) }
        service.neighbourReceipts[4] = others
        try await app(service).test(.router) { client in
            _ = try await client.execute(uri: "/v1/tx?wait=commit", method: .post, body: txBody(tx))
            let body = try json(try await client.execute(uri: "/v1/tx/\(tx.hash.hex)", method: .get).body)
            let receiptHex = try #require(body["receipt_hex"] as? String, "\(body)")
            let receipt = try CanonicalDecoder.decode(Receipt.self, from: try Hex.decode(receiptHex))
            #expect(receipt.txHash == tx.hash && receipt.index == 0 && receipt.outcome == .ok(createdIDs: ["cert-1"]))
            let path = try #require(body["receipt_path"] as? [String]).map { try Hash(hex: $0) }
            let all = [receipt] + others
            #expect(path.count == 3, "5 leaves: a path of 3")
            #expect(MerkleTree.verify(leaf: receipt.hash.bytes, proof: MerkleProof(leafIndex: 0, treeSize: 5, path: path), root: Receipt.root(all)))
            #expect(!MerkleTree.verify(leaf: others[0].hash.bytes, proof: MerkleProof(leafIndex: 0, treeSize: 5, path: path), root: Receipt.root(all)))
        }
        // A service that cannot list the block's receipts sends none (and the explorer says the receipt is unchecked).
        let bare = FakeNodeService()
        let other = bare.sampleTransaction()
        try await app(bare).test(.router) { client in
            _ = try await client.execute(uri: "/v1/tx?wait=commit", method: .post, body: txBody(other))
            bare.servesReceipts = false
            let body = try json(try await client.execute(uri: "/v1/tx/\(other.hash.hex)", method: .get).body)
            #expect(body["status"] as? String == "committed" && body["receipt_hex"] == nil && body["receipt_path"] == nil, "\(body)")
        }
    }

    @Test func badSubmissionsAreJSONErrors() async throws {
        let service = FakeNodeService()
        try await app(service, maxBody: 2048).test(.router) { client in
            for (body, code) in [("not json", "malformed_body"), ("{\"tx\": 5}", "malformed_body"), ("{\"tx\": \"zz\"}", "malformed_body"), ("{\"tx\": \"0102\"}", "malformed_transaction")] {
                do {
                let response = try await client.execute(uri: "/v1/tx", method: .post, body: ByteBuffer(string: body))
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(try errorCode(response.body) == code, "\(body)")
                }
            }
            do {
                let response = try await client.execute(uri: "/v1/tx", method: .post, body: ByteBuffer(string: "{\"tx\":\"" + String(repeating: "00", count: 4096) + "\"}"))
                #expect(response.status == .contentTooLarge)
                #expect(try errorCode(response.body) == "body_too_large")
            }
            service.full = true
            do {
                let response = try await client.execute(uri: "/v1/tx", method: .post, body: txBody(service.sampleTransaction()))
                #expect(response.status == .serviceUnavailable)
                #expect(try errorCode(response.body) == "mempool_full")
            }
            // Still serving after all of that.
            do {
                let response = try await client.execute(uri: "/health", method: .get); #expect(response.status == .ok) }
        }
    }

    @Test func anOverloadedNodeAnswers429WithRetryAfter() async throws {
        let service = FakeNodeService()
        try await app(service).test(.router) { client in
            for refusal in [MempoolError.overloaded(pending: 10_001, limit: 10_000, retryAfterSeconds: 3),
                            .signerBacklog(signer: "alice", pending: 1_000, limit: 1_000, retryAfterSeconds: 3)] {
                service.refusal = refusal
                let single = try await client.execute(uri: "/v1/tx", method: .post, body: txBody(service.sampleTransaction()))
                let batch = try await client.execute(uri: "/v1/txs", method: .post, headers: [.contentType: "application/octet-stream"],
                                                     body: ByteBuffer(bytes: TransactionBatch.encode([service.sampleTransaction().canonicalBytes])))
                for response in [single, batch] {
                    #expect(response.status == .tooManyRequests)
                    #expect(response.headers[.retryAfter] == "3")
                    #expect(try errorCode(response.body) == refusal.code)
                    let message = ((try json(response.body))["error"] as? [String: Any])?["message"] as? String
                    #expect(message?.contains("retry in 3 s") == true)
                }
            }
            service.refusal = nil
            let accepted = try await client.execute(uri: "/v1/tx", method: .post, body: txBody(service.sampleTransaction()))
            #expect(accepted.status == .accepted)
            #expect(accepted.headers[.retryAfter] == nil)
        }
    }

    @Test func aHaltedNodeIsUnhealthy() async throws {
        let service = FakeNodeService()
        service.halt = "persist failed: cannot persist the signing state: disk full"
        let app = Application(router: APIServer.router(service: service, configuration: APIConfiguration(readPolicy: .open)))
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .serviceUnavailable)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String])
            #expect(json == ["status": "halted", "reason": "persist failed: cannot persist the signing state: disk full"])
        }
    }

    @Test func rawOctetStreamBodiesAreAccepted() async throws {
        let service = FakeNodeService()
        let tx = service.sampleTransaction()
        try await app(service).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/tx", method: .post, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: tx.canonicalBytes))
                #expect(response.status == .accepted)
            }
        }
    }

    @Test func transactionLookupErrors() async throws {
        try await app(FakeNodeService()).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/tx/nothex", method: .get)
                #expect(response.status == .badRequest)
            }
            do {
                let response = try await client.execute(uri: "/v1/tx/\(SHA256.hash([1]).hex)", method: .get)
                #expect(response.status == .notFound)
                #expect(try errorCode(response.body) == "not_found")
            }
        }
    }

    @Test func blocksAndStatus() async throws {
        let service = FakeNodeService()
        try await app(service).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/blocks/2", method: .get)
                #expect(response.status == .ok)
                let header = try #require(try json(response.body)["header"] as? [String: Any])
                #expect(header["state_root"] as? String == service.blocks[1].header.stateRoot.hex)
                #expect(header["hash"] as? String == service.blocks[1].hash.hex)
                #expect((try json(response.body)["certificate"] as? [String: Any])?["block_id"] as? String == service.blocks[1].hash.hex)
            }
            do {
                let response = try await client.execute(uri: "/v1/blocks/latest", method: .get)
                #expect(((try json(response.body))["header"] as? [String: Any])?["height"] as? Int == 3)
            }
            do {
                let response = try await client.execute(uri: "/v1/blocks/99", method: .get); #expect(response.status == .notFound) }
            do {
                let response = try await client.execute(uri: "/v1/blocks/-1", method: .get); #expect(response.status == .badRequest) }
            do {
                let response = try await client.execute(uri: "/v1/status", method: .get)
                let body = try json(response.body)
                #expect(body["height"] as? Int == 3)
                #expect(body["state_root"] as? String == service.blocks[2].header.stateRoot.hex)
                #expect(body["chain_id"] as? String == "api-test")
            }
        }
    }

    @Test func stateQueryEventsMetricsAndUnknownRoutes() async throws {
        try await app(FakeNodeService()).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/state/member%2Fbank?prove=true", method: .get)
                let body = try json(response.body)
                #expect(body["value_hex"] as? String == "010203")
                #expect(body["key"] as? String == "member/bank")
            }
            do {
                let response = try await client.execute(uri: "/v1/state/x?height=abc", method: .get); #expect(response.status == .badRequest) }
            do {
                let response = try await client.execute(uri: "/v1/query/echo?member=bank&height=2", method: .get)
                let body = try json(response.body)
                #expect(body["height"] as? Int == 2)
                #expect(body["result"] as? [String: String] == ["member": "bank"])
            }
            do {
                let response = try await client.execute(uri: "/v1/query/nope", method: .get); #expect(response.status == .notFound) }
            do {
                let response = try await client.execute(uri: "/v1/events?from=2", method: .get)
                let text = String(buffer: response.body)
                #expect(response.headers[.contentType] == "text/event-stream")
                #expect(text.components(separatedBy: "event: block").count - 1 == 2)
                #expect(text.contains("id: 2\n") && text.contains("id: 3\n") && !text.contains("id: 1\n"))
            }
            do {
                let response = try await client.execute(uri: "/metrics", method: .get)
                #expect(String(buffer: response.body).contains("# TYPE trellis_api_request_duration_seconds histogram"))
            }
            do {
                let response = try await client.execute(uri: "/v2/nothing", method: .get)
                #expect(response.status == .notFound)
                #expect(try errorCode(response.body) == "not_found")
            }
        }
    }
}

@Suite struct GenesisRouteTests {
    @Test func genesisIsServedAsGenesisJSONThatHashesToTheChainsGenesis() async throws {
        let service = FakeNodeService()
        try await app(service).test(.router) { client in
            let none = try await client.execute(uri: "/v1/genesis", method: .get)
            #expect(none.status == .notFound)
            #expect(try errorCode(none.body) == "not_found")
        }
        let key = SigningKey.generate()
        let genesis = try GenesisDocument(
            chainID: service.chainID, genesisTime: 1_700_000_000,
            members: [MemberSpec(memberID: "gov1", legalName: "Gov One", registrationNo: "REG-1", publicKeys: [key.publicKey], roles: [.governor])],
            validators: [GenesisValidator(name: "v1", validator: Validator(publicKey: service.proposer.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1"))],
            parameters: Parameters(governanceQuorum: 1))
        service.genesis = genesis
        try await app(service).test(.router) { client in
            let response = try await client.execute(uri: "/v1/genesis", method: .get)
            #expect(response.status == .ok)
            let served = try GenesisDocument.parse(Data(response.body.readableBytesView))
            #expect(served.hash == genesis.hash)
            #expect(served.chainID == service.chainID)
        }
    }
}
