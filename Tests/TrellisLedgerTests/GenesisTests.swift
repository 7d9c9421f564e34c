// GenesisTests.swift — strict genesis loading: each mistake gives its precise error; the example template fills
// into a valid genesis; the hash ignores formatting and listing order.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct GenesisTests {
    static func member(_ id: String, _ roles: [String], key: String? = nil, extra: String = "") -> String {
        #"{"member_id": "\#(id)", "legal_name": "\#(id) Ltd", "registration_no": "R-\#(id)", "public_keys": ["\#(key ?? testKey(id).publicKey.hex)"], "roles": [\#(roles.map { "\"\($0)\"" }.joined(separator: ","))]\#(extra)}"#
    }

    static func document(chainID: String = "test-chain", members: [String]? = nil, validators: String? = nil, quorum: Int = 2, topExtra: String = "", paramsExtra: String = "") -> String {
        let ms = members ?? [member("gov1", ["governor"]), member("gov2", ["governor"]), member("alice", ["supplier"])]
        let vs = validators ?? #"[{"name": "v1", "public_key": "\#(testKey("v1").publicKey.hex)", "voting_power": 1, "p2p_address": "127.0.0.1:26656"}]"#
        return #"""
        {"chain_id": "\#(chainID)", "genesis_time": 1767225600\#(topExtra),
         "parameters": {"max_maturity_seconds": 31536000, "grace_period_seconds": 2592000, "governance_quorum": \#(quorum),
                        "proposal_ttl_blocks": 100, "max_tx_lifetime_blocks": 100, "accept_window_seconds": 604800\#(paramsExtra)},
         "members": [\#(ms.joined(separator: ","))], "validators": \#(vs)}
        """#
    }

    func error(_ json: String) -> GenesisError? {
        do { _ = try GenesisDocument.parse(Data(json.utf8)); return nil } catch { return error }
    }

    @Test func validDocumentParses() throws {
        let g = try GenesisDocument.parse(Data(Self.document().utf8))
        #expect(g.chainID == "test-chain" && g.members.map(\.memberID) == ["alice", "gov1", "gov2"])
        let state = try g.initialState()
        #expect(try state.read(Member.self, LedgerKeys.member("gov1"))?.roles == [.governor])
        #expect(try state.read(String.self, LedgerKeys.memberKey(testKey("alice").publicKey)) == "alice")
        #expect(try ValidatorSchedule.set(forHeight: 1, in: state) == g.validatorSet)
    }

    @Test func hashIgnoresOrderAndFormatting() throws {
        let a = try GenesisDocument.parse(Data(Self.document().utf8))
        let reordered = Self.document(members: [Self.member("alice", ["supplier"]), Self.member("gov2", ["governor"]), Self.member("gov1", ["governor"])])
        let b = try GenesisDocument.parse(Data(reordered.replacingOccurrences(of: ", ", with: ",\n  ").utf8))
        #expect(a.hash == b.hash)
        let c = try GenesisDocument.parse(Data(Self.document(chainID: "test-chain-2").utf8))
        #expect(a.hash != c.hash)
        #expect(try CanonicalDecoder.decode(GenesisDocument.self, from: a.canonicalBytes) == a)
        #expect(try GenesisDocument.parse(try a.json()).hash == a.hash)
    }

    @Test func preciseErrors() {
        #expect(error(Self.document(topExtra: #", "color": "blue""#)).map { "\($0)" }?.contains("unknown field \"color\"") == true)
        #expect(error(Self.document(paramsExtra: #", "speed": 1"#)).map { "\($0)" }?.contains("parameters.speed") == true)
        #expect(error(Self.document(members: [Self.member("gov1", ["governor"], extra: #", "nickname": "g""#), Self.member("gov2", ["governor"])]))
                    .map { "\($0)" }?.contains("members[0].nickname") == true)
        #expect(error(Self.document(chainID: "Bad Chain")) == .invalidChainID("Bad Chain"))
        #expect(error(Self.document(members: [Self.member("gov1", ["governor"]), Self.member("gov1", ["governor"], key: testKey("other").publicKey.hex)])) == .duplicateMemberID("gov1"))
        #expect(error(Self.document(members: [Self.member("gov1", ["governor"]), Self.member("gov2", ["governor"], key: testKey("gov1").publicKey.hex)]))
                == .duplicateMemberKey(key: testKey("gov1").publicKey.hex, first: "gov1", second: "gov2"))
        let badHex = error(Self.document(members: [Self.member("gov1", ["governor"], key: "zz"), Self.member("gov2", ["governor"])]))
        #expect(badHex.map { "\($0)" }?.contains("members[0].public_keys[0]") == true)
        let shortKey = error(Self.document(members: [Self.member("gov1", ["governor"], key: "abcd"), Self.member("gov2", ["governor"])]))
        #expect(shortKey.map { "\($0)" }?.contains("expected 32 bytes") == true)
        #expect(error(Self.document(quorum: 3)) == .quorumExceedsGovernors(quorum: 3, governors: 2))
        #expect(error(Self.document(quorum: 0)) == .invalidParameters("governance_quorum must be at least 1"))
        #expect(error(Self.document(members: [Self.member("gov1", ["governor"]), Self.member("gov2", ["governor", "wizard"])])).map { "\($0)" }?.contains("members[1].roles[1]") == true)
        #expect(error(Self.document(validators: "[]")) == .noValidators)
        let dupValidator = #"[{"name": "v1", "public_key": "\#(testKey("v1").publicKey.hex)", "voting_power": 1, "p2p_address": "a:1"}, {"name": "v2", "public_key": "\#(testKey("v1").publicKey.hex)", "voting_power": 1, "p2p_address": "b:1"}]"#
        #expect(error(Self.document(validators: dupValidator)) == .duplicateValidatorKey(testKey("v1").publicKey.hex))
        let zeroPower = #"[{"name": "v1", "public_key": "\#(testKey("v1").publicKey.hex)", "voting_power": 0, "p2p_address": "a:1"}]"#
        #expect(error(Self.document(validators: zeroPower)) == .invalidValidator(name: "v1", problem: "voting_power must be positive"))
        let badAddress = #"[{"name": "v1", "public_key": "\#(testKey("v1").publicKey.hex)", "voting_power": 1, "p2p_address": "nohost"}]"#
        #expect(error(Self.document(validators: badAddress)).map { "\($0)" }?.contains("host:port") == true)
        #expect(error("{not json").map { "\($0)" }?.hasPrefix("genesis JSON:") == true)
        #expect(error(#"{"chain_id": "x"}"#).map { "\($0)" }?.contains("missing field") == true)
    }

    @Test func exampleTemplateFillsIntoAValidGenesis() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Genesis/example/genesis.template.json")
        let template = try String(contentsOf: url, encoding: .utf8)
        let names = GenesisTemplate.placeholders(in: template)
        #expect(names.count == 17)  // 13 members + 4 validators
        #expect(throws: GenesisTemplate.FillError.self) { try GenesisTemplate.fill(template, keys: [:]) }
        #expect(error(template) != nil)  // the template itself is not a genesis
        let filled = try GenesisTemplate.fill(template, keys: Dictionary(uniqueKeysWithValues: names.map { ($0, testKey($0).publicKey) }))
        let g = try GenesisDocument.parse(Data(filled.utf8))
        #expect(g.parameters.governanceQuorum == 2)
        #expect(g.members.filter { $0.has(.governor) }.map(\.memberID) == ["gov1", "gov2", "gov3"])
        #expect(g.members.first { $0.memberID == "verifier" }?.accreditations.first?.covers(sector: "energy", at: 1_800_000_000) == true)
        #expect(g.validators.count == 4)
        _ = try LedgerEngine(genesis: g, store: MemoryChainStore())
    }
}
