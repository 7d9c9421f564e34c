// RequestAuthenticator.swift — turns a request's credentials (docs/ACCESS.md) into an `APICaller`.
//
// Checks, in order: the four headers are well-formed (401 `invalid_credentials`); the timestamp is within the skew
// window of the node's clock (401 `stale_credentials`); the signature verifies against an active key of the named
// member at the latest height, or the node's own key for `@operator` (401 `invalid_signature` — the same answer
// whether the member exists or not); the member is active (403 `member_inactive`, told only to a holder of its
// key); the (member, nonce) pair was not seen within the window (401 `replayed_nonce`), and the window has room for
// it (429 `too_many_signed_requests` past the member's share, 503 `nonce_window_full` past the whole). The clock is
// injected. The caller runs it off Swift's cooperative pool: it reads the member's record from the store.
import NIOConcurrencyHelpers
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

/// The (member, nonce) pairs of accepted signed requests, each kept until its timestamp leaves the skew window
/// (after that the timestamp alone refuses a replay). Bounded twice: at `capacity` unexpired nonces in all, new
/// requests are refused rather than remembered, and one member holds at most `perMemberCapacity` of them, so a
/// member that signs as fast as it can fills its own share, never everyone's. A value type; `RequestAuthenticator`
/// keeps it behind a lock.
public struct NonceWindow: Sendable {
    public enum Admission: Sendable, Equatable {
        case admitted
        case replayed
        /// `capacity` unexpired nonces are remembered: try again later.
        case full
        /// This member has `perMemberCapacity` unexpired nonces remembered: it must slow down.
        case memberFull
    }

    /// One member's remembered nonces with their expiries, and when they were last purged.
    struct MemberNonces: Sendable {
        var expiries: [String: Int64] = [:]
        var lastPurge: Int64 = .min
    }

    public let capacity: Int
    public let perMemberCapacity: Int
    public let skewSeconds: Int64
    private var members: [String: MemberNonces] = [:]
    /// Nonces remembered in all (the sum of `members`' counts).
    public private(set) var count = 0
    private var lastPurge: Int64 = .min

    public init(capacity: Int, perMemberCapacity: Int, skewSeconds: Int64) {
        precondition(capacity > 0, "invalid nonce window capacity: \(capacity)")
        precondition(perMemberCapacity > 0, "invalid per-member nonce capacity: \(perMemberCapacity)")
        precondition(skewSeconds > 0, "invalid skew: \(skewSeconds)")
        self.capacity = capacity
        self.perMemberCapacity = perMemberCapacity
        self.skewSeconds = skewSeconds
    }

    /// Nonces `member` has remembered now (expired ones included until the next purge).
    public func count(of member: String) -> Int { members[member]?.expiries.count ?? 0 }

    /// Records (member, nonce) of a request signed at `timestamp` (already checked to be within the window of `now`).
    public mutating func admit(member: String, nonce: String, timestamp: Int64, now: Int64) -> Admission {
        var own = members[member] ?? MemberNonces()
        let known = own.expiries[nonce]
        if let known, known >= now { return .replayed }
        // Purges are lazy and at most one full scan per second of the clock (of the member's nonces, or of all), so
        // a full window cannot make every request O(n).
        if known == nil && own.expiries.count >= perMemberCapacity && now > own.lastPurge {
            own.lastPurge = now
            let before = own.expiries.count
            own.expiries = own.expiries.filter { $0.value >= now }
            count -= before - own.expiries.count
        }
        if known == nil && own.expiries.count >= perMemberCapacity {
            members[member] = own
            return .memberFull
        }
        if known == nil && count >= capacity && now > lastPurge {
            lastPurge = now
            members[member] = own
            purgeAll(now: now)
            own = members[member] ?? MemberNonces()
        }
        if own.expiries[nonce] == nil && count >= capacity {
            if !own.expiries.isEmpty { members[member] = own }
            return .full
        }
        let (expiry, overflow) = timestamp.addingReportingOverflow(skewSeconds)
        if own.expiries.updateValue(overflow ? .max : expiry, forKey: nonce) == nil { count += 1 }
        members[member] = own
        return .admitted
    }

    /// Forgets every expired nonce (and members left with none).
    private mutating func purgeAll(now: Int64) {
        var total = 0
        var kept: [String: MemberNonces] = [:]
        for (member, var nonces) in members {
            nonces.expiries = nonces.expiries.filter { $0.value >= now }
            guard !nonces.expiries.isEmpty else { continue }
            total += nonces.expiries.count
            kept[member] = nonces
        }
        members = kept
        count = total
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
    public init(chainID: String, operatorKey: PublicKey?, skewSeconds: Int64, maxNonces: Int, maxNoncesPerMember: Int,
                now: @escaping @Sendable () -> Int64) {
        precondition(skewSeconds > 0, "invalid skew: \(skewSeconds)")
        self.chainID = chainID
        self.operatorKey = operatorKey
        self.skewSeconds = skewSeconds
        self.now = now
        self.nonces = NIOLockedValueBox(NonceWindow(capacity: maxNonces, perMemberCapacity: maxNoncesPerMember, skewSeconds: skewSeconds))
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
                throw APIError(.forbidden, code: "member_inactive", message: "member \(member.memberID) is \(member.status.name): the API serves only active members' signed requests — reads, and those `trellis tx` makes before it signs — and the ledger refuses its transactions (a suspended member until governance's member.reinstate)")
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
        case .memberFull:
            throw APIError(.tooManyRequests, code: "too_many_signed_requests",
                           message: "\(credentials.member) made more signed requests than the node remembers for one member within \(2 * skewSeconds) s; slow down",
                           retryAfterSeconds: Self.memberFullRetryAfterSeconds)
        }
    }

    /// `Retry-After` of a member over its share of the nonce window: its oldest nonces expire over the window, so a
    /// few seconds frees some.
    static let memberFullRetryAfterSeconds = 5

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
        if member == APIRequestSignature.operatorMember {
            // Clients sign as @operator with a key no member holds (the member_key directory is public), so the
            // usual cause is a key that is not registered: say so.
            return APIError(.unauthorized, code: "invalid_signature",
                            message: "the signature does not verify with this node's own key (\(member)); a key that is not registered to any member of chain \(chainID) can only sign as \(member) — register the key (member.add or a key rotation) or sign with a registered member key (docs/ACCESS.md)")
        }
        return APIError(.unauthorized, code: "invalid_signature",
                 message: "the signature does not verify with an active key of \(member) for this request on chain \(chainID) (it covers method, path, query, body, timestamp and nonce: docs/ACCESS.md)")
    }
}
