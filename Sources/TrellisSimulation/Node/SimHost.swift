// SimHost.swift — the simulated world a `Replica` runs in: network and timers are an outbox the simulation
// drains after every step, the clock is the simulated clock, and the disk is `SimDisk`.
//
// Crash model: a planned crash sets `operationsBeforeCrash`; every durable write, sync, send, timer and ledger
// commit counts as one operation, and once the budget is spent the "process" is dead: nothing further is written,
// sent or committed (the simulation then discards the replica, and the WAL's unsynced tail with it). So a crash
// can fall between any two I/O operations — between the WAL sync and the broadcast, or just before a commit.
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// A node's disk: what survives a crash.
final class SimDisk {
    var wal: InMemoryWAL

    init(maxWALEntries: Int) {
        wal = InMemoryWAL(maxEntries: maxWALEntries)
    }
    /// The signing guard as last persisted.
    var durableGuard = SigningGuard()
}

/// What a replica did during one step, in order.
enum SimOutput {
    /// A signed message of this node; `durable` is its guard on disk at the time of the send.
    case broadcast(ConsensusMessage, durable: SigningGuard)
    case gossip([ConsensusMessage])
    case syncAll(SyncMessage)
    case sync(SyncMessage, to: Int)
    case timer(ReplicaTimer, afterMilliseconds: UInt64)
    case committed(Block, CommitCertificate, ValidatorSet, CommitSource)
    case halted(HaltReason)
    case evidence(DuplicateVoteEvidence)
    case report(String)
    /// The WAL's bound refused a received message (reported as text too).
    case walFull
}

/// One incarnation's I/O.
final class SimHost: ReplicaHost {
    typealias Peer = Int

    let disk: SimDisk
    /// Planted replica-host bug: never sync the WAL.
    let skipWALSync: Bool
    var now: UInt64 = 0
    var outbox: [SimOutput] = []
    /// Operations left before a planned crash; nil: none planned.
    var operationsBeforeCrash: Int?
    private(set) var crashed = false

    init(disk: SimDisk, skipWALSync: Bool) {
        self.disk = disk
        self.skipWALSync = skipWALSync
    }

    /// Spends one operation; false once the process is dead.
    func operate() -> Bool {
        guard !crashed else { return false }
        if let left = operationsBeforeCrash {
            if left == 0 {
                crashed = true
                return false
            }
            operationsBeforeCrash = left - 1
        }
        return true
    }

    private func emit(_ output: SimOutput) {
        if operate() { outbox.append(output) }
    }

    // MARK: ReplicaNetwork

    func broadcast(_ message: ConsensusMessage) { emit(.broadcast(message, durable: disk.durableGuard)) }
    func gossip(_ messages: [ConsensusMessage]) { emit(.gossip(messages)) }
    func broadcastSync(_ message: SyncMessage) { emit(.syncAll(message)) }
    func send(_ message: SyncMessage, to peer: Int) { emit(.sync(message, to: peer)) }

    // MARK: ReplicaClock

    func schedule(_ timer: ReplicaTimer, afterMilliseconds milliseconds: UInt64) { emit(.timer(timer, afterMilliseconds: milliseconds)) }
    var monotonicMilliseconds: UInt64 { now }
    var unixSeconds: Int64 { Int64(now / 1000) }

    // MARK: ReplicaStorage

    func saveSigningState(_ signingGuard: SigningGuard) throws(PersistenceError) {
        guard operate() else { return }
        disk.durableGuard = signingGuard
    }

    func appendWAL(_ event: Event, refusable: Bool) throws(WALError) {
        guard operate() else { return }
        try disk.wal.append(event, refusable: refusable)
    }

    /// One I/O operation: a crash lands before or after the whole write, as RocksDB's batch.
    func appendWAL(contentsOf events: [Event]) throws(WALError) {
        guard operate() else { return }
        try disk.wal.append(contentsOf: events)
    }

    func syncWAL() throws(WALError) {
        guard !skipWALSync, operate() else { return }
        try disk.wal.sync()
    }

    func walEntries() throws(WALError) -> [Event] { try disk.wal.entries() }

    func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError) {
        guard operate() else { return }
        try disk.wal.saveEvidence(evidence)
    }

    func storedEvidence() throws(WALError) -> [DuplicateVoteEvidence] { try disk.wal.evidence() }

    // MARK: ReplicaObserver

    func replicaCommitted(_ block: Block, certificate: CommitCertificate, validatorSet: ValidatorSet, source: CommitSource) {
        outbox.append(.committed(block, certificate, validatorSet, source))  // the commit itself was the operation
    }
    func replicaHalted(_ reason: HaltReason) { if !crashed { outbox.append(.halted(reason)) } }
    func replicaRecordedEvidence(_ evidence: DuplicateVoteEvidence) { if !crashed { outbox.append(.evidence(evidence)) } }
    func replicaReported(_ report: ReplicaReport) {
        guard !crashed else { return }
        outbox.append(.report(report.description))
        if case .walFull = report { outbox.append(.walFull) }
    }
    var hasPendingTransactions: Bool { true }
}

/// The simulated application as a replica sees it: a commit is a durable write, so it spends an operation and
/// fails once the process is dead.
struct SimNodeApplication: ConsensusApplication {
    var app: SimApplication
    let host: SimHost

    var committedHeight: UInt64 { app.committedHeight }
    func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet { try app.validatorSet(forHeight: height) }
    mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block { try app.buildBlock(request, time: time) }
    func validate(_ block: Block) throws(ApplicationError) { try app.validate(block) }
    mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) {
        guard host.operate() else { throw .storage("the process crashed before this commit") }
        try app.commit(block, certificate: certificate)
    }
    func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? { app.committedBlock(at: height) }
    func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool { app.hasRecordedEvidence(against: validator, height: height) }
}

typealias SimReplica = Replica<SimNodeApplication, SimHost>
