// ContractHarness+Invariants.swift — checks of DOMAIN.md invariants A1–A4 and B1–B5 computed from the records
// themselves (full scans, not the contracts' indexes), plus consistency of those indexes with the records; the
// checks live in DomainInvariants.swift, shared with the execution fuzzer. Each returns the list of violations
// (empty = holds), so a property test can print the first failing step.
import TrellisCodec
@testable import TrellisLedger

extension ContractHarness {
    func all<T: CanonicalDecodable>(_ type: T.Type, _ prefix: [UInt8]) throws -> [T] {
        try state.scan(prefix: prefix).map { try CanonicalDecoder.decode(T.self, from: $0.value) }
    }

    func keys(_ prefix: [UInt8]) throws -> Set<[UInt8]> { Set(try state.scan(prefix: prefix).map(\.key)) }

    /// A1–A4, credit-line accounting and receivables index consistency (DomainInvariants.swift).
    func receivablesViolations() throws -> [String] { try DomainSnapshot(state).receivablesViolations() }

    /// B1–B5, supply reconciliation and green index consistency (DomainInvariants.swift).
    func greenViolations() throws -> [String] {
        let snapshot = try DomainSnapshot(state)
        return try snapshot.greenViolations() + snapshot.b5Violations()
    }
}
