// RocksConsensusWALTests.swift — the node's consensus WAL in RocksDB: what was synced survives a reopen, a new
// height truncates it, a torn last record is dropped, and corruption, another chain or a later height refuse the
// start naming the data directory.
import Foundation
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisStore
@testable import TrellisNode

@Suite struct RocksConsensusWALTests {
    let chainID = "wal-test-1"
    let set: ValidatorSet
    let key = SigningKey.generate()

    init() throws {
        set = try ValidatorSet([Validator(publicKey: key.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1")])
    }

    private func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("trellis-wal-\(UUID().uuidString)").path
    }

    private func database(_ path: String) throws -> Database {
        try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: RocksChainStore.format)
    }

    private func vote(height: UInt64, round: UInt32) -> Vote {
        Vote.signed(VoteBody(type: .prevote, height: height, round: round, blockID: nil, validator: key.publicKey), chainID: chainID, key: key)
    }

    @Test func entriesSurviveAReopenAndANewHeightTruncates() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            try wal.appendUnrefusable(.startHeight(height: 1, validatorSet: set))
            try wal.appendUnrefusable(.voteReceived(vote(height: 1, round: 0)))
            try wal.appendUnrefusable(.voteReceived(vote(height: 2, round: 0)))  // buffered for the next height
            try wal.appendUnrefusable(.timeoutFired(Timeout(height: 1, round: 0, step: .propose)))
            try wal.sync()
        }
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            #expect(try wal.entries().count == 4)
            #expect(wal.droppedTornRecord == nil)
            try wal.appendUnrefusable(.startHeight(height: 2, validatorSet: set))
            try wal.sync()
        }
        let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
        // Every earlier entry is gone, the message for height 2 too: the replica logs it again when it hands it to
        // the state machine after the start (a replay must not see what the machine's bounded buffer dropped).
        #expect(try wal.entries() == [.startHeight(height: 2, validatorSet: set)])
    }

    @Test func aFullWALRefusesRefusableReceivedMessagesButNotTheOthersNorTheNodesOwnEvents() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID, maxEntries: 2)
            try wal.appendUnrefusable(.startHeight(height: 1, validatorSet: set))
            try wal.append(.voteReceived(vote(height: 1, round: 0)), refusable: true)
            #expect(throws: WALError.full(limit: 2)) { try wal.append(.voteReceived(vote(height: 1, round: 1)), refusable: true) }
            try wal.append(.voteReceived(vote(height: 1, round: 2)), refusable: false)
            try wal.appendUnrefusable(.timeoutFired(Timeout(height: 1, round: 0, step: .propose)))
            try wal.sync()
        }
        let reopened = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID, maxEntries: 2)
        #expect(try reopened.entries() == [.startHeight(height: 1, validatorSet: set), .voteReceived(vote(height: 1, round: 0)),
                                           .voteReceived(vote(height: 1, round: 2)), .timeoutFired(Timeout(height: 1, round: 0, step: .propose))])
    }

    @Test func aStartAndItsTakenMessagesAreOneWrite() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            try wal.appendUnrefusable(.startHeight(height: 1, validatorSet: set))
            try wal.appendUnrefusable(.voteReceived(vote(height: 2, round: 0)))
            try wal.append(contentsOf: [.startHeight(height: 2, validatorSet: set), .voteReceived(vote(height: 2, round: 0)),
                                        .voteReceived(vote(height: 2, round: 1))])
            #expect(wal.count == 3)
            // No sync: the write survives a process kill (RocksDB's log), whole.
        }
        let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
        #expect(try wal.entries() == [.startHeight(height: 2, validatorSet: set), .voteReceived(vote(height: 2, round: 0)),
                                      .voteReceived(vote(height: 2, round: 1))])
    }

    @Test func aTornLastRecordIsDroppedAndACorruptEarlierOneRefusesTheStart() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            try wal.appendUnrefusable(.startHeight(height: 1, validatorSet: set))
            try wal.appendUnrefusable(.voteReceived(vote(height: 1, round: 0)))
            try wal.appendUnrefusable(.voteReceived(vote(height: 1, round: 1)))
            try wal.sync()
        }
        func cut(_ sequence: UInt64, keep: Int) throws {
            let db = try database(path)
            let cf = try db.columnFamily("consensus")
            var walKey = RocksConsensusWAL.entryPrefix
            withUnsafeBytes(of: sequence.bigEndian) { walKey += $0 }
            let value = try #require(try db.get(cf, key: walKey))
            try db.put(cf, key: walKey, value: Array(value.prefix(keep)), sync: true)
        }
        try cut(2, keep: 20)  // the last record, cut short
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            #expect(try wal.entries().count == 2)
            #expect(wal.droppedTornRecord?.contains("record 2") == true)
        }
        try cut(0, keep: 30)  // now the first record is damaged and others follow it
        #expect {
            _ = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
        } throws: { error in
            let text = "\(error)"
            return text.contains(path) && text.contains("corrupt") && text.contains("record 0")
        }
    }

    @Test func theEvidenceRecordSurvivesAReopenAndANewHeightAndABadOneIsDroppedNotFatal() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let other = Vote.signed(VoteBody(type: .prevote, height: 1, round: 0, blockID: SHA256.hash([1]), validator: key.publicKey), chainID: chainID, key: key)
        let pair = try #require(DuplicateVoteEvidence(vote(height: 1, round: 0), other))
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            #expect(try wal.evidence().isEmpty)
            try wal.appendUnrefusable(.startHeight(height: 1, validatorSet: set))
            try wal.saveEvidence([pair])
            try wal.appendUnrefusable(.startHeight(height: 2, validatorSet: set))  // truncates the entries, not the evidence
            try wal.sync()
        }
        do {
            let wal = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
            #expect(try wal.evidence() == [pair])
            #expect(try wal.entries() == [.startHeight(height: 2, validatorSet: set)])
        }
        let db = try database(path)
        try db.put(try db.columnFamily("consensus"), key: RocksConsensusWAL.evidenceKey, value: [0, 0, 0, 9, 1, 2, 3, 4, 5], sync: true)
        let wal = try RocksConsensusWAL(database: db, path: path, chainID: chainID)
        #expect(try wal.evidence().isEmpty)
        #expect(wal.droppedEvidenceRecord != nil)
        #expect(try wal.entries() == [.startHeight(height: 2, validatorSet: set)])
        #expect(try db.get(try db.columnFamily("consensus"), key: RocksConsensusWAL.evidenceKey) == nil, "deleted: the next start does not warn again")
    }

    @Test func aWALOfAnotherChainRefusesTheStart() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try RocksConsensusWAL(database: try database(path), path: path, chainID: "other-chain")
        #expect(throws: WALOpenError.otherChain(path: path, found: "other-chain", expected: chainID)) {
            _ = try RocksConsensusWAL(database: try database(path), path: path, chainID: chainID)
        }
    }
}
