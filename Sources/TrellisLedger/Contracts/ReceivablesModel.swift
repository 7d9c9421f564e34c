// ReceivablesModel.swift — the stored records of supply-chain finance (DOMAIN.md §A) and their state keys.
//
// Records are canonical (consensus state) and Codable with snake_case keys (queries, API). A certificate is never
// deleted: spending it marks it consumed and links its children, so lineage survives. Key layout:
//   creditline/<line_id>            CreditLine
//   cert/<cert_id>                  Certificate
//   certroot/<root_id>              CertificateRoot (per-issue summary: credit line, settlement)
//   certlive/<root_id>/<cert_id>    live leaf index (non-consumed, non-rejected pieces of the root)
//   certby/<member>/<cert_id>       holder index (live pieces held)
//   certto/<member>/<cert_id>       incoming index (pieces pending acceptance by member)
//   rootby/<debtor>/<root_id>       roots issued by a core enterprise
//   invoice/<invoice_key>           root id the invoice backs (never removed)
//   fin/<fin_id>                    Financing
//   finby/<financier>/<fin_id>      financings per financier
//   certfin/<cert_id>/<fin_id>      financings per certificate piece (all, open or closed)
//   greenroot/<root_id>             roots whose trade_ref cites a green project or retirement
//   greenret/<ret_id>               root id backed by a retirement (a retirement backs at most one root)
import TrellisCodec
import TrellisCrypto

/// Where receivables records live.
public enum ReceivablesKeys {
    public static func creditLine(_ id: String) -> [UInt8] { StateKey.make("creditline", id) }
    public static func certificate(_ id: String) -> [UInt8] { StateKey.make("cert", id) }
    public static func root(_ id: String) -> [UInt8] { StateKey.make("certroot", id) }
    public static func liveLeaf(root: String, cert: String) -> [UInt8] { StateKey.make("certlive", root, cert) }
    public static func liveLeaves(root: String) -> [UInt8] { StateKey.prefix("certlive", root) }
    public static func held(by member: String, cert: String) -> [UInt8] { StateKey.make("certby", member, cert) }
    public static func held(by member: String) -> [UInt8] { StateKey.prefix("certby", member) }
    public static func incoming(to member: String, cert: String) -> [UInt8] { StateKey.make("certto", member, cert) }
    public static func incoming(to member: String) -> [UInt8] { StateKey.prefix("certto", member) }
    public static func rootBy(debtor: String, root: String) -> [UInt8] { StateKey.make("rootby", debtor, root) }
    public static func roots(debtor: String) -> [UInt8] { StateKey.prefix("rootby", debtor) }
    public static func invoice(_ key: String) -> [UInt8] { StateKey.make("invoice", key) }
    public static func financing(_ id: String) -> [UInt8] { StateKey.make("fin", id) }
    public static func financingBy(financier: String, fin: String) -> [UInt8] { StateKey.make("finby", financier, fin) }
    public static func financings(financier: String) -> [UInt8] { StateKey.prefix("finby", financier) }
    public static func financingOf(cert: String, fin: String) -> [UInt8] { StateKey.make("certfin", cert, fin) }
    public static func financings(cert: String) -> [UInt8] { StateKey.prefix("certfin", cert) }
    public static func greenBacked(root: String) -> [UInt8] { StateKey.make("greenroot", root) }
    public static let allGreenBacked = StateKey.prefix("greenroot")
    public static func retirementBacking(_ retID: String) -> [UInt8] { StateKey.make("greenret", retID) }
    public static let allCreditLines = StateKey.prefix("creditline")
    public static let allRoots = StateKey.prefix("certroot")
    public static let allFinancings = StateKey.prefix("fin")
}

/// A financier's cap on what a core enterprise may have outstanding.
public struct CreditLine: Hashable, Sendable, CanonicalCodable, Codable {
    public var lineID: String
    public var financier: String
    public var core: String
    /// Cap on the face of unsettled certificates issued against this line (分).
    public var limit: UInt64
    /// Face of issued, unsettled, unrejected certificates (分).
    public var used: UInt64
    /// No issue at or after this time (Unix seconds).
    public var expiry: Int64

    public init(lineID: String, financier: String, core: String, limit: UInt64, used: UInt64, expiry: Int64) {
        self.lineID = lineID
        self.financier = financier
        self.core = core
        self.limit = limit
        self.used = used
        self.expiry = expiry
    }

    enum CodingKeys: String, CodingKey {
        case lineID = "line_id"
        case financier, core, limit, used, expiry
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(lineID)
        encoder.encode(financier)
        encoder.encode(core)
        encoder.encode(limit)
        encoder.encode(used)
        encoder.encode(expiry)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        lineID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        financier = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        core = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        limit = try decoder.decodeUInt64()
        used = try decoder.decodeUInt64()
        expiry = try decoder.decodeInt64()
    }
}

/// The trade a certificate rests on: contract number, invoice keys (each backs at most one certificate, ever),
/// the hash of the supporting documents, and optionally the green project or retirement it finances.
public struct TradeRef: Hashable, Sendable, CanonicalCodable, Codable {
    public var contractNo: String
    public var invoiceKeys: [String]
    @HexHash public var docHash: Hash
    /// The green project or retirement this trade finances ("green-backed"), if any. Omitted from JSON when nil.
    public var greenRef: GreenRef?

    public init(contractNo: String, invoiceKeys: [String], docHash: Hash, greenRef: GreenRef? = nil) {
        self.contractNo = contractNo
        self.invoiceKeys = invoiceKeys
        self.docHash = docHash
        self.greenRef = greenRef
    }

    enum CodingKeys: String, CodingKey {
        case contractNo = "contract_no"
        case invoiceKeys = "invoice_keys"
        case docHash = "doc_hash"
        case greenRef = "green_ref"
    }

    func validate() throws(TxRejection) {
        try AssetCheck.text(contractNo, "trade_ref.contract_no")
        try AssetCheck.count(invoiceKeys.count, "trade_ref.invoice_keys", max: Limits.maxListCount)
        for key in invoiceKeys { try AssetCheck.id(key, "trade_ref.invoice_keys[]") }
        try AssetCheck.distinct(invoiceKeys, "trade_ref.invoice_keys")
        if let greenRef { try AssetCheck.id(greenRef.id, "trade_ref.green_ref.id") }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(contractNo)
        encoder.encode(invoiceKeys)
        encoder.encode(docHash)
        encoder.encode(greenRef)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        contractNo = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        invoiceKeys = try decoder.decodeArray(String.self, maxCount: Limits.maxListCount)
        docHash = try decoder.decode(Hash.self)
        greenRef = try decoder.decodeOptional(GreenRef.self)
    }
}

/// What a green-backed trade cites.
public enum GreenRefKind: String, TaggedEnum {
    case project
    case retirement
}

/// A citation of a green project or retirement in a certificate's trade reference (DOMAIN.md §B, the bridge).
public struct GreenRef: Hashable, Sendable, CanonicalCodable, Codable {
    public var kind: GreenRefKind
    public var id: String

    public init(kind: GreenRefKind, id: String) {
        self.kind = kind
        self.id = id
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(kind)
        encoder.encode(id)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        kind = try decoder.decode(GreenRefKind.self)
        id = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }
}

/// Lifecycle of a certificate piece. `rejected` marks a root whose first holder refused it (its value returned to
/// the debtor's credit line); it is terminal like `consumed` and `settled`.
public enum CertificateStatus: String, TaggedEnum {
    case pendingAccept = "pending_accept"
    case active
    case consumed
    case financed
    case pledged
    case frozen
    case settled
    case overdue
    case rejected

    /// Counts toward its root's face (A1): every status but consumed and rejected.
    public var isLive: Bool { self != .consumed && self != .rejected }
}

/// A digital payable certificate (or a piece of one, after splits). Spent-and-replaced: a split consumes it and
/// creates children that inherit debtor, maturity, root and trade reference.
public struct Certificate: Hashable, Sendable, CanonicalCodable, Codable {
    public var certID: String
    public var rootID: String
    public var parentID: String?
    /// The core enterprise that owes the face at maturity.
    public var debtor: String
    /// The current owner; while a transfer is pending, the sender (to whom the value returns on reject).
    public var holder: String
    /// Face value (分).
    public var face: UInt64
    public var issueTime: Int64
    public var maturity: Int64
    public var tradeRef: TradeRef
    public var status: CertificateStatus
    /// The intended recipient while status is pending_accept.
    public var pendingTo: String?
    /// When the pending transfer began (the accept window runs from here).
    public var pendingSince: Int64?
    /// 0 for a root, parent depth + 1 for a child.
    public var depth: UInt32
    /// The status to restore on unfreeze, while frozen.
    public var frozenFrom: CertificateStatus?
    /// The open (requested or approved) financing on this piece, if any.
    public var financingID: String?
    /// Children created when this piece was consumed, in output order.
    public var children: [String]
    public var events: [AssetEvent]

    public init(certID: String, rootID: String, parentID: String?, debtor: String, holder: String, face: UInt64, issueTime: Int64, maturity: Int64, tradeRef: TradeRef, status: CertificateStatus, pendingTo: String? = nil, pendingSince: Int64? = nil, depth: UInt32, frozenFrom: CertificateStatus? = nil, financingID: String? = nil, children: [String] = [], events: [AssetEvent] = []) {
        self.certID = certID
        self.rootID = rootID
        self.parentID = parentID
        self.debtor = debtor
        self.holder = holder
        self.face = face
        self.issueTime = issueTime
        self.maturity = maturity
        self.tradeRef = tradeRef
        self.status = status
        self.pendingTo = pendingTo
        self.pendingSince = pendingSince
        self.depth = depth
        self.frozenFrom = frozenFrom
        self.financingID = financingID
        self.children = children
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case certID = "cert_id"
        case rootID = "root_id"
        case parentID = "parent_id"
        case debtor, holder, face
        case issueTime = "issue_time"
        case maturity
        case tradeRef = "trade_ref"
        case status
        case pendingTo = "pending_to"
        case pendingSince = "pending_since"
        case depth
        case frozenFrom = "frozen_from"
        case financingID = "financing_id"
        case children, events
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(certID)
        encoder.encode(rootID)
        encoder.encode(parentID)
        encoder.encode(debtor)
        encoder.encode(holder)
        encoder.encode(face)
        encoder.encode(issueTime)
        encoder.encode(maturity)
        encoder.encode(tradeRef)
        encoder.encode(status)
        encoder.encode(pendingTo)
        encoder.encode(pendingSince)
        encoder.encode(depth)
        encoder.encode(frozenFrom)
        encoder.encode(financingID)
        encoder.encode(children)
        encoder.encode(events)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        rootID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        parentID = try decoder.decodeOptional(String.self)
        debtor = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        holder = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        face = try decoder.decodeUInt64()
        issueTime = try decoder.decodeInt64()
        maturity = try decoder.decodeInt64()
        tradeRef = try decoder.decode(TradeRef.self)
        status = try decoder.decode(CertificateStatus.self)
        pendingTo = try decoder.decodeOptional(String.self)
        pendingSince = try decoder.decodeOptional(Int64.self)
        depth = try decoder.decodeUInt32()
        frozenFrom = try decoder.decodeOptional(CertificateStatus.self)
        financingID = try decoder.decodeOptional(String.self)
        children = try decoder.decodeArray(String.self, maxCount: AssetLimits.maxOutputs)
        events = try decoder.decodeArray(AssetEvent.self, maxCount: AssetLimits.maxEvents)
    }
}

/// Lifecycle of an issued payable as a whole.
public enum RootStatus: String, TaggedEnum {
    /// Issued (pending or accepted), not yet due-and-unpaid.
    case open
    case settled
    /// Unsettled after maturity + grace.
    case overdue
    /// Refused by its first holder; the credit line was released.
    case rejected
}

/// One payment made at settlement.
public struct Payout: Hashable, Sendable, CanonicalCodable, Codable {
    public var certID: String
    public var to: String
    public var amount: UInt64
    /// The financier of an open financing on the piece at settlement (pledgee or factor), if any.
    public var financier: String?

    public init(certID: String, to: String, amount: UInt64, financier: String?) {
        self.certID = certID
        self.to = to
        self.amount = amount
        self.financier = financier
    }

    enum CodingKeys: String, CodingKey {
        case certID = "cert_id"
        case to, amount, financier
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(certID)
        encoder.encode(to)
        encoder.encode(amount)
        encoder.encode(financier)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        to = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        amount = try decoder.decodeUInt64()
        financier = try decoder.decodeOptional(String.self)
    }
}

/// Per-issue summary: which credit line backs it, and how it ended.
public struct CertificateRoot: Hashable, Sendable, CanonicalCodable, Codable {
    public var rootID: String
    public var debtor: String
    public var creditLineID: String
    public var face: UInt64
    public var issueTime: Int64
    public var maturity: Int64
    public var status: RootStatus
    public var settledAt: Int64?
    /// Settlement payments, in live-leaf key order.
    public var payouts: [Payout]

    public init(rootID: String, debtor: String, creditLineID: String, face: UInt64, issueTime: Int64, maturity: Int64, status: RootStatus, settledAt: Int64? = nil, payouts: [Payout] = []) {
        self.rootID = rootID
        self.debtor = debtor
        self.creditLineID = creditLineID
        self.face = face
        self.issueTime = issueTime
        self.maturity = maturity
        self.status = status
        self.settledAt = settledAt
        self.payouts = payouts
    }

    enum CodingKeys: String, CodingKey {
        case rootID = "root_id"
        case debtor
        case creditLineID = "credit_line_id"
        case face
        case issueTime = "issue_time"
        case maturity, status
        case settledAt = "settled_at"
        case payouts
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(rootID)
        encoder.encode(debtor)
        encoder.encode(creditLineID)
        encoder.encode(face)
        encoder.encode(issueTime)
        encoder.encode(maturity)
        encoder.encode(status)
        encoder.encode(settledAt)
        encoder.encode(payouts)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        rootID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        debtor = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        creditLineID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        face = try decoder.decodeUInt64()
        issueTime = try decoder.decodeInt64()
        maturity = try decoder.decodeInt64()
        status = try decoder.decode(RootStatus.self)
        settledAt = try decoder.decodeOptional(Int64.self)
        payouts = try decoder.decodeArray(Payout.self)
    }
}
