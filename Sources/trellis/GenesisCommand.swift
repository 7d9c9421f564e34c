// GenesisCommand.swift — `trellis genesis init|add|validate|hash`: assemble a genesis.json in a ceremony between
// organisations that share no machine, and check it.
//
// `validate` exits 0 when the file is a valid genesis (prints its chain id and genesis hash), 2 when it is not
// (prints the precise error: the field and what is wrong). `hash` prints only the genesis hash, for members to
// compare out of band. `init` and `add` live in GenesisInitCommand.swift and GenesisAddCommand.swift.
import ArgumentParser
import Foundation
import TrellisLedger

struct GenesisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genesis",
        abstract: "Assemble a genesis.json (a ceremony between organisations) and check it.",
        subcommands: [GenesisInit.self, GenesisAdd.self, Validate.self, PrintHash.self]
    )

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Validate a genesis.json strictly (unknown fields, bad hex, duplicates, impossible parameters).",
            discussion: "Exits 0 when valid, 2 when invalid or unreadable."
        )

        @Argument(help: "The genesis.json file.")
        var file: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let genesis: GenesisDocument
            do { genesis = try GenesisDocument.load(path: file) } catch {
                if json {
                    print(jsonObject(["valid": false, "file": file, "error": error.description]))
                    throw ExitCode(2)
                }
                throw badInput("\(file): \(error.description)")
            }
            let governors = genesis.members.filter { $0.has(.governor) }.count
            if json {
                print(jsonObject([
                    "valid": true, "file": file, "chain_id": genesis.chainID, "genesis_hash": genesis.hash.hex,
                    "genesis_time": genesis.genesisTime, "members": genesis.members.count, "governors": governors,
                    "governance_quorum": Int(genesis.parameters.governanceQuorum), "validators": genesis.validators.count,
                    "validator_set_hash": genesis.validatorSet.hash.hex,
                ]))
            } else {
                print("valid genesis for chain \(genesis.chainID)")
                print("  genesis hash  \(genesis.hash.hex)")
                print("  members       \(genesis.members.count) (\(governors) governors, quorum \(genesis.parameters.governanceQuorum))")
                print("  validators    \(genesis.validators.count) (total voting power \(genesis.validatorSet.totalPower))")
            }
        }
    }

    struct PrintHash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash",
            abstract: "Print the genesis hash of a valid genesis.json (compare it with every member out of band).",
            discussion: "Prints 64 hex digits and exits 0; exits 2 (with the precise error) when the file is not a valid genesis."
        )

        @Argument(help: "The genesis.json file.")
        var file: String

        @Flag(help: "Print one JSON object (file, chain_id, genesis_hash).")
        var json = false

        func run() throws {
            let genesis: GenesisDocument
            do { genesis = try GenesisDocument.load(path: file) } catch { throw badInput("\(file): \(error.description)") }
            print(json ? jsonObject(["file": file, "chain_id": genesis.chainID, "genesis_hash": genesis.hash.hex]) : genesis.hash.hex)
        }
    }
}
