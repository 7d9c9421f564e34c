// PipeRead.swift — reading a child process's output pipes in tests without Foundation's `FileHandle` reads.
//
// `FileHandle.readDataToEndOfFile()` and `availableData` wrap read(2) in `try!`: a read interrupted by a signal
// (EINTR — the test process has child processes coming and going, and handlers it does not control) traps the whole
// test process. That happened on CI (stop 24: "FileHandle.swift:699: Fatal error: 'try!' expression unexpectedly
// raised an error … Interrupted system call"), and every test still running died with it. These reads retry on EINTR,
// and `readToEnd(_:_:)` reads both pipes as they fill (poll(2)), so a child that writes more than a pipe's buffer to
// standard error before it closes standard output cannot block against a reader waiting for the other pipe.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum PipeRead {
    /// Everything written to `first` and `second` until both are closed by every writer, read concurrently.
    public static func readToEnd(_ first: FileHandle, _ second: FileHandle) -> (Data, Data) {
        var outputs = [Data(), Data()]
        var fds: [pollfd] = [pollfd(fd: first.fileDescriptor, events: Int16(POLLIN), revents: 0),
                             pollfd(fd: second.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        var open = [true, true]
        while open[0] || open[1] {
            for i in 0..<2 { fds[i].fd = open[i] ? [first, second][i].fileDescriptor : -1; fds[i].revents = 0 }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                switch readOnce(fds[i].fd) {
                case .some(let chunk) where !chunk.isEmpty: outputs[i].append(chunk)
                default: open[i] = false  // end of file, or an error other than EINTR
                }
            }
        }
        return (outputs[0], outputs[1])
    }

    /// Everything written to `handle` until every writer has closed it.
    public static func readToEnd(_ handle: FileHandle) -> Data {
        var output = Data()
        while let chunk = readOnce(handle.fileDescriptor), !chunk.isEmpty { output.append(chunk) }
        return output
    }

    /// What one read(2) returns, blocking until something is there: empty at end of file (or on an error other
    /// than EINTR, which is retried). `FileHandle.availableData` without the trap.
    public static func available(_ handle: FileHandle) -> Data {
        readOnce(handle.fileDescriptor) ?? Data()
    }

    /// One read(2) of up to 64 KiB, retried on EINTR; nil on any other error.
    static func readOnce(_ fd: Int32) -> Data? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return Data(buffer[0..<count]) }
            if errno != EINTR { return nil }
        }
    }
}
