// GenesisCommandTests.swift — `trellis genesis validate`: exit 0 for a valid genesis, 2 for an invalid or
// unreadable one.
import ArgumentParser
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
@testable import trellis

@Suite struct GenesisCommandTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-genesis-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func genesisJSON(quorum: Int) throws -> String {
        let key = { (name: String) in (try? SigningKey(seed: SHA256.hash(Array(name.utf8)).bytes))?.publicKey.hex ?? "" }
        return #"""
        {"chain_id": "cli-test", "genesis_time": 1767225600,
         "parameters": {"max_maturity_seconds": 1, "grace_period_seconds": 0, "governance_quorum": \#(quorum), "proposal_ttl_blocks": 1,
                        "max_tx_lifetime_blocks": 1, "accept_window_seconds": 1},
         "members": [{"member_id": "gov1", "legal_name": "G", "registration_no": "", "public_keys": ["\#(key("gov1"))"], "roles": ["governor"]}],
         "validators": [{"name": "v1", "public_key": "\#(key("v1"))", "voting_power": 1, "p2p_address": "127.0.0.1:26656"}]}
        """#
    }

    func exitCode(_ arguments: [String]) -> Int32 {
        do {
            let command = try GenesisCommand.Validate.parse(arguments)
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            return -1
        }
    }

    @Test func validGenesisExitsZeroAndInvalidExitsTwo() throws {
        let valid = try write(try genesisJSON(quorum: 1))
        let invalid = try write(try genesisJSON(quorum: 2))
        defer { for p in [valid, invalid] { try? FileManager.default.removeItem(atPath: p) } }
        #expect(exitCode([valid]) == 0)
        #expect(exitCode([valid, "--json"]) == 0)
        #expect(exitCode([invalid]) == 2)
        #expect(exitCode([invalid, "--json"]) == 2)
        #expect(exitCode(["/nonexistent/genesis.json"]) == 2)
    }
}
