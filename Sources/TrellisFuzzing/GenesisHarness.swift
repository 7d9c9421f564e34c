// GenesisHarness.swift — fuzz harness of `genesis.json` (`GenesisDocument.parse`, what `node start`, `genesis
// validate` and the auditor read).
//
// Contract: refusals are `GenesisError`s (typed); an accepted document keeps its identity through both of its
// forms — its JSON (`json()`) parses back to the same genesis hash, and its canonical bytes (what the hash covers)
// decode to a document with the same bytes; the validator set it implies is valid (`validatorSet` would stop the
// process otherwise).
import Foundation
import TrellisCodec
import TrellisLedger

enum GenesisHarness {
    static func run(_ data: [UInt8]) throws(FuzzViolation) {
        guard let genesis = try? GenesisDocument.parse(Data(data)) else { return }
        _ = genesis.validatorSet
        let canonical = genesis.canonicalBytes
        guard let decoded = try? CanonicalDecoder.decode(GenesisDocument.self, from: canonical) else {
            throw FuzzViolation(.genesisJSON, "the canonical bytes of an accepted genesis do not decode")
        }
        try CanonicalHarnesses.expectCanonical(decoded, canonical, .genesisJSON)
        let json: Data
        do { json = try genesis.json() } catch { throw FuzzViolation(.genesisJSON, "an accepted genesis cannot be written as JSON: \(error)") }
        let reparsed: GenesisDocument
        do { reparsed = try GenesisDocument.parse(json) } catch {
            throw FuzzViolation(.genesisJSON, "the JSON written for an accepted genesis is refused: \(error)")
        }
        guard reparsed.hash == genesis.hash else { throw FuzzViolation(.genesisJSON, "JSON → genesis → JSON → genesis changes the genesis hash") }
    }
}
