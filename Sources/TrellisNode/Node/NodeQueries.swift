// NodeQueries.swift — the named domain queries of `GET /v1/query/{name}` (DOMAIN.md §C), run on the state at a
// height. With `prove`, every state key the query read is returned with its proof against that height's root, so
// the answer can be checked offline.
import Foundation
import TrellisCrypto
import TrellisLedger

/// Records the keys a query reads, so their proofs can be attached.
final class RecordingReader: StateReader {
    let base: any StateReader
    private(set) var keys: [[UInt8]] = []

    init(base: any StateReader) { self.base = base }

    func get(_ key: [UInt8]) throws(StateError) -> [UInt8]? {
        keys.append(key)
        return try base.get(key)
    }

    func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        let found = try base.scan(prefix: prefix)
        keys += found.map(\.key)
        return found
    }

    /// Records only the page returned, so a paged query's proofs stay as bounded as its answer.
    func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        let found = try base.scan(prefix: prefix, after: after, limit: limit)
        keys += found.map(\.key)
        return found
    }
}

enum NodeQueries {
    /// Every query name with its parameters, for errors and docs.
    static let catalogue: [(name: String, parameters: String)] = [
        ("member", "id"),
        ("lineage", "cert"),
        ("holdings", "member"),
        ("exposure", ""),
        ("green_backed", ""),
        ("credit_blocks", "owner"),
        ("provenance", "program, serial"),
        ("retirements", "beneficiary, from?, to?  (or: retirement)"),
        ("supply", ""),
        ("evidence", "hash"),
        ("evidence_by", "member, after?, limit?"),
    ]

    static func run(_ name: String, parameters: [String: String], state: any StateReader) throws(ServiceError) -> Data {
        func need(_ key: String) throws(ServiceError) -> String {
            guard let v = parameters[key], !v.isEmpty else { throw .badRequest("query \(name) needs the parameter \"\(key)\"") }
            return v
        }
        func int(_ key: String, default value: Int64) throws(ServiceError) -> Int64 {
            guard let text = parameters[key] else { return value }
            guard let v = Int64(text) else { throw .badRequest("parameter \"\(key)\" must be an integer (Unix seconds)") }
            return v
        }
        do {
            switch name {
            case "member":
                let id = try need("id")
                guard let member = try state.read(Member.self, LedgerKeys.member(id)) else { throw ServiceError.notFound("no member \"\(id)\"") }
                return try JSONSerialization.data(withJSONObject: memberJSON(member), options: [.sortedKeys])
            case "lineage":
                let id = try need("cert")
                guard let lineage = try ReceivablesQueries.lineage(certID: id, in: state) else { throw ServiceError.notFound("no certificate \"\(id)\"") }
                return try encode(lineage)
            case "holdings": return try encode(try ReceivablesQueries.holdings(member: try need("member"), in: state))
            case "exposure": return try encode(try ReceivablesQueries.exposure(in: state))
            case "green_backed": return try encode(try ReceivablesQueries.greenBacked(in: state))
            case "credit_blocks": return try encode(try GreenAssetsQueries.blocks(owner: try need("owner"), in: state))
            case "provenance":
                let program = try need("program")
                guard let serial = UInt64(try need("serial")) else { throw ServiceError.badRequest("serial must be a non-negative integer") }
                guard let p = try GreenAssetsQueries.provenance(programID: program, serial: serial, in: state) else {
                    throw ServiceError.notFound("serial \(serial) of program \(program) was never issued")
                }
                return try encode(p)
            case "retirements":
                if let id = parameters["retirement"] {
                    guard let statement = try GreenAssetsQueries.retirementStatement(retirementID: id, in: state) else { throw ServiceError.notFound("no retirement \"\(id)\"") }
                    return try encode(statement)
                }
                return try encode(try GreenAssetsQueries.retirementStatement(beneficiary: try need("beneficiary"), from: try int("from", default: Int64.min), to: try int("to", default: Int64.max), in: state))
            case "supply": return try encode(try GreenAssetsQueries.supplyReconciliation(in: state))
            case "evidence":
                let text = try need("hash")
                guard text.utf8.count == 64, let hash = try? Hash(hex: text) else {
                    throw ServiceError.badRequest("hash must be a document's SHA-256 as 64 hex digits, got \"\(text.prefix(80))\"")
                }
                guard let record = try EvidenceQueries.evidence(docHash: hash, in: state) else { throw ServiceError.notFound("no attestation of \(hash.hex)") }
                return try encode(record)
            case "evidence_by":
                var after: Hash?
                if let text = parameters["after"] {
                    guard text.utf8.count == 64, let hash = try? Hash(hex: text) else {
                        throw ServiceError.badRequest("after must be a document's SHA-256 as 64 hex digits (the previous page's next), got \"\(text.prefix(80))\"")
                    }
                    after = hash
                }
                var limit = EvidenceQueries.defaultPageSize
                if let text = parameters["limit"] {
                    guard let n = Int(text), (1...EvidenceQueries.maxPageSize).contains(n) else {
                        throw ServiceError.badRequest("limit must be an integer from 1 to \(EvidenceQueries.maxPageSize), got \"\(text.prefix(80))\"")
                    }
                    limit = n
                }
                return try encode(try EvidenceQueries.attested(by: try need("member"), after: after, limit: limit, in: state))
            default:
                let known = catalogue.map(\.name).joined(separator: ", ")
                throw ServiceError.notFound("unknown query \"\(name)\"; known queries: \(known)")
            }
        } catch let e as ServiceError {
            throw e
        } catch {
            throw .internalError("query \(name) failed: \(error)")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func memberJSON(_ m: Member) -> [String: Any] {
        [
            "member_id": m.memberID, "legal_name": m.legalName, "registration_no": m.registrationNo,
            "public_keys": m.publicKeys.map(\.hex), "roles": m.roles.map(\.rawValue), "status": m.status.name,
            "accreditations": m.accreditations.map {
                ["scheme": $0.scheme, "sectoral_scopes": $0.sectoralScopes, "valid_from": $0.validFrom, "valid_to": $0.validTo, "active": $0.active] as [String: Any]
            },
        ]
    }
}
