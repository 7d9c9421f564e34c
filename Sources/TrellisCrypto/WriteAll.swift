// WriteAll.swift — write(2) of a whole buffer: short writes continued, writes a signal interrupted (EINTR) retried.
// The one loop for every module that writes a file or a standard stream byte by byte (key and token files, atomic
// file replacement, the CLI's output); the lowest module they all import.
#if canImport(Glibc)
import Glibc
#endif

/// Why `Descriptor.writeAll` stopped: write(2)'s errno, and how many bytes had been written before it.
public struct WriteAllError: Error, Equatable, CustomStringConvertible {
    public let errorNumber: Int32
    public let bytesWritten: Int

    public init(errorNumber: Int32, bytesWritten: Int) {
        self.errorNumber = errorNumber
        self.bytesWritten = bytesWritten
    }

    public var description: String { "write failed after \(bytesWritten) bytes: \(String(cString: strerror(errorNumber))) (errno \(errorNumber))" }
}

/// Writing to a file descriptor.
public enum Descriptor {
    /// Writes every byte of `bytes` to `fd`: a short write is continued from where it stopped and a write
    /// interrupted by a signal before it wrote anything (EINTR) is made again; any other failure throws its errno.
    /// A write that reports 0 bytes for a non-empty buffer would repeat for ever: it throws EIO.
    /// `write` is write(2); tests pass another to script short writes and interruptions.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8],
                                using write: (Int32, UnsafeRawPointer, Int) -> Int = { Glibc.write($0, $1, $2) }) throws(WriteAllError) {
        try writeAll(fd, bytes, from: { fd, pointer, count, _ in write(fd, pointer, count) })
    }

    /// Writes every byte of `bytes` at `offset` of `fd` (pwrite(2): the descriptor's file offset does not move), with
    /// the same continuation, retry and errors as `writeAll(_:_:using:)`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int) throws(WriteAllError) {
        try writeAll(fd, bytes, from: { fd, pointer, count, written in pwrite(fd, pointer, count, off_t(offset + written)) })
    }

    /// The one loop: `write(fd, pointer, count, bytesWrittenSoFar)` until every byte is written.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], from write: (Int32, UnsafeRawPointer, Int, Int) -> Int) throws(WriteAllError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written, written) }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                throw WriteAllError(errorNumber: n == 0 ? EIO : errno, bytesWritten: written)
            }
        }
    }
}
