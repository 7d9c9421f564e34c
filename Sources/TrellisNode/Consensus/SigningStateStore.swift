// SigningStateStore.swift — the durable copy of the consensus signing guard.
//
// DURABILITY RULE (CometBFT wal.go: "write to disk before sending signed messages"): `save` returns only after the
// guard is on disk (fdatasync). The replica calls it for every `.persistSigningState` effect before performing any
// later effect, so after kill -9 a restarted node loads a guard that covers everything it ever sent and can never
// sign a conflicting vote or proposal.
//
// Where: a file beside node.key (`<home>/signing_state`), outside `data/`, so that restoring `data/` from a backup or
// resyncing after a lost disk cannot roll the guard back (CometBFT keeps priv_validator_state.json apart from its
// data for the same reason). Homes from before the file existed kept the guard in the chain store's `consensus`
// column family: `load` reads both and keeps the one that signed furthest.
//
// The file (version 2, since 2026-12-06; `SigningStateFile`) is two fixed slots written in turn in place: a save
// overwrites the slot holding the older of the two guards and fdatasyncs it — no new file, rename or directory fsync,
// which made every save an ext4 journal commit queued behind RocksDB's flush and compaction writes (2.8–3.1 ms per
// save at half load, 2–3 saves before the votes of every height: docs/PERFORMANCE.md "The fixed cost of a height
// (twelfth)"). A save cut short by a crash can only damage the slot it was writing, whose guard had not been released
// yet; the other slot holds the previous save, which covers everything sent. The version-1 file (the guard's
// canonical bytes alone, written by temp file + fsync + rename) is still read exactly, and the first save after it
// replaces it by a version-2 file the same atomic way; a version-1 binary refuses a version-2 file as corrupt.
import Foundation
import NIOConcurrencyHelpers
import TrellisCodec
import TrellisCrypto
import TrellisConsensus
import TrellisStore
#if canImport(Glibc)
import Glibc
#endif

public final class SigningStateStore: Sendable {
    static let key = Array("signing_guard".utf8)

    private let database: Database
    private let columnFamily: ColumnFamily
    /// The authoritative copy (nil: the chain store only, for in-memory tests).
    public let filePath: String?
    /// The open version-2 file and the sequence of its newer slot (nil until the first load or save found or made one).
    private let open = NIOLockedValueBox<SigningStateFile.Open?>(nil)
    /// Why the last `load` found one slot of the version-2 file invalid while the other was valid (nil: both valid):
    /// a save cut short by a crash — or a damaged disk, which the node cannot tell apart; the node logs it at start.
    public var damagedSlot: String? { damaged.withLockedValue { $0 } }
    private let damaged = NIOLockedValueBox<String?>(nil)

    public init(database: Database, filePath: String?) throws(StoreError) {
        self.database = database
        self.columnFamily = try database.columnFamily("consensus")
        self.filePath = filePath
    }

    deinit {
        open.withLockedValue { if let file = $0 { close(file.descriptor) } }
    }

    /// The saved guard that signed furthest (file or legacy chain-store copy), or an empty one for a node that never
    /// signed. A corrupt copy stops the start: guessing could double-sign.
    public func load() throws(StoreError) -> SigningGuard {
        var best = SigningGuard()
        if let bytes = try database.get(columnFamily, key: Self.key) {
            best = try Self.decode(bytes, source: "the chain store")
        }
        if let filePath, let fromFile = try readFile(filePath) {
            if Self.isFurther(fromFile, than: best) { best = fromFile }
        }
        return best
    }

    /// Makes `signingGuard` durable (fdatasync) before returning.
    public func save(_ signingGuard: SigningGuard) throws(StoreError) {
        let bytes = signingGuard.canonicalBytes
        guard let filePath else {
            var batch = WriteBatch()
            batch.put(columnFamily, key: Self.key, value: bytes)
            try database.write(batch, sync: true)
            return
        }
        try locked { (file) throws(StoreError) in
            if let current = file, !SigningStateFile.descriptor(current.descriptor, isStillAt: filePath) {
                // The file at the path was replaced or removed while open (a restore, an operator's `mv`): saving into
                // the orphan would leave the path's guard behind what this node sends. Write the path anew, whole.
                close(current.descriptor)
                file = nil
            } else if file == nil {
                _ = try readFile(filePath, into: &file)
            }
            if let current = file {
                // In place: the slot of the older guard, then fdatasync.
                let sequence = current.sequence + 1
                do { try SigningStateFile.writeSlot(bytes, sequence: sequence, descriptor: current.descriptor) } catch {
                    throw .operationFailed(operation: StoreError.signingGuardOperation, message: "cannot save \(filePath): \(error)")
                }
                file?.sequence = sequence
                return
            }
            // No version-2 file yet (a new home, or a version-1 file): write one whole, atomically, then keep it open.
            let image: [UInt8]
            do { image = try SigningStateFile.image(bytes, sequence: 1) } catch {
                throw .operationFailed(operation: StoreError.signingGuardOperation, message: "cannot save \(filePath): \(error)")
            }
            do { try AtomicFile.write(Data(image), to: filePath, mode: 0o600) } catch {
                throw .operationFailed(operation: StoreError.signingGuardOperation, message: "cannot save: \(error)")
            }
            let descriptor = Glibc.open(filePath, O_RDWR | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw .operationFailed(operation: StoreError.signingGuardOperation, message: "cannot save \(filePath): open: \(String(cString: strerror(errno)))")
            }
            file = SigningStateFile.Open(descriptor: descriptor, sequence: 1)
        }
    }

    /// The guard in the file at `path` (nil: no file); opens a version-2 file for the next saves.
    private func readFile(_ path: String) throws(StoreError) -> SigningGuard? {
        try locked { (file) throws(StoreError) in try readFile(path, into: &file) }
    }

    /// `body` on the open file's state, under its lock.
    private func locked<T>(_ body: (inout SigningStateFile.Open?) throws(StoreError) -> T) throws(StoreError) -> T {
        try open.withLockedValue { file -> Result<T, StoreError> in
            do throws(StoreError) { return .success(try body(&file)) } catch { return .failure(error) }
        }.get()
    }

    /// Reads the file at `path` through one descriptor (nil: no such file; any other failure to open or read it stops
    /// the start, as a corrupt file does); a version-2 file's descriptor is kept open for the next saves.
    private func readFile(_ path: String, into file: inout SigningStateFile.Open?) throws(StoreError) -> SigningGuard? {
        func failure(_ message: String) -> StoreError {
            .operationFailed(operation: StoreError.signingGuardOperation, message: "\(path): \(message); refusing to start")
        }
        let descriptor = Glibc.open(path, O_RDWR | O_CLOEXEC)
        if descriptor < 0 {
            let error = errno
            if error == ENOENT { return nil }
            throw failure("open: \(String(cString: strerror(error)))")
        }
        var keep = false
        defer { if !keep { close(descriptor) } }
        let bytes: [UInt8]
        do { bytes = try SigningStateFile.readAll(descriptor) } catch { throw failure("\(error)") }
        guard SigningStateFile.isVersion2(bytes) else {
            if bytes.starts(with: SigningStateFile.magic) {
                throw failure("a version-2 signing-state file of \(bytes.count) bytes (expected \(SigningStateFile.fileBytes))")
            }
            return try Self.decode(bytes, source: path)  // version 1
        }
        let newest: (sequence: UInt64, payload: [UInt8], damaged: String?)
        do { newest = try SigningStateFile.newestSlot(bytes) } catch {
            throw failure("the signing guard is corrupt: \(error)")
        }
        damaged.withLockedValue { $0 = newest.damaged }
        let guardState = try Self.decode(newest.payload, source: path)
        if file == nil {
            file = SigningStateFile.Open(descriptor: descriptor, sequence: newest.sequence)
            keep = true
        }
        return guardState
    }

    static func isFurther(_ a: SigningGuard, than b: SigningGuard) -> Bool {
        guard let lastA = a.last else { return false }
        guard let lastB = b.last else { return true }
        return lastA > lastB
    }

    private static func decode(_ bytes: [UInt8], source: String) throws(StoreError) -> SigningGuard {
        do { return try CanonicalDecoder.decode(SigningGuard.self, from: bytes) } catch {
            throw .operationFailed(operation: StoreError.signingGuardOperation, message: "\(source) is corrupt: \(error); refusing to start")
        }
    }
}

/// The signing-state file, version 2: exactly `fileBytes` bytes, two slots of `slotBytes` at offsets 0 and
/// `slotBytes`. A slot: the magic `TRSIGST2` (8 bytes), the save's sequence number (UInt64, big-endian), the guard's
/// length n (UInt32, big-endian), the guard's canonical bytes (n), and SHA-256 of those 20 + n bytes; the rest of the
/// slot is ignored. Save k (k = 1, 2, …) goes to slot k mod 2; the guard in force is the valid slot with the higher
/// sequence. A new file holds the same guard in both slots (sequences 0 and 1).
enum SigningStateFile {
    static let magic: [UInt8] = Array("TRSIGST2".utf8)
    /// A guard is at most 4 + 768 × 109 = 83,716 bytes (`SigningGuard.maxRecords` records of position, hash and
    /// signature); a slot holds 128 KiB.
    static let slotBytes = 128 << 10
    static let fileBytes = 2 * slotBytes
    static let headerBytes = 8 + 8 + 4
    static let maxGuardBytes = slotBytes - headerBytes - 32

    struct Open: Sendable {
        let descriptor: Int32
        /// The sequence of the newer slot.
        var sequence: UInt64
    }

    enum FileError: Error, CustomStringConvertible {
        case tooLarge(Int)
        case noValidSlot(String)
        case io(String, Int32)

        var description: String {
            switch self {
            case .tooLarge(let n): return "a guard of \(n) bytes does not fit a slot of the signing-state file (at most \(SigningStateFile.maxGuardBytes))"
            case .noValidSlot(let reasons): return "neither slot of the version-2 file is valid (\(reasons))"
            case .io(let call, let errorNumber): return "\(call): \(String(cString: strerror(errorNumber)))"
            }
        }
    }

    /// A version-2 file is exactly `fileBytes` long; a version-1 file (one guard's canonical bytes) never is.
    static func isVersion2(_ bytes: [UInt8]) -> Bool { bytes.count == fileBytes }

    /// A slot's bytes for `guardBytes` at `sequence`.
    static func slot(_ guardBytes: [UInt8], sequence: UInt64) throws(FileError) -> [UInt8] {
        guard guardBytes.count <= maxGuardBytes else { throw .tooLarge(guardBytes.count) }
        var out = magic
        out.reserveCapacity(headerBytes + guardBytes.count + 32)
        withUnsafeBytes(of: sequence.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(guardBytes.count).bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: guardBytes)
        out.append(contentsOf: SHA256.hash(out).bytes)
        return out
    }

    /// A whole new file: the guard in both slots, sequences `sequence − 1` and `sequence`.
    static func image(_ guardBytes: [UInt8], sequence: UInt64) throws(FileError) -> [UInt8] {
        precondition(sequence >= 1, "a new file's slots hold sequences sequence - 1 and sequence")
        var image = [UInt8](repeating: 0, count: fileBytes)
        for s in [sequence - 1, sequence] {
            let bytes = try slot(guardBytes, sequence: s)
            let offset = Int(s % 2) * slotBytes
            image.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        }
        return image
    }

    /// The valid slot with the higher sequence: its sequence and guard bytes, and why the other slot is invalid
    /// when it is (nil when both are valid).
    static func newestSlot(_ file: [UInt8]) throws(FileError) -> (sequence: UInt64, payload: [UInt8], damaged: String?) {
        var best: (sequence: UInt64, payload: [UInt8])?
        var reasons: [String] = []
        for index in 0..<2 {
            switch parse(file[(index * slotBytes)..<((index + 1) * slotBytes)]) {
            case .success(let slot):
                if Int(slot.sequence % 2) != index { reasons.append("slot \(index): sequence \(slot.sequence) belongs to the other slot"); continue }
                if best.map({ slot.sequence > $0.sequence }) ?? true { best = slot }
            case .failure(let reason): reasons.append("slot \(index): \(reason.text)")
            }
        }
        guard let best else { throw .noValidSlot(reasons.joined(separator: "; ")) }
        return (best.sequence, best.payload, reasons.isEmpty ? nil : reasons.joined(separator: "; "))
    }

    /// The whole content of the open file `descriptor` (from offset 0), at most `fileBytes` + 1 bytes: a larger
    /// file is neither version (a version-1 guard is at most `maxGuardBytes`).
    static func readAll(_ descriptor: Int32) throws(FileError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: fileBytes + 1)
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + total, $0.count - total, off_t(total)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("read", errno)
            }
            if n == 0 { break }
            total += n
        }
        guard total <= fileBytes else { throw .io("read (the file is larger than \(fileBytes) bytes)", EFBIG) }
        return Array(bytes[0..<total])
    }

    /// Whether the open `descriptor` is still the file at `path` (not replaced by a rename, not removed).
    static func descriptor(_ descriptor: Int32, isStillAt path: String) -> Bool {
        var open = stat(), named = stat()
        guard fstat(descriptor, &open) == 0, open.st_nlink > 0, stat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    struct Reason: Error { let text: String }

    private static func parse(_ slot: ArraySlice<UInt8>) -> Result<(sequence: UInt64, payload: [UInt8]), Reason> {
        let base = slot.startIndex
        guard slot.prefix(magic.count).elementsEqual(magic) else { return .failure(Reason(text: "no TRSIGST2 magic")) }
        let sequence = slot[(base + 8)..<(base + 16)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let length = Int(slot[(base + 16)..<(base + 20)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= maxGuardBytes else { return .failure(Reason(text: "length \(length) exceeds the slot")) }
        let end = base + headerBytes + length
        guard SHA256.hash(Array(slot[base..<end])).bytes.elementsEqual(slot[end..<(end + 32)]) else {
            return .failure(Reason(text: "checksum mismatch (a save cut short, or a damaged disk)"))
        }
        return .success((sequence, Array(slot[(base + headerBytes)..<end])))
    }

    /// Overwrites slot `sequence mod 2` of the open file with the guard at `sequence` and fdatasyncs it (the file's
    /// size never changes, so the data alone is synced).
    static func writeSlot(_ guardBytes: [UInt8], sequence: UInt64, descriptor: Int32) throws(FileError) {
        let bytes = try slot(guardBytes, sequence: sequence)
        do { try Descriptor.writeAll(descriptor, bytes, at: Int(sequence % 2) * slotBytes) } catch { throw .io("write", error.errorNumber) }
        guard fdatasync(descriptor) == 0 else { throw .io("fdatasync", errno) }
    }
}
