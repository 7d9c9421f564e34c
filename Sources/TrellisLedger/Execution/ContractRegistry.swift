// ContractRegistry.swift — the contracts a chain runs, by transaction kind.
//
// Every node of a chain must run the same registry: it is part of the state transition function. A kind owned by
// two contracts is a programming error and stops the process at startup.

/// Contracts by kind.
public struct ContractRegistry: Sendable {
    public let contracts: [any Contract]
    private let entries: [String: (contract: Int, spec: KindSpec)]

    /// Registers `contracts`; two contracts (or one contract twice) claiming a kind is a programming error.
    public init(_ contracts: [any Contract]) {
        var entries: [String: (contract: Int, spec: KindSpec)] = [:]
        for (i, contract) in contracts.enumerated() {
            for spec in contract.kinds {
                if let other = entries[spec.kind] {
                    preconditionFailure("kind \(spec.kind) is claimed by both \(contracts[other.contract].name) and \(contract.name)")
                }
                entries[spec.kind] = (i, spec)
            }
        }
        self.contracts = contracts
        self.entries = entries
    }

    /// The contracts of a Trellis chain.
    public static let standard = ContractRegistry([
        MembershipContract(),
        GovernanceContract(),
        ReceivablesContract(), GreenAssetsContract(),
        EvidenceContract(),
    ])

    /// The declaration of `kind`, or nil when no contract owns it.
    public func spec(for kind: String) -> KindSpec? { entries[kind]?.spec }

    /// The contract owning `kind`, or nil.
    public func contract(for kind: String) -> (any Contract)? { entries[kind].map { contracts[$0.contract] } }

    /// Every kind, sorted by name.
    public var kinds: [KindSpec] { entries.values.map(\.spec).sorted { $0.kind < $1.kind } }
}
