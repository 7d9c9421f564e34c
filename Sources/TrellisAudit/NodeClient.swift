// NodeClient.swift — reads a running node's HTTP API (Foundation URLSession) as a `ChainSource`.
//
// Uses GET /v1/status (`height`), GET /v1/blocks/{h} (`canonical_hex`, `certificate.canonical_hex`) and
// GET /v1/state/key?key_hex=HEX&height=H&prove=true (`value_hex`, `proof_hex`). The API does not serve genesis.json, so the
// caller supplies the genesis document. Everything fetched is decoded strictly; nothing is trusted: exports made
// from a node are verified like any other. Requests are sequential with a bounded timeout.
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
    /// Per-request timeout.
    public static let timeoutSeconds: TimeInterval = 30

    public init(baseURL: URL, genesis: GenesisDocument) {
        self.baseURL = baseURL
        self.genesis = genesis
    }

    public func latestHeight() throws(AuditError) -> UInt64 {
        let object = try getJSON("/v1/status")
        guard let height = (object["height"] as? NSNumber)?.uint64Value else { throw .source("GET /v1/status: no numeric \"height\"") }
        return height
    }

    public func committedBlock(atHeight height: UInt64) throws(AuditError) -> CommittedBlock {
        let path = "/v1/blocks/\(height)"
        let object = try getJSON(path)
        guard let blockHex = object["canonical_hex"] as? String else { throw .source("GET \(path): no \"canonical_hex\"") }
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

    /// Reads `key` at `height` with its proof.
    public func provedState(_ key: [UInt8], atHeight height: UInt64) throws(AuditError) -> (value: [UInt8]?, proof: StateProof) {
        // The path segment is read as text; `key_hex` names the exact key bytes (the hex in the path alone asked for
        // the key spelled as hex digits, so the proof was of another, absent key and never checked).
        let path = "/v1/state/key?key_hex=\(Hex.encode(key))&height=\(height)&prove=true"
        let object = try getJSON(path)
        guard let proofHex = object["proof_hex"] as? String else { throw .source("GET \(path): no \"proof_hex\"") }
        do {
            let proof = try CanonicalDecoder.decode(StateProof.self, from: try Hex.decode(proofHex))
            let value = try (object["value_hex"] as? String).map { (text: String) throws(HexError) in try Hex.decode(text) }
            return (value, proof)
        } catch { throw .source("GET \(path): \(error)") }
    }

    func getJSON(_ path: String) throws(AuditError) -> [String: Any] {
        guard let url = URL(string: path, relativeTo: baseURL) else { throw .source("bad URL \(baseURL)\(path)") }
        var request = URLRequest(url: url)
        request.timeoutInterval = Self.timeoutSeconds
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(data: data, status: (response as? HTTPURLResponse)?.statusCode, error: error)
            done.signal()
        }.resume()
        done.wait()
        let (data, status, error) = box.get()
        if let error { throw .source("GET \(url.absoluteString): \(error.localizedDescription)") }
        guard let data else { throw .source("GET \(url.absoluteString): empty response") }
        guard status == 200 else { throw .source("GET \(url.absoluteString): HTTP \(status ?? 0): \(String(decoding: data.prefix(512), as: UTF8.self))") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .source("GET \(url.absoluteString): response is not a JSON object")
        }
        return object
    }
}

/// The result of one request, handed from URLSession's callback thread to the waiting caller.
private final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    private var status: Int?
    private var error: Error?

    func set(data: Data?, status: Int?, error: Error?) {
        lock.lock(); defer { lock.unlock() }
        self.data = data
        self.status = status
        self.error = error
    }

    func get() -> (Data?, Int?, Error?) {
        lock.lock(); defer { lock.unlock() }
        return (data, status, error)
    }
}
