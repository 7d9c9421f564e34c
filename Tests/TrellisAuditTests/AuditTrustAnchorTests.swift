// AuditTrustAnchorTests.swift — a pinned genesis (`audit verify --genesis FILE | --genesis-hash HEX`): an export or
// home of another genesis is refused before anything else in it is checked; without a pin the summary names the
// genesis hash taken from the file.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

@Suite struct AuditTrustAnchorTests {
    /// Another consortium's genesis with the same chain id.
    func otherGenesis(_ genesis: GenesisDocument) throws -> GenesisDocument {
        try GenesisDocument(chainID: genesis.chainID, genesisTime: genesis.genesisTime + 1, members: genesis.members.map(MemberSpec.init),
                            validators: genesis.validators, parameters: genesis.parameters)
    }

    @Test func thePinnedGenesisVerifiesAndAnotherIsRefusedFirst() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        let other = try otherGenesis(chain.genesis)
        #expect(other.hash != chain.genesis.hash && other.chainID == chain.genesis.chainID)

        let unpinned = try ChainVerifier.verify(try ExportFile.parse(data)).summary
        #expect(unpinned.genesisHash == chain.genesis.hash.hex)
        let dir = try temporaryDirectory("anchor")
        let path = dir + "/chain.jsonl"
        try data.write(to: URL(fileURLWithPath: path))
        #expect(try ChainVerifier.verify(path: path).genesisPinned == false)
        for anchor in [TrustAnchor.genesis(chain.genesis), .genesisHash(chain.genesis.hash)] {
            let pinned = try ChainVerifier.verify(path: path, trusting: anchor)
            #expect(pinned.genesisPinned && pinned.genesisHash == chain.genesis.hash.hex && pinned.blocks == 7)
        }
        for anchor in [TrustAnchor.genesis(other), .genesisHash(other.hash)] {
            do {
                _ = try ChainVerifier.verify(path: path, trusting: anchor)
                Issue.record("another genesis verified")
            } catch {
                #expect(error.exitCode == 1)
                #expect(error.description == "the export is of genesis \(chain.genesis.hash.hex) (chain \(chain.genesis.chainID)), not the trusted genesis \(other.hash.hex)")
            }
        }
    }

    @Test func anotherGenesisIsRefusedBeforeTheRestOfTheFileIsRead() throws {
        let chain = try AuditTestChain.build()
        var rows = lines(try exportBytes(chain))
        rows[1] = "not json at all"  // line 2 is malformed, and the file ends early
        let broken = join(Array(rows.prefix(2)))
        // Unpinned (or pinned to this genesis), the malformed line is what is reported...
        #expect(verifyErrorPinned(broken, nil)?.exitCode == 2)
        #expect(verifyErrorPinned(broken, .genesisHash(chain.genesis.hash))?.exitCode == 2)
        // ...pinned to another genesis, the genesis is, before line 2 is looked at.
        let other = try otherGenesis(chain.genesis)
        let error = try #require(verifyErrorPinned(broken, .genesisHash(other.hash)))
        #expect(error.exitCode == 1 && error.description.contains("not the trusted genesis \(other.hash.hex)"), "\(error)")
    }

    @Test func aHomeOfAnotherGenesisIsRefused() throws {
        let chain = try AuditTestChain.build()
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        #expect(try ChainVerifier.verify(home: source, trusting: .genesisHash(chain.genesis.hash)).genesisPinned)
        let other = try otherGenesis(chain.genesis)
        #expect(throws: AuditError.self) { try ChainVerifier.verify(home: source, trusting: .genesis(other)) }
    }

    func verifyErrorPinned(_ data: Data, _ anchor: TrustAnchor?) -> AuditError? {
        do {
            _ = try ChainVerifier.verify(try ExportFile.parse(data, trusting: anchor))
            return nil
        } catch { return error }
    }
}
