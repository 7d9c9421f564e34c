// PrivateFile.swift — the file handling every secret on disk shares (key files, bearer-token files): written with
// mode 0600 and synced to disk, created exclusively unless the caller overwrites; read only when it is a regular
// file that neither group nor others may read or write, and only up to a size bound (checked on the file's size
// before reading, and again on what was read). `KeyFile` and `TokenFile` map its failures to their own errors.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum PrivateFile {
    /// Why a private file could not be written or read.
    enum Failure: Error, Equatable {
        case notFound
        /// Exclusive creation found a file there.
        case alreadyExists
        case notRegularFile
        /// Group or other permission bits are set (`mode` is the file's `0o777` bits).
        case permissionsTooOpen(mode: UInt32)
        /// Larger than the bound: `bytes` is the file's size, or what was read when it grew while being read.
        case tooLarge(bytes: Int)
        /// A system call failed.
        case io(operation: String, errno: Int32)
    }

    /// Writes `bytes` to `path` with mode 0600 — created exclusively (`alreadyExists` if a file is there) unless
    /// `overwrite` — and fsyncs it before returning.
    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(Failure) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, mode_t(0o600))
        if fd < 0 {
            let e = errno
            if e == EEXIST { throw .alreadyExists }
            throw .io(operation: "create", errno: e)
        }
        defer { close(fd) }
        // An overwritten file may have had wider permissions (and a new one a narrower umask): set exactly 0600
        // before the secret is written.
        if fchmod(fd, mode_t(0o600)) != 0 { throw .io(operation: "chmod 600", errno: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", errno: errno)
            }
            written += n
        }
        if fsync(fd) != 0 { throw .io(operation: "fsync", errno: errno) }
    }

    /// The contents of `path`, at most `maxBytes`, after checking it is a regular file without group or other
    /// permission bits.
    static func read(_ path: String, maxBytes: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw .notFound }
            throw .io(operation: "open", errno: e)
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .io(operation: "stat", errno: errno) }
        if (UInt32(st.st_mode) & UInt32(S_IFMT)) != UInt32(S_IFREG) { throw .notRegularFile }
        let mode = UInt32(st.st_mode) & 0o777
        if mode & 0o077 != 0 { throw .permissionsTooOpen(mode: mode) }
        if st.st_size > maxBytes { throw .tooLarge(bytes: Int(st.st_size)) }
        var buffer = [UInt8](repeating: 0, count: maxBytes + 1)
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", errno: errno)
            }
            if n == 0 { break }
            total += n
        }
        if total > maxBytes { throw .tooLarge(bytes: total) }
        return Array(buffer[..<total])
    }
}
