// NodeClient.swift — reads a running node's HTTP API (Foundation URLSession) as a `ChainSource`.
//
// Uses GET /v1/genesis (genesis.json, hashed here), GET /v1/status (`height`), GET /v1/blocks/{h} (`canonical_hex`,
// `certificate.canonical_hex`) and GET /v1/state/{key}?key_hex=HEX&height=H&prove=true (`value_hex`, `proof_hex`;
// the key travels as hex so any bytes are exact). Everything fetched is decoded strictly; nothing is trusted:
// exports made from a node are verified like any other, and proofs are checked before they are written.
// Requests are sequential and bounded: an idle timeout, an overall deadline and a cap on the body (a node that
// drip-feeds or sends without end is cut off with an error). Text a node sends (an error message) is shown with its
// control characters escaped. After `sign(with:)` every request is signed (docs/ACCESS.md): a node under the
// consortium read policy serves full blocks and state to regulators, auditors and its operator only.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// A chain read over HTTP from a node.
public final class NodeClient: ChainSource {
    public let baseURL: URL
    public let genesis: GenesisDocument
    /// Idle timeout of a request: the longest wait for the next bytes.
    public static let timeoutSeconds: TimeInterval = 30
    /// The longest one request may take in all, whatever the node sends meanwhile.
    public static let requestDeadlineSeconds: Double = 300
    /// The largest response body read: a block of the largest size (`Limits.maxBlockBytes`) as hex with its JSON
    /// views fits.
    public static let maxResponseBytes = 4 * Limits.maxBlockBytes

    /// Signs every request when set (`sign(with:)`).
    public private(set) var credentials: APIClientCredentials?

    public init(baseURL: URL, genesis: GenesisDocument) {
        self.baseURL = baseURL
        self.genesis = genesis
    }

    /// Signs every later request with `key`: as the member the node's state registers it to, or as the node's
    /// operator (`@operator`) when no member holds it.
    public func sign(with key: SigningKey) throws(AuditError) {
        credentials = try Self.credentials(for: key, chainID: genesis.chainID, baseURL: baseURL)
    }

    /// The credentials that sign as `key`: the member the node's state registers it to, or the node's operator
    /// (`@operator`) when no member holds it.
    public static func credentials(for key: SigningKey, chainID: String, baseURL: URL) throws(AuditError) -> APIClientCredentials {
        // member_key/<hex> is readable without credentials (docs/ACCESS.md): the client learns its member id first.
        let path = "/v1/state/member_key%2F" + key.publicKey.hex
        let (data, status, url) = try get(path, baseURL: baseURL)
        guard status == 200 else { throw refusal(data, status: status, url: url) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw .source("GET \(url): response is not a JSON object") }
        var member = APIRequestSignature.operatorMember
        if let value = object["value_hex"], !(value is NSNull) {
            guard let hex = value as? String, let bytes = try? Hex.decode(hex), let id = try? CanonicalDecoder.decode(String.self, from: bytes) else {
                throw .source("GET /v1/state/member_key/\(key.publicKey.hex): the value is not a member id")
            }
            member = id
        }
        return APIClientCredentials(key: key, member: member, chainID: chainID)
    }

    /// A client of the node at `baseURL`. Without `genesis`, the node's `GET /v1/genesis` is used (the caller should
    /// show its hash: it is what the result is anchored to); with it, a node serving another genesis is refused.
    public static func connect(baseURL: URL, genesis: GenesisDocument?) throws(AuditError) -> NodeClient {
        let served = try fetchGenesis(baseURL: baseURL)
        if let genesis {
            if let served, served.hash != genesis.hash {
                throw .source("the node at \(baseURL.absoluteString) runs genesis \(served.hash.hex) (chain \(served.chainID)), not the given genesis \(genesis.hash.hex) (chain \(genesis.chainID))")
            }
            return NodeClient(baseURL: baseURL, genesis: genesis)
        }
        guard let served else { throw .source("the node at \(baseURL.absoluteString) serves no genesis (GET /v1/genesis answered 404): pass --genesis FILE") }
        return NodeClient(baseURL: baseURL, genesis: served)
    }

    /// The node's genesis document, or nil when it serves none (404).
    static func fetchGenesis(baseURL: URL) throws(AuditError) -> GenesisDocument? {
        let (data, status, url) = try get("/v1/genesis", baseURL: baseURL)
        if status == 404 { return nil }
        guard status == 200 else { throw refusal(data, status: status, url: url) }
        do { return try GenesisDocument.parse(data) } catch { throw .source("GET \(url): the node's genesis does not parse: \(error)") }
    }

    public func latestHeight() throws(AuditError) -> UInt64 {
        let object = try getJSON("/v1/status")
        guard let height = (object["height"] as? NSNumber)?.uint64Value else { throw .source("GET /v1/status: no numeric \"height\"") }
        return height
    }

    public func committedBlock(atHeight height: UInt64) throws(AuditError) -> CommittedBlock {
        let path = "/v1/blocks/\(height)"
        let object = try getJSON(path)
        guard let blockHex = object["canonical_hex"] as? String else {
            if object["transaction_hashes"] != nil {
                // Signed by a member without read_all (e.g. a supplier): the key was given, it lacks the scope.
                if let member = credentials?.member {
                    throw .source("GET \(path): \(member) lacks the scope read_all, so the node serves it only the public part of blocks; an export needs a regulator's or auditor's member key, or the node's own key (docs/ACCESS.md)")
                }
                throw .source("GET \(path): the node serves this caller only the public part of blocks; sign with --key: a regulator's or auditor's member key, or the node's own key (docs/ACCESS.md)")
            }
            throw .source("GET \(path): no \"canonical_hex\"")
        }
        guard let cert = object["certificate"] as? [String: Any], let certHex = cert["canonical_hex"] as? String else {
            throw .source("GET \(path): no \"certificate.canonical_hex\"")
        }
        let block: Block, certificate: CommitCertificate
        do {
            block = try Block.decode(try Hex.decode(blockHex))
            certificate = try CanonicalDecoder.decode(CommitCertificate.self, from: try Hex.decode(certHex))
        } catch { throw .source("GET \(path): the node sent bytes that do not decode: \(error)") }
        guard block.header.height == height else { throw .source("GET \(path): the node sent block \(block.header.height)") }
        return CommittedBlock(block: block, certificate: certificate, receipts: nil)
    }

    /// The header of block `height` (canonical bytes) and its commit certificate: the public part of a block
    /// (`header_hex`, `certificate.canonical_hex`), served to every caller — what certifies a state proof.
    public func certifiedHeader(atHeight height: UInt64) throws(AuditError) -> (header: BlockHeader, certificate: CommitCertificate) {
        let path = "/v1/blocks/\(height)"
        let object = try getJSON(path)
        guard let headerHex = object["header_hex"] as? String else { throw .source("GET \(path): no \"header_hex\"") }
        guard let cert = object["certificate"] as? [String: Any], let certHex = cert["canonical_hex"] as? String else {
            throw .source("GET \(path): no \"certificate.canonical_hex\"")
        }
        let header: BlockHeader, certificate: CommitCertificate
        do {
            header = try CanonicalDecoder.decode(BlockHeader.self, from: try Hex.decode(headerHex))
            certificate = try CanonicalDecoder.decode(CommitCertificate.self, from: try Hex.decode(certHex))
        } catch { throw .source("GET \(path): the node sent bytes that do not decode: \(error)") }
        guard header.height == height else { throw .source("GET \(path): the node sent header \(header.height)") }
        return (header, certificate)
    }

    /// Reads `key` at `height` with its proof. The key is sent as `key_hex` (the path segment alone is read as text).
    public func provedState(_ key: [UInt8], atHeight height: UInt64) throws(AuditError) -> (value: [UInt8]?, proof: StateProof) {
        let hex = Hex.encode(key)
        let path = "/v1/state/\(hex)?key_hex=\(hex)&height=\(height)&prove=true"
        let shown = Self.stateRead(baseURL: baseURL, key: key, height: height)
        let (data, status, _) = try Self.get(path, baseURL: baseURL, credentials: credentials)
        guard status == 200 else { throw Self.refusal(data, status: status, url: shown, credentials: credentials) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw .source("GET \(shown): response is not a JSON object") }
        guard (object["key_hex"] as? String) == hex else { throw .source("GET \(shown): the node answered for another key") }
        guard (object["height"] as? NSNumber)?.uint64Value == height else { throw .source("GET \(shown): the node answered for another height") }
        guard let proofHex = object["proof_hex"] as? String else { throw .source("GET \(shown): no \"proof_hex\"") }
        guard let proof = try? CanonicalDecoder.decode(StateProof.self, from: try Hex.decode(proofHex)) else { throw .source("GET \(shown): proof_hex does not decode as a state proof") }
        let value: [UInt8]?
        switch object["value_hex"] {
        case nil, is NSNull: value = nil
        case let text as String:
            guard let bytes = try? Hex.decode(text) else { throw .source("GET \(shown): value_hex is not hex") }
            value = bytes
        default: throw .source("GET \(shown): value_hex is not a string")
        }
        return (value, proof)
    }

    /// A proved state read as messages name it: the key as text (hex when it is not UTF-8, control characters
    /// escaped) and the height — not the request's path and query, which carry the key twice in hex (a retirement's
    /// key made a 300-character URL of hex).
    static func stateRead(baseURL: URL, key: [UInt8], height: UInt64) -> String {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/v1/state/" + AuditCertificates.shown(StateKeyText.show(key)) + " at height \(height)"
    }

    func getJSON(_ path: String) throws(AuditError) -> [String: Any] {
        try Self.getJSON(path, baseURL: baseURL, credentials: credentials)
    }

    /// GET `path` answered 200 with a JSON object; any other answer is an error naming what the node said.
    static func getJSON(_ path: String, baseURL: URL, credentials: APIClientCredentials?) throws(AuditError) -> [String: Any] {
        let (data, status, url) = try get(path, baseURL: baseURL, credentials: credentials)
        guard status == 200 else { throw refusal(data, status: status, url: url, credentials: credentials) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .source("GET \(url): response is not a JSON object")
        }
        return object
    }

    /// The error for a non-200 answer: the API's `{"error": {"code", "message"}}` when it is one, else the first
    /// bytes of the body — control characters escaped either way (the node's text reaches a terminal). When the node
    /// refused the signature of a signed request, a second line names the key that signed and as whom
    /// (`APIClientCredentials.refusedKeyNote`, the CLI's note).
    static func refusal(_ data: Data, status: Int, url: String, credentials: APIClientCredentials? = nil) -> AuditError {
        let note = credentials?.refusedKeyNote(status: status, code: apiErrorCode(data))
        return .source("GET \(url): HTTP \(status): " + apiErrorText(data) + (note.map { "\n" + $0 } ?? ""))
    }

    /// The `error.code` of an API error answer, or nil.
    static func apiErrorCode(_ data: Data) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        return (object["error"] as? [String: Any])?["code"] as? String
    }

    /// What an error answer says, safe to print: `code: message` of the API's error object, else ≤ 200 bytes.
    static func apiErrorText(_ data: Data) -> String {
        if let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let error = object["error"] as? [String: Any],
           let message = error["message"] as? String {
            let code = (error["code"] as? String).map { $0 + ": " } ?? ""
            return AuditCertificates.shown(String((code + message).prefix(1_000)))
        }
        let excerpt = AuditCertificates.shown(String(decoding: data.prefix(200), as: UTF8.self))
        return excerpt.isEmpty ? "(empty body)" : excerpt + (data.count > 200 ? "…" : "")
    }

    /// One GET, signed with `credentials` when given: the body, the HTTP status and the URL (for messages). Bounded:
    /// `timeoutSeconds` idle, `deadlineSeconds` in all, `maxBytes` of body — past any of them the request is
    /// cancelled and an error says which.
    static func get(_ path: String, baseURL: URL, credentials: APIClientCredentials? = nil, maxBytes: Int = maxResponseBytes,
                    deadlineSeconds: Double = requestDeadlineSeconds) throws(AuditError) -> (Data, Int, String) {
        precondition(maxBytes > 0 && deadlineSeconds > 0, "a request needs a positive size cap and deadline")
        guard let url = URL(string: path, relativeTo: baseURL) else { throw .source("bad URL \(baseURL)\(path)") }
        var request = URLRequest(url: url)
        request.timeoutInterval = min(Self.timeoutSeconds, deadlineSeconds)
        if let credentials {
            let absolute = url.absoluteURL
            let target = absolute.path(percentEncoded: true) + (absolute.query(percentEncoded: true).map { "?" + $0 } ?? "")
            for (name, value) in credentials.headers(method: "GET", target: target) { request.setValue(value, forHTTPHeaderField: name) }
        }
        let reader = BoundedResponseReader(maxBytes: maxBytes)
        let session = URLSession(configuration: .ephemeral, delegate: reader, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        let task = session.dataTask(with: request)
        task.resume()
        let shown = url.absoluteString
        guard reader.done.wait(timeout: .now() + deadlineSeconds) == .success else {
            task.cancel()
            throw .source("GET \(shown): no complete answer within \(Int(deadlineSeconds)) s: the node is too slow or keeps the response open")
        }
        let (data, status, error, overLimit) = reader.result()
        if overLimit { throw .source("GET \(shown): the response is larger than \(maxBytes) bytes; refused") }
        if let error {
            // Nothing answered at the address: say what to check (ops: newuser 16).
            let unreachable: Set<URLError.Code> = [.cannotConnectToHost, .cannotFindHost, .timedOut, .networkConnectionLost]
            let hint = (error as? URLError).map { unreachable.contains($0.code) } == true
                ? ". Is the node running? A local testnet: `trellis testnet status`; the URL must be the node's [api] listen address" : ""
            throw .source("GET \(shown): \(AuditCertificates.shown(error.localizedDescription))\(hint)")
        }
        return (data, status ?? 0, shown)
    }
}

/// Collects one response body up to a size cap (cancelling the task past it) and signals when the task ends.
/// URLSession calls it on its own queue; the waiting caller reads the result after `done`.
private final class BoundedResponseReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let maxBytes: Int
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var data = Data()
    private var status: Int?
    private var error: Error?
    private var overLimit = false

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { status = (dataTask.response as? HTTPURLResponse)?.statusCode }
        guard !overLimit else { return }
        let announced = dataTask.response?.expectedContentLength ?? -1
        if announced > Int64(maxBytes) || self.data.count + data.count > maxBytes {
            overLimit = true
            self.data = Data()
            dataTask.cancel()
            return
        }
        self.data.append(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        if status == nil { status = (task.response as? HTTPURLResponse)?.statusCode }
        self.error = error
        lock.unlock()
        done.signal()
    }

    func result() -> (Data, Int?, Error?, Bool) {
        lock.lock()
        defer { lock.unlock() }
        return (data, status, error, overLimit)
    }
}
