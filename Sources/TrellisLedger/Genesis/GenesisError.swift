// GenesisError.swift — every way a genesis.json can be wrong, each naming the field and what to fix.
import TrellisCrypto

public enum GenesisError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, message: String)
    /// JSON syntax, a missing or unknown field, a wrong type or bad hex; `detail` names the field path.
    case invalidJSON(detail: String)
    case invalidChainID(String)
    case invalidGenesisTime(Int64)
    case noMembers
    case invalidMember(memberID: String, problem: String)
    case duplicateMemberID(String)
    case duplicateMemberKey(key: String, first: String, second: String)
    case noValidators
    case invalidValidator(name: String, problem: String)
    case duplicateValidatorKey(String)
    case duplicateValidatorName(String)
    case invalidParameters(String)
    case quorumExceedsGovernors(quorum: UInt32, governors: Int)

    public var description: String {
        switch self {
        case .unreadable(let p, let m): return "cannot read genesis file \(p): \(m)"
        case .invalidJSON(let d): return "genesis JSON: \(d)"
        case .invalidChainID(let c): return "chain_id \"\(c)\" must be 1…\(Limits.maxChainIDBytes) bytes of [a-z0-9._-]"
        case .invalidGenesisTime(let t): return "genesis_time \(t) must be a positive Unix time in seconds"
        case .noMembers: return "members must list at least one member"
        case .invalidMember(let id, let p): return "member \"\(id)\": \(p)"
        case .duplicateMemberID(let id): return "member_id \"\(id)\" appears twice"
        case .duplicateMemberKey(let k, let a, let b): return "public key \(k) is listed for both \(a) and \(b); every member key must be distinct"
        case .noValidators: return "validators must list at least one validator"
        case .invalidValidator(let n, let p): return "validator \"\(n)\": \(p)"
        case .duplicateValidatorKey(let k): return "validator public key \(k) appears twice"
        case .duplicateValidatorName(let n): return "validator name \"\(n)\" appears twice"
        case .invalidParameters(let p): return "parameters: \(p)"
        case .quorumExceedsGovernors(let q, let g):
            return "parameters.governance_quorum is \(q) but only \(g) members hold the governor role; governance could never act"
        }
    }
}
