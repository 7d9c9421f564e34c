// AuditProofTests.swift — state and transaction proofs verify offline against genesis (or a verified export's
// validator set), and fail when any field of the proof or header is altered.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

/// Every single-field alteration of a proof file's JSON: hex strings get one nibble flipped (each element of an
/// array too), other strings get a character appended, numbers are incremented, booleans negated.
func alterations(of data: Data) throws -> [(field: String, data: Data)] {
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var out: [(String, Data)] = []
    func mutate(_ value: Any) -> [Any] {
        switch value {
        case let s as String:
            if !s.isEmpty, s.allSatisfy(\.isHexDigit) {
                var chars = Array(s)
                let i = chars.count / 2
                chars[i] = chars[i] == "0" ? "1" : "0"
                return [String(chars)]
            }
            return [s + "x"]
        case let n as NSNumber: return [NSNumber(value: n.int64Value + 1)]
        case let a as [Any]:
            return a.indices.flatMap { i in mutate(a[i]).map { m -> Any in var copy = a; copy[i] = m; return copy } } + (a.isEmpty ? [] : [Array(a.dropLast())])
        case let d as [String: Any]:
            return d.keys.sorted().flatMap { k in mutate(d[k] as Any).map { m -> Any in var copy = d; copy[k] = m; return copy } }
        default: return []
        }
    }
    for key in root.keys.sorted() {
        for m in mutate(root[key] as Any) {
            var copy = root
            copy[key] = m
            let text = try JSONSerialization.data(withJSONObject: copy, options: [.sortedKeys, .withoutEscapingSlashes])
            out.append((key, text + Data("\n".utf8)))
        }
    }
    return out
}

func proofData(_ file: ProofFile) throws -> Data { Data((try ExportJSON.line(file) + "\n").utf8) }

@Suite struct AuditProofTests {
    @Test func stateProofVerifiesOfflineAndEveryAlterationFails() throws {
        let chain = try AuditTestChain.build()
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        let key = Array("cert/\(chain.certRoot)".utf8)
        let proof = try ProofBuilder.state(key, atHeight: 3, home: source)
        let data = try proofData(proof)
        let fact = try ProofChecker.check(try ProofChecker.parse(data), genesis: chain.genesis)
        #expect(fact.height == 3 && fact.statement.contains("cert/\(chain.certRoot)"))
        let altered = try alterations(of: data)
        #expect(altered.count >= 8)
        for (field, bytes) in altered {
            #expect(throws: AuditError.self, "altering \(field) went unnoticed") {
                _ = try ProofChecker.check(try ProofChecker.parse(bytes), genesis: chain.genesis)
            }
        }
        // Absence is provable too, and a proof of absence cannot be turned into one of presence.
        let absent = try ProofBuilder.state(Array("cert/none".utf8), atHeight: 3, home: source)
        #expect(absent.state?.valueHex == nil)
        #expect(try ProofChecker.check(absent, genesis: chain.genesis).statement.hasSuffix("absent"))
    }

    @Test func transactionProofVerifiesAndEveryAlterationFails() throws {
        let chain = try AuditTestChain.build()
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        for index in 0..<4 {  // every transaction of block 1 (4 transactions: paths of different shapes)
            let proof = try ProofBuilder.transaction(chain.txHashes[index], home: source)
            #expect(proof.height == 1 && proof.transaction?.index == UInt64(index))
            let data = try proofData(proof)
            #expect(try ProofChecker.check(try ProofChecker.parse(data), genesis: chain.genesis).statement.contains("receipt ok"))
            for (field, bytes) in try alterations(of: data) {
                #expect(throws: AuditError.self, "tx \(index): altering \(field) went unnoticed") {
                    _ = try ProofChecker.check(try ProofChecker.parse(bytes), genesis: chain.genesis)
                }
            }
        }
    }

    @Test func afterAValidatorSetChangeTheExportSuppliesTheSet() throws {
        let chain = try AuditTestChain.build()
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        let proof = try ProofBuilder.state(Array("cert/\(chain.certRoot)".utf8), home: source)  // latest: height 7, 5 validators
        #expect(proof.height == 7)
        do {
            _ = try ProofChecker.check(proof, genesis: chain.genesis)
            Issue.record("a header certified by a changed set verified against the genesis set")
        } catch {
            #expect(error.description.contains("the validators changed since genesis"))
        }
        let replay = try ChainVerifier.verify(try ExportFile.parse(try exportBytes(chain))).replay
        let fact = try ProofChecker.check(proof, genesis: chain.genesis, validators: try replay.engine.validatorSet(forHeight: 7))
        #expect(fact.height == 7)
    }
}
