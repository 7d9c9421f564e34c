// AtomicFile.swift — replaces a file so that readers (and a crash) see either the old content or the new, never
// a half-written file: write a temporary file in the same directory, fsync it, rename it over the target, fsync
// the directory. Used for files edited in place (the genesis being assembled in a ceremony) and for the node's
// signing state.
import Foundation
import TrellisCrypto
#if canImport(Glibc)
import Glibc
#endif

public enum AtomicFile {
    /// Why a file could not be replaced; the target is untouched in every case but a failed sync of the directory
    /// after the rename.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let operation: String
        public let errorNumber: Int32
        public var description: String { "cannot write \(path): \(operation) failed: \(String(cString: strerror(errorNumber)))" }
    }

    /// Replaces (or creates) `path` with `data`, mode `mode`.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(WriteError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: path, operation: "open \(temporary)", errorNumber: errno) }
        var failure: WriteError?
        do { try Descriptor.writeAll(fd, [UInt8](data)) } catch { failure = WriteError(path: path, operation: "write", errorNumber: error.errorNumber) }
        if failure == nil && fsync(fd) != 0 { failure = WriteError(path: path, operation: "fsync", errorNumber: errno) }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = WriteError(path: path, operation: "rename", errorNumber: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
        // The rename itself must reach the disk too: a caller told "written" relies on it (the signing guard), so a
        // directory that cannot be synced is an error (the new content is in place, but may not survive a power loss).
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { throw WriteError(path: path, operation: "open directory \(directory)", errorNumber: errno) }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else { throw WriteError(path: path, operation: "fsync directory \(directory)", errorNumber: errno) }
    }
}
