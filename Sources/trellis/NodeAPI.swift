// NodeAPI.swift — what the CLI asks a node's HTTP API before it signs: chain id and height, the member that owns
// a key, a member's last committed nonce, and committed state records (decoded with the ledger's own types).
//
// Every failure to reach the node or to understand its answer is "bad input" for the caller (exit 2, message on
// standard error), so scripts can tell it apart from a rule rejecting a transaction (exit 1).
import ArgumentParser
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

struct NodeAPI {
    /// The API base URL without a trailing slash.
    let base: String
    /// Signs every request when set (`signing(with:)`).
    var credentials: APIClientCredentials?

    init(url: String) throws {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let parsed = URL(string: trimmed), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw badInput("--node \"\(url)\" is not an http(s) URL such as http://127.0.0.1:26700")
        }
        // The API's routes are under /v1 already: a URL copied with it (…:26700/v1) would ask for /v1/v1/status.
        guard !parsed.path.hasSuffix("/v1") else {
            throw badInput("--node \"\(url)\" ends with /v1: give the API's base URL, such as http://\(parsed.host!)\(parsed.port.map { ":\($0)" } ?? "") (the node's [api] listen address)")
        }
        base = trimmed
    }

    /// How a refusal is printed: the human layout at a terminal, the node's JSON with `--json` or to a pipe (nil:
    /// the command has no `--json`, so JSON to a pipe only).
    var output: OutputOptions?
    /// The option by which the user named the member that signs (`--signer`), nil when it was looked up by the key:
    /// a refused signature's note names only what the user gave (`APIClientCredentials.refusedKeyNote`).
    var memberOption: String?

    /// GET `path` and return its JSON object. A refusal of the credentials or their scope (401/403 with the API's
    /// JSON error) prints that error on standard output as every answer is printed (`OutputOptions`) and exits 1,
    /// as a node's refusal of a transaction does (e.g. a rotated-out key); anything else but 200 with a JSON object
    /// is bad input.
    func getJSON(_ path: String) async throws -> [String: Any] {
        let url = base + path
        let result: (Int, [String: Any]?, Data)
        do { result = try await HTTP.get(url, credentials: credentials) } catch { throw badInput("\(error)") }
        if result.0 == 401 || result.0 == 403, result.1?["error"] != nil {
            OutputOptions.print(json: result.2, asJSON: output?.printsJSON ?? OutputOptions.printsJSONByDefault)
            if let note = refusedKeyNote(status: result.0, answer: result.1) { printError(note) }
            throw ExitCode(1)
        }
        guard result.0 == 200, let object = result.1 else { throw badInput("\(url) answered \(result.0)") }
        return object
    }

    /// The chain id and committed height the node reports.
    func chainAndHeight() async throws -> (chainID: String, height: UInt64) {
        let status = try await getJSON("/v1/status")
        guard let height = status["height"] as? Int, height >= 0, let chainID = status["chain_id"] as? String else {
            throw badInput("\(base)/v1/status has no height/chain_id")
        }
        return (chainID, UInt64(height))
    }

    /// The committed value under a state key, or nil when the key is absent.
    func stateValue(_ key: [UInt8]) async throws -> [UInt8]? {
        let text = String(decoding: key, as: UTF8.self)
        guard let encoded = text.addingPercentEncoding(withAllowedCharacters: Self.pathSafe) else { throw badInput("state key \(text) cannot be put in a URL") }
        let object = try await getJSON("/v1/state/" + encoded)
        guard let hex = object["value_hex"] as? String else { return nil }
        guard let bytes = try? Hex.decode(hex) else { throw badInput("\(base) answered malformed hex for state key \(text)") }
        return bytes
    }

    /// The committed record under `key` decoded as `T`, or nil when absent.
    func record<T: CanonicalDecodable>(_ type: T.Type, at key: [UInt8]) async throws -> T? {
        guard let bytes = try await stateValue(key) else { return nil }
        guard let value = try? CanonicalDecoder.decode(T.self, from: bytes) else {
            throw badInput("the node's value for \(String(decoding: key, as: UTF8.self)) does not decode as \(T.self)")
        }
        return value
    }

    /// The member that owns `key` (`member_key/<hex>` in state).
    func memberID(of key: PublicKey) async throws -> String {
        guard let id = try await record(String.self, at: LedgerKeys.memberKey(key)) else {
            throw badInput("key \(key.hex) is not registered to any member of this chain")
        }
        return id
    }

    /// This client, signing every request with `key` (docs/ACCESS.md) as `member`, or — when nil — as the member the
    /// node's state registers the key to, or as the node's operator (`@operator`) when no member holds it.
    /// `memberOption` is the option that named `member` when the user gave it (`--signer`).
    func signing(with key: SigningKey, as member: String? = nil, memberOption: String? = nil) async throws -> NodeAPI {
        var signed = self
        signed.memberOption = member == nil ? nil : memberOption
        let chainID = try await chainAndHeight().chainID
        var id = member
        if id == nil { id = try await record(String.self, at: LedgerKeys.memberKey(key.publicKey)) ?? APIRequestSignature.operatorMember }
        signed.credentials = APIClientCredentials(key: key, member: id ?? APIRequestSignature.operatorMember, chainID: chainID)
        return signed
    }

    /// `signing(with:)` for a key file given on the command line (nil: unsigned).
    func signing(keyFile path: String?) async throws -> NodeAPI {
        guard let path else { return self }
        let key: SigningKey
        do { key = try KeyFile.read(from: path) } catch { throw badInput("--key: \(error.description)") }
        return try await signing(with: key)
    }

    /// The member's last committed nonce (0 before its first transaction).
    func lastNonce(of member: String) async throws -> UInt64 {
        try await record(UInt64.self, at: LedgerKeys.nonce(member)) ?? 0
    }

    /// What the CLI adds (on standard error) to a node's 401 `invalid_signature`: which key signed, as whom
    /// (`APIClientCredentials.refusedKeyNote`, shared with TrellisAudit's node client). Nil for any other answer.
    func refusedKeyNote(status: Int, answer: [String: Any]?) -> String? {
        credentials?.refusedKeyNote(status: status, code: (answer?["error"] as? [String: Any])?["code"] as? String, memberOption: memberOption)
    }

    /// Characters left as they are in a state key path segment ('/' is encoded; the API decodes it).
    private static let pathSafe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:")
}
