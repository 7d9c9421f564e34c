// AccessPolicy.swift — who may read what through the API: the one place every route's scope is decided
// (docs/ACCESS.md). Pure: it takes the route and the authenticated caller (and, for per-object routes, the members
// party to the object) and returns a decision; the route handlers only carry it out.
//
// Guarantees: under `consortium` a caller reads a member's business only when it is that member (or a party to the
// object), a regulator, an auditor or the node's operator; a refusal depends on the caller and the route, never on
// whether the object exists (no existence oracle). Under `open` every route answers everyone, as before access
// control.
import TrellisLedger
import TrellisNode

/// Who is asking, once the request's credentials verified.
public enum APICaller: Sendable, Equatable, CustomStringConvertible {
    /// No credentials.
    case anonymous
    /// An active member (signed with one of its active keys), with its roles at the latest height.
    case member(id: String, roles: Set<Role>)
    /// The node's own key (its operator).
    case nodeOperator

    public var description: String {
        switch self {
        case .anonymous: return "anonymous"
        case .member(let id, _): return "member \(id)"
        case .nodeOperator: return "node operator"
        }
    }
}

/// What a route needs, as named in refusals and in docs/ACCESS.md.
public enum APIScope: String, Sendable, Equatable, CaseIterable {
    /// Anyone, no key.
    case `public`
    /// Any active member (aggregates that reveal no member's business).
    case member
    /// The member the object belongs to, or a party to it (holder, debtor, financier, owner, signer…).
    case party
    /// Everything: regulators, auditors and the node operator.
    case readAll = "read_all"
    /// The node's own key only.
    case nodeOperator = "operator"

    /// Who holds the scope, for error messages: refusals put it in parentheses after the scope's name, so it has none
    /// of its own (AccessDocsTests).
    var holders: String {
        switch self {
        case .public: return "anyone"
        case .member: return "any active member"
        case .party: return "a member party to the object, a regulator, an auditor or the node operator"
        case .readAll: return "a regulator, an auditor or the node operator"
        case .nodeOperator: return "the node operator, signing with the node's own key"
        }
    }
}

/// An API route as the policy sees it.
public enum APIRoute: Sendable, Equatable {
    case health
    case metrics
    case status
    /// `GET /v1/genesis`.
    case genesis
    /// `POST /v1/tx`, `POST /v1/txs`: transactions carry their own signatures; the mempool checks the signers.
    case submitTransactions
    /// `GET /v1/tx/{hash}`.
    case transaction
    /// `GET /v1/blocks/{height}`.
    case block
    /// `GET /v1/state/{key}`.
    case state(key: [UInt8])
    /// `GET /v1/query/{name}` with its parameters.
    case query(name: String, parameters: [String: String])
    /// `GET /v1/events`.
    case events

    /// The route as refusals name it: its pattern, never the object asked for.
    public var pattern: String {
        switch self {
        case .health: return "GET /health"
        case .metrics: return "GET /metrics"
        case .status: return "GET /v1/status"
        case .genesis: return "GET /v1/genesis"
        case .submitTransactions: return "POST /v1/tx"
        case .transaction: return "GET /v1/tx/{hash}"
        case .block: return "GET /v1/blocks/{height}"
        case .state: return "GET /v1/state/{key}"
        case .query(let name, _): return "GET /v1/query/\(name)"
        case .events: return "GET /v1/events"
        }
    }
}

/// How much of an answer a caller may see.
public enum AccessView: Sendable, Equatable {
    /// Everything the route answers.
    case full
    /// The public part only: for `/v1/status` the chain's progress (no peers, no node identity); for
    /// `/v1/blocks` the header, certificate and transaction hashes (no transactions, no canonical bytes).
    case publicPart
}

/// The policy's answer for one request.
public enum AccessDecision: Sendable, Equatable {
    case allow(AccessView)
    /// Allowed when `member` is a party to the object the route reads; the route calls
    /// `AccessPolicy.decide(_:caller:parties:)` with the object's parties (nil when there is no such object).
    case allowIfParty(member: String)
    /// Refused: `scope` is what the route needs. 401 for an anonymous caller, 403 otherwise.
    case deny(APIScope)
}

/// The read policy of one node.
public struct AccessPolicy: Sendable, Equatable {
    public var readPolicy: ReadPolicy

    public init(readPolicy: ReadPolicy) { self.readPolicy = readPolicy }

    /// Queries any active member may run: aggregates that name no member's holdings. `supply` reconciles issued
    /// units per batch and programme (as public carbon registries publish them).
    static let memberQueries: Set<String> = ["supply"]

    /// State key prefixes anyone may read: `member_key/<public key hex>` maps a key the caller already knows to
    /// its member id, which a client needs before it can sign; `attest/<document SHA-256>` is the attestation of a
    /// document, asked for by whoever holds the document (its hash is the capability: it cannot be enumerated or
    /// guessed for a real document), so a counterparty outside the consortium can verify it (docs/ACCESS.md).
    static let publicStatePrefixes: [[UInt8]] = [Array("member_key/".utf8), Array("attest/".utf8)]

    /// Queries anyone may run: `evidence?hash=` answers the attestation of one document, like `attest/` above.
    static let publicQueries: Set<String> = ["evidence"]

    /// State records a member reads when it is a party to them (the CLI reads a certificate or credit block before
    /// it splits or transfers it): certificates, credit blocks, financings, credit lines, retirements.
    static let certificatePrefix = Array("cert/".utf8)
    static let creditBlockPrefix = Array("cblock/".utf8)
    static let financingPrefix = Array("fin/".utf8)
    static let creditLinePrefix = Array("creditline/".utf8)
    /// A retirement's retirer proves it offline (`trellis audit certificate retirement`): the buyer who retired
    /// credits is who hands the certificate on.
    static let retirementPrefix = Array("retirement/".utf8)
    static let partyStatePrefixes = [certificatePrefix, creditBlockPrefix, financingPrefix, creditLinePrefix, retirementPrefix]

    /// The decision for `route` asked by `caller`.
    public func decide(_ route: APIRoute, caller: APICaller) -> AccessDecision {
        if case .metrics = route { return readPolicy == .open || caller == .nodeOperator ? .allow(.full) : .deny(.nodeOperator) }
        if readPolicy == .open { return .allow(.full) }
        let readsAll = caller.readsAll
        switch route {
        case .health, .genesis, .submitTransactions:
            return .allow(.full)
        case .status, .block:
            return .allow(readsAll ? .full : .publicPart)
        case .events:
            return readsAll ? .allow(.full) : .deny(.readAll)
        case .metrics:
            preconditionFailure("invalid state: metrics is decided above")
        case .transaction:
            return ownOrAll(caller)
        case .state(let key):
            if Self.publicStatePrefixes.contains(where: { key.starts(with: $0) }) { return .allow(.full) }
            if readsAll { return .allow(.full) }
            guard case .member(let id, _) = caller else { return .deny(.party) }
            // A member's own record and its own nonce (the CLI reads it before signing a transaction).
            if key == LedgerKeys.member(id) || key == LedgerKeys.nonce(id) { return .allow(.full) }
            if Self.partyStatePrefixes.contains(where: { key.starts(with: $0) }) { return .allowIfParty(member: id) }
            return .deny(.readAll)
        case .query(let name, let parameters):
            if readsAll || Self.publicQueries.contains(name) { return .allow(.full) }
            if Self.memberQueries.contains(name) { return caller == .anonymous ? .deny(.member) : .allow(.full) }
            guard case .member(let id, _) = caller else { return .deny(Self.partyQueries.contains(name) || Self.ownQueries[name] != nil ? .party : .readAll) }
            if let parameter = Self.ownQueries[name] { return parameters[parameter] == id ? .allow(.full) : .deny(.party) }
            if Self.partyQueries.contains(name) { return .allowIfParty(member: id) }
            return .deny(.readAll)
        }
    }

    /// The decision for a per-object route once the object was read: `parties` are the members party to it, nil
    /// when it does not exist. An absent object and another member's object are refused alike.
    public func decide(_ decision: AccessDecision, parties: Set<String>?) -> AccessDecision {
        guard case .allowIfParty(let member) = decision else { return decision }
        guard let parties, parties.contains(member) else { return .deny(.party) }
        return .allow(.full)
    }

    /// Queries about one member, with the parameter naming it: allowed when it names the caller.
    static let ownQueries: [String: String] = ["member": "id", "holdings": "member", "credit_blocks": "owner", "evidence_by": "member"]
    /// Queries about one object: allowed when the caller is a party to it (`QueryParties`).
    static let partyQueries: Set<String> = ["lineage", "provenance", "retirements"]

    private func ownOrAll(_ caller: APICaller) -> AccessDecision {
        if caller.readsAll { return .allow(.full) }
        guard case .member(let id, _) = caller else { return .deny(.party) }
        return .allowIfParty(member: id)
    }
}

extension APICaller {
    /// Regulators, auditors and the node operator read everything.
    var readsAll: Bool {
        switch self {
        case .anonymous: return false
        case .nodeOperator: return true
        case .member(_, let roles): return roles.contains(.regulator) || roles.contains(.auditor)
        }
    }
}
