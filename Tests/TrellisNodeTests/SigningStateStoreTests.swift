// SigningStateStoreTests.swift — the signing guard lives beside node.key: a lost or restored data directory cannot
// roll it back; a home from before the file existed keeps its chain-store copy; a corrupt copy stops the start; the
// version-2 file is written in place, slot by slot, and a save cut short leaves the previous guard readable.
import Foundation
import Testing
import TrellisCodec
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

    private func inode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
    }

    @Test func savesAfterTheFirstOverwriteTheFileInPlaceAndTheLastOneIsLoaded() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        try store.save(guardSigned(at: 1))
        let first = try inode(file)
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int == SigningStateFile.fileBytes)
        for height in 2...9 as ClosedRange<UInt64> {
            try store.save(guardSigned(at: height))
            #expect(try inode(file) == first, "save \(height) replaced the file instead of writing a slot in place")
            // A fresh process (a restart) reads what was saved last.
            let reloaded = try SigningStateStore(database: try database(home + "/data2-\(height)"), filePath: file).load()
            #expect(reloaded.last?.height == height)
        }
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aSaveCutShortLeavesThePreviousGuard() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        for height in 1...4 as ClosedRange<UInt64> { try store.save(guardSigned(at: height)) }
        // The save of height 5 was cut short by a crash: its slot holds part of the new bytes over the old ones.
        let whole = try SigningStateFile.slot(guardSigned(at: 5).canonicalBytes, sequence: 5)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let offset = SigningStateFile.slotBytes  // sequence 5 → slot 1
        for cut in [16, 20, whole.count / 2, whole.count - 1] {  // 16: magic and the new sequence, nothing after
            var torn = bytes
            torn.replaceSubrange(offset..<(offset + cut), with: whole[0..<cut])
            try Data(torn).write(to: URL(fileURLWithPath: file))
            let reopened = try SigningStateStore(database: try database(home + "/data-\(cut)"), filePath: file)
            #expect(try reopened.load().last?.height == 4, "a torn slot (\(cut) of \(whole.count) bytes) must leave the previous guard")
            #expect(reopened.damagedSlot?.contains("slot 1") == true, "the torn slot is reported, to be logged at start")
        }
        // Only the slot's tail reached the disk (sectors written out of order): the same.
        var tailOnly = bytes
        tailOnly.replaceSubrange((offset + 40)..<(offset + whole.count), with: whole[40...])
        try Data(tailOnly).write(to: URL(fileURLWithPath: file))
        #expect(try SigningStateStore(database: try database(home + "/data-tail"), filePath: file).load().last?.height == 4)
        // Whole, it is the guard in force.
        bytes.replaceSubrange(offset..<(offset + whole.count), with: whole)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(try SigningStateStore(database: try database(home + "/data-whole"), filePath: file).load().last?.height == 5)
    }

    @Test func aRestartAfterATornSaveWritesTheTornSlotAndKeepsThePreviousGuard() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        for height in 1...4 as ClosedRange<UInt64> { try store.save(guardSigned(at: height)) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[SigningStateFile.slotBytes + 30] ^= 0x01  // the save of height 5 into slot 1 was cut short
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let slotZero = Array(bytes[0..<SigningStateFile.slotBytes])
        // The restarted node loads the previous guard, then saves its next one: into the torn slot, not over slot 0.
        let restarted = try SigningStateStore(database: try database(home + "/data2"), filePath: file)
        #expect(try restarted.load().last?.height == 4)
        try restarted.save(guardSigned(at: 6))
        let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(Array(after[0..<SigningStateFile.slotBytes]) == slotZero, "the valid slot must not be overwritten")
        let reloaded = try SigningStateStore(database: try database(home + "/data3"), filePath: file)
        #expect(try reloaded.load().last?.height == 6)
        #expect(reloaded.damagedSlot == nil)
    }

    @Test func aFileReplacedWhileOpenIsWrittenAnewByTheNextSave() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        for height in 1...3 as ClosedRange<UInt64> { try store.save(guardSigned(at: height)) }
        // An operator restores an old copy over the path (a rename, as `mv` and most restore tools do).
        let old = home + "/restored"
        try Data(guardSigned(at: 1).canonicalBytes).write(to: URL(fileURLWithPath: old))
        #expect(rename(old, file) == 0)
        try store.save(guardSigned(at: 4))
        #expect(try SigningStateStore(database: try database(home + "/data2"), filePath: file).load().last?.height == 4,
                "the save must reach the file at the path, not the replaced one")
        // Removed: the next save creates it again.
        try FileManager.default.removeItem(atPath: file)
        try store.save(guardSigned(at: 5))
        #expect(try SigningStateStore(database: try database(home + "/data3"), filePath: file).load().last?.height == 5)
    }

    @Test func aFileThatCannotBeReadOrHasTheWrongSizeStopsTheStart() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        // A directory where the file should be: not "no guard", a refusal.
        try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: false)
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        #expect(throws: StoreError.self) { try store.load() }
        try FileManager.default.removeItem(atPath: file)
        // A version-2 file cut to another size.
        try store.save(guardSigned(at: 3))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        try Data(bytes[0..<(SigningStateFile.slotBytes + 100)]).write(to: URL(fileURLWithPath: file))
        let reopened = try SigningStateStore(database: try database(home + "/data2"), filePath: file)
        #expect(throws: StoreError.self) { try reopened.load() }
    }

    @Test func aFileWithNeitherSlotValidStopsTheStart() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        try SigningStateStore(database: try database(home + "/data"), filePath: file).save(guardSigned(at: 3))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[30] ^= 0x01                                // slot 0's guard bytes
        bytes[SigningStateFile.slotBytes + 30] ^= 0x01   // slot 1's
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let store = try SigningStateStore(database: try database(home + "/data2"), filePath: file)
        let error = #expect(throws: StoreError.self) { try store.load() }
        // Said as what it is — the signing guard, not a database operation — and where to read what to do.
        let message = error.map { "\($0)" } ?? ""
        #expect(message.hasPrefix("signing guard: \(file)") && message.contains("OPERATIONS.md §6") && !message.contains("database"), "\(message)")
    }

    @Test func aVersionOneFileIsReadAndReplacedByTheFirstSave() throws {
        let home = directory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/signing_state"
        // What the node wrote until 2026-12-06: the guard's canonical bytes alone.
        try Data(guardSigned(at: 7).canonicalBytes).write(to: URL(fileURLWithPath: file))
        let store = try SigningStateStore(database: try database(home + "/data"), filePath: file)
        #expect(try store.load().last?.height == 7)
        try store.save(guardSigned(at: 8))
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int == SigningStateFile.fileBytes)
        #expect(try SigningStateStore(database: try database(home + "/data2"), filePath: file).load().last?.height == 8)
        // An earlier release reads the file as one guard's canonical bytes: a version-2 file does not decode, so it
        // refuses to start instead of signing from an empty guard.
        let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(SigningGuard.self, from: image) }
    }

    @Test func theLargestGuardFitsASlot() throws {
        var g = SigningGuard()
        for round in 0..<UInt32(SigningGuard.maxRecords) {
            let bytes = Array("round \(round)".utf8)
            g.record(key.sign(bytes), at: SigningPosition(height: .max, round: round, step: .precommit), signBytes: bytes)
        }
        #expect(g.records.count == SigningGuard.maxRecords)
        #expect(g.canonicalBytes.count <= SigningStateFile.maxGuardBytes)
        let image = try SigningStateFile.image(g.canonicalBytes, sequence: 1)
        #expect(try SigningStateFile.newestSlot(image).payload == g.canonicalBytes)
    }
}
