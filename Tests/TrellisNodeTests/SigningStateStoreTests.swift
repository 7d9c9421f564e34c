// SigningStateStoreTests.swift — the signing guard lives beside node.key: a lost or restored data directory cannot
// roll it back; a home from before the file existed keeps its chain-store copy; a corrupt copy stops the start.
import Foundation
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisStore
@testable import TrellisNode

@Suite struct SigningStateStoreTests {
    let key = SigningKey.generate()

    private func directory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-guard-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func database(_ path: String) throws -> Database {
        try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: RocksChainStore.format)
    }

    private func guardSigned(at height: UInt64) -> SigningGuard {
        var g = SigningGuard()
        let bytes = Array("vote at \(height)".utf8)
        g.record(key.sign(bytes), at: SigningPosition(height: height, round: 0, step: .precommit), signBytes: bytes)
        return g
    }

    @Test func aLostDataDirectoryDoesNotForgetWhatWasSigned() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        try SigningStateStore(database: try database(home + "/data"), filePath: file).save(guardSigned(at: 42))
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
        // The data directory is gone (disk lost, resync from peers): a new, empty store beside the same file.
        try FileManager.default.removeItem(atPath: home + "/data")
        let restored = try SigningStateStore(database: try database(home + "/data"), filePath: file).load()
        #expect(restored.last == SigningPosition(height: 42, round: 0, step: .precommit))
        #expect(throws: SigningGuardError.self) {
            try restored.mayShouldSign(at: SigningPosition(height: 41, round: 3, step: .prevote), signBytes: [1])
        }
    }

    @Test func theFurthestCopyWinsWhenAnOlderHomeKeptTheGuardInTheChainStore() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let db = try database(home + "/data")
        try SigningStateStore(database: db, filePath: nil).save(guardSigned(at: 9))   // the legacy copy
        let store = try SigningStateStore(database: db, filePath: home + "/signing_state")
        #expect(try store.load().last?.height == 9, "the legacy chain-store copy is read when there is no file")
        try store.save(guardSigned(at: 12))
        #expect(try store.load().last?.height == 12, "the newer file wins over the legacy copy")
    }

    @Test func aCorruptCopyStopsTheStart() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        try Data([0xFF, 0x00, 0x13]).write(to: URL(fileURLWithPath: file))
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        #expect(throws: StoreError.self) { try store.load() }
    }
}
