// NodeLightProvider.swift — a node's API as a light-block provider (`trellis light --node URL`, and each --witness).
//
// Reads the public part of GET /v1/blocks/{h} (`header_hex`, `certificate.canonical_hex`, `validator_set_hex`) and
// GET /v1/status (`height`), which docs/ACCESS.md serves to every caller; state reads with proofs
// (GET /v1/state/{key}?key_hex=…&height=…&prove=true) and transaction proofs (GET /v1/tx/{hash}, `NodeTransactionProof`) are
// signed when credentials are given. Everything is decoded
// strictly and nothing is trusted: `LightClient` checks it. Answers are bounded as `NodeClient.get` bounds them; a
// refusal says what to do (a height above the node's newest certified one names that height; a state read refused
// for want of a signature says to pass a key), and the node's own text is shown with control characters escaped.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// A node read over HTTP by the light client.
public final class NodeLightProvider: LightBlockProvider {
    public let baseURL: URL
    /// Signs every request when set (state reads under the consortium read policy need it).
    public var credentials: APIClientCredentials?

    public init(baseURL: URL, credentials: APIClientCredentials? = nil) {
        self.baseURL = baseURL
        self.credentials = credentials
    }

    public var label: String { baseURL.absoluteString }

    public func latestCertifiedHeight() throws(AuditError) -> UInt64 {
        let status = try getJSON("/v1/status")
        guard let tip = (status["height"] as? NSNumber)?.uint64Value else { throw .source("GET \(label)/v1/status: no numeric \"height\"") }
        guard tip >= 1 else { throw .notFound("\(label) has committed no block yet") }
        // The newest block's certificate is stored with the next height: until then the newest certified one is below.
        let newest = try getJSON("/v1/blocks/\(tip)")
        return newest["certificate"] == nil ? tip - 1 : tip
    }

    public func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock {
        let path = "/v1/blocks/\(height)"
        let (data, status, url) = try NodeClient.get(path, baseURL: baseURL, credentials: credentials)
        if status == 404 {
            // Most likely a height above the tip: say which height the node has (reading the tip may fail too).
            if let tip = try? latestCertifiedHeight(), tip < height {
                throw .notFound("\(label) has no certified block at height \(height): its newest certified height is \(tip)")
            }
            throw NodeClient.refusal(data, status: status, url: url, credentials: credentials)
        }
        let object = try Self.object(data, status: status, url: url, credentials: credentials)
        func field(_ value: Any?, _ name: String) throws(AuditError) -> [UInt8] {
            guard let text = value as? String else { throw .source("GET \(label)\(path): no \"\(name)\"") }
            do { return try Hex.decode(text) } catch { throw .verificationFailed(height: height, message: "\(label): \(name) is not hex: \(error)") }
        }
        let headerBytes = try field(object["header_hex"], "header_hex")
        let certificateBytes = try field((object["certificate"] as? [String: Any])?["canonical_hex"], "certificate.canonical_hex")
        let setBytes = try field(object["validator_set_hex"], "validator_set_hex")
        let block: LightBlock
        do {
            block = LightBlock(header: try CanonicalDecoder.decode(BlockHeader.self, from: headerBytes),
                               certificate: try CanonicalDecoder.decode(CommitCertificate.self, from: certificateBytes),
                               validators: try CanonicalDecoder.decode(ValidatorSet.self, from: setBytes))
        } catch { throw .verificationFailed(height: height, message: "\(label) sent bytes that do not decode: \(error)") }
        guard block.header.height == height else { throw .verificationFailed(height: height, message: "\(label) sent the header of height \(block.header.height)") }
        return block
    }

    /// Reads `key` at `height` with its proof (unverified: check it against a verified header).
    public func provedState(_ key: [UInt8], atHeight height: UInt64) throws(AuditError) -> (value: [UInt8]?, proof: StateProof) {
        let hex = Hex.encode(key)
        let path = "/v1/state/\(hex)?key_hex=\(hex)&height=\(height)&prove=true"
        let (data, status, _) = try NodeClient.get(path, baseURL: baseURL, credentials: credentials)
        if (status == 401 || status == 403) && credentials == nil {
            throw .source("\(label) serves this state only to signed requests: pass --key with a regulator's or auditor's member key, or the node's own key (the node said: \(NodeClient.apiErrorText(data)))")
        }
        let object = try Self.object(data, status: status, url: NodeClient.stateRead(baseURL: baseURL, key: key, height: height), credentials: credentials)
        guard (object["key_hex"] as? String) == hex else { throw .verificationFailed(height: height, message: "\(label) answered for another key") }
        guard (object["height"] as? NSNumber)?.uint64Value == height else { throw .verificationFailed(height: height, message: "\(label) answered for another height") }
        guard let proofHex = object["proof_hex"] as? String else { throw .verificationFailed(height: height, message: "\(label) sent no proof_hex") }
        let proof: StateProof
        do { proof = try CanonicalDecoder.decode(StateProof.self, from: try Hex.decode(proofHex)) } catch {
            throw .verificationFailed(height: height, message: "\(label) sent a proof that does not decode: \(error)")
        }
        switch object["value_hex"] {
        case nil, is NSNull: return (nil, proof)
        case let text as String:
            do { return (try Hex.decode(text), proof) } catch { throw .verificationFailed(height: height, message: "\(label) sent a value_hex that is not hex: \(error)") }
        default:
            throw .verificationFailed(height: height, message: "\(label) sent a value_hex that is not a string")
        }
    }

    /// The height and proof of committed transaction `hash` (unverified: check it against a verified header with
    /// `LightClient.checkTransaction`).
    public func provedTransaction(_ hash: Hash) throws(AuditError) -> (height: UInt64, fact: TransactionFact) {
        do throws(AuditError) {
            return try NodeTransactionProof.fetch(hash, label: label) { (path: String) throws(AuditError) in try getJSON(path) }
        } catch {
            if case .source(let message) = error, credentials == nil, message.contains("HTTP 401") || message.contains("HTTP 403") {
                throw .source("\(label) serves transactions only to their parties and to read_all callers: pass --key with the signer's, a co-signer's or a party's member key (docs/ACCESS.md) (\(message))")
            }
            throw error
        }
    }

    func getJSON(_ path: String) throws(AuditError) -> [String: Any] {
        try NodeClient.getJSON(path, baseURL: baseURL, credentials: credentials)
    }

    /// A 200 answer's JSON object, or the error naming what the node said (and, for a refused signature, which key
    /// signed).
    static func object(_ data: Data, status: Int, url: String, credentials: APIClientCredentials?) throws(AuditError) -> [String: Any] {
        guard status == 200 else { throw NodeClient.refusal(data, status: status, url: url, credentials: credentials) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .source("GET \(url): response is not a JSON object")
        }
        return object
    }
}

/// A ledger store as a light-block provider (an auditor's own copy of the chain, and the tests): the set in force at
/// a height is read from the latest state's flat column family (never through the tree, where the schedule's prefix
/// scan visits every node), where `validators/<effective height>` is never deleted.
extension StoreChainSource: LightBlockProvider {
    public func latestCertifiedHeight() throws(AuditError) -> UInt64 { try latestHeight() }

    public func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock {
        do {
            guard let block = try reader.block(atHeight: height) else { throw AuditError.notFound("block \(height) is not in \(label)") }
            guard let certificate = try reader.certificate(atHeight: height) else { throw AuditError.notFound("certificate \(height) is not in \(label)") }
            guard let set = try ValidatorSchedule.set(forHeight: height, in: CommittedState(store: reader.store)) else {
                throw AuditError.source("\(label) records no validator set for height \(height)")
            }
            return LightBlock(header: block.header, certificate: certificate, validators: set)
        } catch let e as AuditError { throw e } catch { throw .source("cannot read height \(height) of \(label): \(error)") }
    }
}
