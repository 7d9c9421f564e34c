// GenesisState.swift — the state at height 0: members and their key index, parameters, the first validator set
// and the genesis hash. Built by the same helpers governance uses, so genesis members are ordinary members.
import Foundation
import TrellisCrypto

extension GenesisDocument {
    /// The height-0 writes, on an empty state.
    public func initialState() throws -> StateOverlay {
        let state = StateOverlay(base: MemoryState())
        for member in members { try MembershipContract.register(member, in: state) }
        state.write(parameters, at: LedgerKeys.parameters)
        ValidatorSchedule.schedule(validatorSet, from: 0, in: state)
        state.write(hash, at: LedgerKeys.genesisHash)
        return state
    }
}

/// Fills the `{{key:NAME}}` placeholders of a genesis template with public keys.
public enum GenesisTemplate {
    public enum FillError: Error, Equatable, CustomStringConvertible {
        case unfilled([String])

        public var description: String {
            switch self {
            case .unfilled(let names): return "no key given for placeholder(s) \(names.map { "{{key:\($0)}}" }.joined(separator: ", "))"
            }
        }
    }

    /// Every placeholder name in `template`, sorted.
    public static func placeholders(in template: String) -> [String] {
        var names = Set<String>()
        var rest = template[...]
        while let open = rest.range(of: "{{key:") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            names.insert(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return names.sorted()
    }

    /// Replaces `{{key:NAME}}` with `keys[NAME]` in hex. Throws when a placeholder has no key.
    public static func fill(_ template: String, keys: [String: PublicKey]) throws(FillError) -> String {
        let missing = placeholders(in: template).filter { keys[$0] == nil }
        guard missing.isEmpty else { throw .unfilled(missing) }
        var out = template
        for (name, key) in keys.sorted(by: { $0.key < $1.key }) { out = out.replacingOccurrences(of: "{{key:\(name)}}", with: key.hex) }
        return out
    }
}
