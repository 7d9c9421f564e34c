// NodeClientRefusalNoteTests.swift — when a node refuses a signed request's signature (401 `invalid_signature`),
// TrellisAudit's node client and light provider say which public key signed and as whom, as the CLI does
// (`APIClientCredentials.refusedKeyNote`, the one helper both use); any other refusal, or an unsigned request, gets
// no such note.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

@Suite struct NodeClientRefusalNoteTests {
    static let refusedSignature = #"{"error":{"code":"invalid_signature","message":"the signature does not verify"}}"#

    /// A stub node: `member_key/<hex of key>` answers `member` (or null), every block and state read answers
    /// `status` with `body`.
    func withStub(key: SigningKey, member: String?, status: Int, body: String, _ check: (URL) throws -> Void) throws {
        let memberPath = "/v1/state/member_key%2F" + key.publicKey.hex
        let value = member.map { "\"" + Hex.encode($0.canonicalBytes) + "\"" } ?? "null"
        let server = try StubHTTPServer { path in
            let bare = String(path.split(separator: "?", maxSplits: 1).first ?? "")
            if bare == memberPath { return StubHTTPServer.response(200, #"{"key":"member_key/x","value_hex":\#(value)}"#) }
            if bare.hasPrefix("/v1/blocks/") || bare.hasPrefix("/v1/state/") || bare == "/v1/status" { return StubHTTPServer.response(status, body) }
            return StubHTTPServer.response(404, #"{"error":{"code":"not_found","message":"no such route"}}"#)
        }
        defer { server.stop() }
        try check(server.baseURL)
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "(no error)" } catch let error as AuditError { return error.description } catch { return "not an AuditError: \(error)" }
    }

    @Test func aMemberKeyTheNodeRefusesIsNamedWithItsMember() throws {
        let key = auditKey("rotated-out")
        try withStub(key: key, member: "auditor1", status: 401, body: Self.refusedSignature) { url in
            let client = NodeClient(baseURL: url, genesis: try AuditTestChain.makeGenesis())
            try client.sign(with: key)
            #expect(client.credentials?.member == "auditor1")
            let error = message { _ = try client.committedBlock(atHeight: 1) }
            let expected = try #require(client.credentials?.refusedKeyNote(status: 401, code: "invalid_signature"))
            #expect(error.hasSuffix("\n" + expected), "\(error)")
            #expect(error.contains("invalid_signature: the signature does not verify"), "\(error)")
            #expect(error.contains("public key \(key.publicKey.hex)) is registered to auditor1 but is not among auditor1's active keys on chain"), "\(error)")
            #expect(!error.contains("--signer"), "the audit client has no --signer: \(error)")
            // The light provider's signed state read says the same.
            let provider = NodeLightProvider(baseURL: url, credentials: client.credentials)
            let state = message { _ = try provider.provedState(Array("ab".utf8), atHeight: 1) }
            #expect(state.hasSuffix("\n" + expected), "\(state)")
        }
    }

    @Test func aKeyNoMemberHoldsIsNamedAsSigningForTheOperator() throws {
        let key = auditKey("stranger")
        try withStub(key: key, member: nil, status: 401, body: Self.refusedSignature) { url in
            let client = NodeClient(baseURL: url, genesis: try AuditTestChain.makeGenesis())
            try client.sign(with: key)
            #expect(client.credentials?.member == APIRequestSignature.operatorMember)
            let error = message { _ = try client.latestHeight() }
            #expect(error.contains("\nnote: the key given (public key \(key.publicKey.hex)) is not registered to any member of chain"), "\(error)")
            #expect(error.contains("so it signed as \(APIRequestSignature.operatorMember)"), "\(error)")
        }
    }

    @Test func otherRefusalsAndUnsignedRequestsGetNoNote() throws {
        let key = auditKey("auditor1")
        let others = [
            (401, #"{"error":{"code":"stale_timestamp","message":"too old"}}"#),
            (403, #"{"error":{"code":"forbidden","message":"needs read_all"}}"#),
            (401, "not json"),
        ]
        for (status, body) in others {
            try withStub(key: key, member: "auditor1", status: status, body: body) { url in
                let client = NodeClient(baseURL: url, genesis: try AuditTestChain.makeGenesis())
                try client.sign(with: key)
                let error = message { _ = try client.latestHeight() }
                #expect(error.contains("HTTP \(status)") && !error.contains("note:"), "\(status) \(body): \(error)")
            }
        }
        // Unsigned: nothing signed, so there is no key to name.
        try withStub(key: key, member: "auditor1", status: 401, body: Self.refusedSignature) { url in
            let client = NodeClient(baseURL: url, genesis: try AuditTestChain.makeGenesis())
            let error = message { _ = try client.latestHeight() }
            #expect(error.contains("HTTP 401") && !error.contains("note:"), "\(error)")
        }
        // The helper itself: only 401 invalid_signature.
        let credentials = APIClientCredentials(key: key, member: "auditor1", chainID: "c")
        #expect(credentials.refusedKeyNote(status: 403, code: "invalid_signature") == nil)
        #expect(credentials.refusedKeyNote(status: 401, code: nil) == nil)
        #expect(credentials.refusedKeyNote(status: 401, code: "invalid_signature")?.hasPrefix("note: the key given (public key \(key.publicKey.hex))") == true)
    }
}
