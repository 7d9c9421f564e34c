// TransactionBatchTests.swift — POST /v1/txs: the binary batch codec (strict, limited) and the route's answers.
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode
@testable import TrellisAPI

private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
    let data = Data(buffer.readableBytesView)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(String(decoding: data, as: UTF8.self))")
}

private func code(_ buffer: ByteBuffer) throws -> String? { ((try object(buffer))["error"] as? [String: Any])?["code"] as? String }

private let binary: HTTPFields = [.contentType: "application/octet-stream"]

@Suite struct TransactionBatchCodecTests {
    @Test func roundTripsAndFixesTheLayout() throws {
        let entries: [[UInt8]] = [[1, 2, 3], [], [9]]
        let body = TransactionBatch.encode(entries)
        #expect(body == [0, 0, 0, 3, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 1, 9])
        #expect(try TransactionBatch.decode(body) == entries)
    }

    @Test func refusesEverythingButExactlyOneBatch() {
        let good = TransactionBatch.encode([[1, 2, 3]])
        #expect(throws: CodecError.self) { try TransactionBatch.decode([]) }
        #expect(throws: CodecError.self) { try TransactionBatch.decode([0, 0, 0, 0]) }                      // empty batch
        #expect(throws: CodecError.self) { try TransactionBatch.decode(good + [0]) }                          // trailing byte
        for cut in 0..<good.count { #expect(throws: CodecError.self) { try TransactionBatch.decode(Array(good[..<cut])) } }
        var tooMany = CanonicalEncoder()
        tooMany.encode(UInt32(TransactionBatch.maxTransactions + 1))
        #expect(throws: CodecError.self) { try TransactionBatch.decode(tooMany.bytes) }
        var tooLong = CanonicalEncoder()
        tooLong.encode(UInt32(1))
        tooLong.encode(UInt32(Limits.maxTransactionBytes + 1))
        #expect(throws: CodecError.self) { try TransactionBatch.decode(tooLong.bytes + [UInt8](repeating: 0, count: Limits.maxTransactionBytes + 1)) }
    }
}

@Suite struct TransactionBatchRouteTests {
    private func app(_ service: FakeNodeService, maxBody: Int = 64 * 1024) -> some ApplicationProtocol {
        Application(router: APIServer.router(service: service, configuration: APIConfiguration(maxBodyBytes: maxBody, commitWaitMilliseconds: 100, readPolicy: .open)))
    }

    @Test func admitsEachEntryAndAnswersOneResultPerEntry() async throws {
        let service = FakeNodeService()
        let a = service.sampleTransaction(nonce: 1), b = service.sampleTransaction(nonce: 2)
        let body = TransactionBatch.encode([a.canonicalBytes, [0x01], b.canonicalBytes, a.canonicalBytes])
        try await app(service).test(.router) { client in
            let response = try await client.execute(uri: "/v1/txs", method: .post, headers: binary, body: ByteBuffer(bytes: body))
            #expect(response.status == .ok)
            let answer = try object(response.body)
            #expect(answer["accepted"] as? Int == 2 && answer["refused"] as? Int == 2)
            let results = try #require(answer["results"] as? [[String: Any]])
            #expect(results.count == 4)
            #expect(results[0]["hash"] as? String == a.hash.hex && results[0]["status"] as? String == "pending")
            #expect((results[1]["error"] as? [String: Any])?["code"] as? String == "malformed_transaction")
            #expect(results[2]["hash"] as? String == b.hash.hex)
            #expect((results[3]["error"] as? [String: Any])?["code"] as? String == "duplicate_transaction")
            let lookup = try await client.execute(uri: "/v1/tx/\(b.hash.hex)", method: .get)
            #expect(lookup.status == .ok)
        }
    }

    @Test func badBatchesAreJSONErrors() async throws {
        let service = FakeNodeService()
        let tx = service.sampleTransaction()
        try await app(service, maxBody: 4096).test(.router) { client in
            do {
                let response = try await client.execute(uri: "/v1/txs", method: .post, body: ByteBuffer(bytes: TransactionBatch.encode([tx.canonicalBytes])))
                #expect(response.status == .unsupportedMediaType)
                #expect(try code(response.body) == "unsupported_media_type")
            }
            for bad in [[UInt8](), [0, 0, 0, 0], TransactionBatch.encode([tx.canonicalBytes]) + [7], [0, 0, 0, 1, 0, 0, 0, 9, 1]] {
                let response = try await client.execute(uri: "/v1/txs", method: .post, headers: binary, body: ByteBuffer(bytes: bad))
                #expect(response.status == .badRequest, "\(bad)")
                #expect(try code(response.body) == "malformed_body", "\(bad)")
            }
            do {
                let big = TransactionBatch.encode(Array(repeating: [UInt8](repeating: 0, count: 1000), count: 5))
                let response = try await client.execute(uri: "/v1/txs", method: .post, headers: binary, body: ByteBuffer(bytes: big))
                #expect(response.status == .contentTooLarge)
                #expect(try code(response.body) == "body_too_large")
            }
            service.full = true
            do {
                let response = try await client.execute(uri: "/v1/txs", method: .post, headers: binary, body: ByteBuffer(bytes: TransactionBatch.encode([tx.canonicalBytes])))
                #expect(response.status == .ok)
                let results = try #require(try object(response.body)["results"] as? [[String: Any]])
                #expect((results[0]["error"] as? [String: Any])?["code"] as? String == "mempool_full")
            }
        }
    }
}

@Suite struct TransactionBatchAnswerTests {
    /// The hand-written answer is byte for byte what JSONSerialization (sorted keys) wrote before it, for
    /// admissions and refusals alike, and stays valid JSON with quotes and slashes in refusal messages.
    @Test func theBatchAnswerIsTheSortedKeyJSONOfTheResults() throws {
        let h1 = SHA256.hash([1]), h2 = SHA256.hash([2])
        let overloaded = MempoolError.overloaded(pending: 4_000, limit: 3_200, retryAfterSeconds: 3)
        let results: [Result<Hash, MempoolError>] = [.success(h1), .failure(.malformed("bad \"tx\" / field \\ end")), .success(h2), .failure(.missingSignatures),
                                                     .failure(.signerBacklog(signer: "m1", pending: 1_000, limit: 1_000, retryAfterSeconds: 2)),
                                                     // a repeated refusal (written once, repeated), then one that differs only in its counts
                                                     .failure(overloaded), .failure(overloaded), .failure(.overloaded(pending: 4_001, limit: 3_200, retryAfterSeconds: 3)),
                                                     // outside printable ASCII: a control character and a non-ASCII signer (through JSONSerialization)
                                                     .failure(.malformed("tab\there")), .failure(.unknownSigner("m\u{e9}mbre"))]
        let items: [[String: Any]] = results.map { result in
            switch result {
            case .success(let hash): return ["hash": hash.hex, "status": "pending"]
            case .failure(let error):
                guard let seconds = error.retryAfterSeconds else { return ["error": ["code": error.code, "message": error.description]] }
                return ["error": ["code": error.code, "message": error.description, "retry_after_s": seconds]]
            }
        }
        let expected = try JSONSerialization.data(withJSONObject: ["accepted": 2, "refused": 8, "results": items] as [String: Any],
                                                  options: [.sortedKeys, .withoutEscapingSlashes])
        let answer = Routes.batchAnswer(results)
        #expect(answer == String(decoding: expected, as: UTF8.self))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        #expect(parsed["accepted"] as? Int == 2)
        // Admission control's per-item refusal carries its retry hint; other refusals carry none.
        let parsedItems = try #require(parsed["results"] as? [[String: Any]])
        #expect((parsedItems[4]["error"] as? [String: Any])?["retry_after_s"] as? Int == 2)
        #expect((parsedItems[3]["error"] as? [String: Any])?["retry_after_s"] == nil)
        #expect(Routes.batchAnswer([]) == "{\"accepted\":0,\"refused\":0,\"results\":[]}")
    }
}
