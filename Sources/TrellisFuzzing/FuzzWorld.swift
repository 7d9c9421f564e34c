// FuzzWorld.swift — the fixed chain every harness checks against, and that the corpus seeds come from: a consortium
// with one member per role (two governors) and four validators, all keys derived from labels. Fixed, so a corpus
// file means the same thing in every run and on every machine.
import TrellisCrypto
import TrellisLedger

enum FuzzWorld {
    static let chainID = "fuzz-chain"
    static let genesisTime: Int64 = 1_767_225_600

    /// The deterministic key of `label`.
    static func key(_ label: String) -> SigningKey {
        do { return try SigningKey(seed: SHA256.hash(Array("trellis-fuzz/\(label)".utf8)).bytes) } catch {
            preconditionFailure("a 32-byte seed always derives a key: \(error)")
        }
    }

    /// Members by id with their roles (one per role; "gov1" and "gov2" govern).
    static let roster: [(id: String, roles: [Role])] = [
        ("gov1", [.governor]), ("gov2", [.governor]), ("regulator1", [.regulator]), ("core1", [.coreEnterprise]),
        ("sup1", [.supplier]), ("sup2", [.supplier]), ("bank1", [.financier]), ("clearing1", [.clearingAgent]),
        ("prop1", [.proponent]), ("ver1", [.verifier]), ("registry1", [.registryOperator]), ("buyer1", [.participant]),
    ]

    static let validatorKeys: [SigningKey] = (1...4).map { key("validator\($0)") }

    static let genesis: GenesisDocument = {
        let accreditation = AccreditationSpec(Accreditation(scheme: "CNAS", sectoralScopes: ["energy"], validFrom: 1_700_000_000, validTo: 1_900_000_000, active: true))
        let members = roster.map { id, roles in
            MemberSpec(memberID: id, legalName: "\(id) Ltd", registrationNo: "REG-\(id)", publicKeys: [key(id).publicKey], roles: roles,
                       accreditations: id == "ver1" ? [accreditation] : [])
        }
        let validators = validatorKeys.enumerated().map { i, k in
            GenesisValidator(name: "validator\(i + 1)", validator: Validator(publicKey: k.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:\(26656 + i)"))
        }
        do {
            return try GenesisDocument(chainID: chainID, genesisTime: genesisTime, members: members, validators: validators, parameters: Parameters())
        } catch {
            preconditionFailure("the fuzz world's genesis is invalid: \(error)")
        }
    }()

    static let validatorSet: ValidatorSet = genesis.validatorSet
}
