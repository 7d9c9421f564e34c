// RequestAuthenticator.swift — turns a request's credentials (docs/ACCESS.md) into an `APICaller`.
//
// Checks, in order: the four headers are well-formed (401 `invalid_credentials`); the timestamp is within the skew
// window of the node's clock (401 `stale_credentials`); the signature verifies against an active key of the named
// member at the latest height, or the node's own key for `@operator` (401 `invalid_signature` — the same answer
// whether the member exists or not); the member is active (403 `member_inactive`, told only to a holder of its
// key); the (member, nonce) pair was not seen within the window (401 `replayed_nonce`). The clock is injected.
import NIOConcurrencyHelpers
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

/// The (member, nonce) pairs of accepted signed requests, each kept until its timestamp leaves the skew window
/// (after that the timestamp alone refuses a replay). Bounded: at `capacity` unexpired entries new requests are
/// refused rather than remembered. A value type; `RequestAuthenticator` keeps it behind a lock.
public struct NonceWindow: Sendable {
    public enum Admission: Sendable, Equatable {
        case admitted
        case replayed
        /// `capacity` unexpired nonces are remembered: try again later.
        case full
    }

    struct Entry: Hashable, Sendable {
        let member: String
        let nonce: String
    }

    public let capacity: Int
    public let skewSeconds: Int64
    private var expiries: [Entry: Int64] = [:]
    private var lastPurge: Int64 = .min

    public init(capacity: Int, skewSeconds: Int64) {
        precondition(capacity > 0, "invalid nonce window capacity: \(capacity)")
        precondition(skewSeconds > 0, "invalid skew: \(skewSeconds)")
        self.capacity = capacity
        self.skewSeconds = skewSeconds
    }

    /// Nonces remembered now (expired ones included until the next purge).
    public var count: Int { expiries.count }

    /// Records (member, nonce) of a request signed at `timestamp` (already checked to be within the window of `now`).
    public mutating func admit(member: String, nonce: String, timestamp: Int64, now: Int64) -> Admission {
        let entry = Entry(member: member, nonce: nonce)
        if let expiry = expiries[entry], expiry >= now { return .replayed }
        if expiries.count >= capacity && now > lastPurge {
            // At most one full scan per second of the clock, so a full window cannot make every request O(n).
            lastPurge = now
            expiries = expiries.filter { $0.value >= now }
        }
        if expiries[entry] == nil && expiries.count >= capacity { return .full }
        let (expiry, overflow) = timestamp.addingReportingOverflow(skewSeconds)
        expiries[entry] = overflow ? .max : expiry
        return .admitted
    }
}

/// Verifies signed requests for one node.
public final class RequestAuthenticator: Sendable {
    public let chainID: String
    /// The node's own public key: requests signed with it as `@operator` are the operator's.
    public let operatorKey: PublicKey?
    public let skewSeconds: Int64
    private let now: @Sendable () -> Int64
    private let nonces: NIOLockedValueBox<NonceWindow>

    /// - Parameter now: the node's clock, Unix seconds (injected so tests can move it).
    public init(chainID: String, operatorKey: PublicKey?, skewSeconds: Int64, maxNonces: Int, now: @escaping @Sendable () -> Int64) {
        precondition(skewSeconds > 0, "invalid skew: \(skewSeconds)")
        self.chainID = chainID
        self.operatorKey = operatorKey
        self.skewSeconds = skewSeconds
        self.now = now
        self.nonces = NIOLockedValueBox(NonceWindow(capacity: maxNonces, skewSeconds: skewSeconds))
    }

    /// The caller of a request: anonymous without credentials, else the member (or operator) whose signature
    /// verifies. `target` is the request target as sent (path and query).
    func authenticate(_ credentials: APIRequestSignature.Credentials?, method: String, target: String, body: [UInt8], service: NodeService) throws(APIError) -> APICaller {
        guard let credentials else { return .anonymous }
        let clock = now()
        let (difference, overflow) = credentials.timestamp.subtractingReportingOverflow(clock)
        guard !overflow, difference.magnitude <= UInt64(skewSeconds) else {
            throw APIError(.unauthorized, code: "stale_credentials",
                           message: "\(APIRequestSignature.timestampHeader) \(credentials.timestamp) is more than \(skewSeconds) s from the node's clock (\(clock)): sign again with the current time")
        }
        let components = APIRequestSignature.Components(member: credentials.member, method: method, target: target, body: body,
                                                        timestamp: credentials.timestamp, nonce: credentials.nonce)
        let message = components.signBytes(chainID: chainID)
        let caller: APICaller
        if credentials.member == APIRequestSignature.operatorMember {
            guard let operatorKey, operatorKey.verify(credentials.signature, message: message) else { throw invalidSignature(credentials.member) }
            caller = .nodeOperator
        } else {
            let member = try self.member(credentials.member, service: service)
            guard let member, member.publicKeys.contains(where: { $0.verify(credentials.signature, message: message) }) else {
                throw invalidSignature(credentials.member)
            }
            guard member.isActive else {
                throw APIError(.forbidden, code: "member_inactive", message: "member \(member.memberID) is \(member.status.name): only active members read through the API")
            }
            caller = .member(id: member.memberID, roles: Set(member.roles))
        }
        switch nonces.withLockedValue({ $0.admit(member: credentials.member, nonce: credentials.nonce, timestamp: credentials.timestamp, now: clock) }) {
        case .admitted: return caller
        case .replayed:
            throw APIError(.unauthorized, code: "replayed_nonce",
                           message: "\(APIRequestSignature.nonceHeader) \(credentials.nonce) was already used by \(credentials.member) within the last \(2 * skewSeconds) s: use a fresh nonce for every request")
        case .full:
            throw APIError(.serviceUnavailable, code: "nonce_window_full", message: "the node remembers as many request nonces as it may; retry in a few seconds")
        }
    }

    /// Nonces remembered now (for tests and metrics).
    public var rememberedNonces: Int { nonces.withLockedValue { $0.count } }

    private func member(_ id: String, service: NodeService) throws(APIError) -> Member? {
        let read: StateRead
        do { read = try service.state(key: LedgerKeys.member(id), height: nil, prove: false) } catch { throw APIError.from(error) }
        guard let bytes = read.value else { return nil }
        do { return try CanonicalDecoder.decode(Member.self, from: bytes) } catch {
            throw APIError(.internalServerError, code: "internal_error", message: "the member record of \(id) does not decode: \(error)")
        }
    }

    private func invalidSignature(_ member: String) -> APIError {
        APIError(.unauthorized, code: "invalid_signature",
                 message: "the signature does not verify with an active key of \(member) for this request on chain \(chainID) (it covers method, path, query, body, timestamp and nonce: docs/ACCESS.md)")
    }
}
