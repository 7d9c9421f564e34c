// PrivateFile.swift — the file handling every secret on disk shares (key files, bearer-token files): written with
// mode 0600 and synced to disk, created exclusively unless the caller overwrites; read only when it is a regular
// file that neither group nor others may read or write, and only up to a size bound (checked on the file's size
// before reading, and again on what was read). `KeyFile` and `TokenFile` map its failures to their own errors.
//
// Crash safety of a write: the bytes go to a new temporary file in the same directory (created exclusively, mode
// 0600 from the start), are fsynced, and only then does the file take its name — by link(2) when the name must not
// exist yet (atomic: two writers cannot both win), by rename(2) when overwriting — and the directory is fsynced so
// the name itself survives a power loss. A crash at any point leaves at the path either nothing, the previous file
// whole, or the new file whole — never a half-written key; at worst a `.<name>.tmp-XXXXXX` file stays beside it,
// which the next write of the same name removes (only files of exactly that pattern, regular, and untouched for
// `leftoverAgeSeconds`, so a write running now in another process keeps its temporary file).
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
    /// `overwrite` — fsynced, then published under its name atomically and the directory fsynced (header comment).
    /// `beforePublishing` runs once the temporary file holds every byte, synced, and before the name changes: tests
    /// stop there (a simulated crash) to see what a crash would leave. On any failure the temporary file is removed.
    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool,
                      beforePublishing: (_ temporaryPath: String) throws(Failure) -> Void = { _ in }) throws(Failure) {
        let (directory, name) = split(path)
        removeLeftovers(directory: directory, name: name)
        var template = Array("\(directory)/\(temporaryPrefix(name))XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw .io(operation: "create", errno: errno) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var published = false
        defer { if !published { unlink(temporary) } }
        do { try fill(fd, with: bytes) } catch {
            close(fd)
            throw error
        }
        if close(fd) != 0 { throw .io(operation: "close", errno: errno) }
        try beforePublishing(temporary)
        if overwrite {
            if rename(temporary, path) != 0 { throw .io(operation: "rename", errno: errno) }
        } else if link(temporary, path) != 0 {
            let e = errno
            if e == EEXIST { throw .alreadyExists }
            // A file system without hard links: refuse an existing name, then rename (exclusive except against a
            // writer racing in that instant, which link(2) would have caught).
            guard [EPERM, EOPNOTSUPP, ENOSYS].contains(e) else { throw .io(operation: "link", errno: e) }
            var st = stat()
            if lstat(path, &st) == 0 { throw .alreadyExists }
            if rename(temporary, path) != 0 { throw .io(operation: "rename", errno: errno) }
        } else {
            unlink(temporary)
        }
        published = true
        // The name (the directory entry) reaches the disk too: without this a power loss could undo the rename.
        let directoryFD = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryFD < 0 { throw .io(operation: "open directory", errno: errno) }
        defer { close(directoryFD) }
        if fsync(directoryFD) != 0 { throw .io(operation: "fsync directory", errno: errno) }
    }

    /// A leftover temporary file must be at least this old (last modified) to be removed: a write takes
    /// milliseconds, so one that old belongs to a crashed writer, never to one running now.
    static let leftoverAgeSeconds = 60

    /// `.<name>.tmp-` (the name cut to 200 bytes, so the temporary file's name stays within NAME_MAX however long
    /// the target's is), followed by mkstemp's six characters.
    static func temporaryPrefix(_ name: String) -> String {
        ".\(String(name.utf8.prefix(200)) ?? "secret").tmp-"
    }

    /// Removes, best effort, the temporary files crashed writes of `name` left in `directory`: regular files named
    /// exactly `temporaryPrefix(name)` + six letters or digits, last modified at least `leftoverAgeSeconds` ago.
    /// Nothing else is touched — not another name's files, not a file of another shape. Returns what it removed.
    @discardableResult
    static func removeLeftovers(directory: String, name: String) -> [String] {
        let prefix = temporaryPrefix(name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let now = time(nil)
        var removed: [String] = []
        for entry in entries where entry.hasPrefix(prefix) {
            let suffix = entry.utf8.dropFirst(prefix.utf8.count)
            guard suffix.count == 6, suffix.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else { continue }
            let path = "\(directory)/\(entry)"
            var st = stat()
            guard lstat(path, &st) == 0, (UInt32(st.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFREG),
                  now - st.st_mtim.tv_sec >= leftoverAgeSeconds else { continue }
            if unlink(path) == 0 { removed.append(entry) }
        }
        return removed
    }

    /// Makes `fd` exactly 0600 and close-on-exec, writes every byte and fsyncs: the contents reach the disk before
    /// any name points at them.
    private static func fill(_ fd: Int32, with bytes: [UInt8]) throws(Failure) {
        // mkstemp creates 0600 less the umask: set exactly 0600 before the secret is written.
        if fchmod(fd, mode_t(0o600)) != 0 { throw .io(operation: "chmod 600", errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        do { try Descriptor.writeAll(fd, bytes) } catch { throw .io(operation: "write", errno: error.errorNumber) }
        if fsync(fd) != 0 { throw .io(operation: "fsync", errno: errno) }
    }

    /// The directory (`.` for a bare name) and the last component of `path`.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
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
