// WriteAllTests.swift — `Descriptor.writeAll`, the one write loop of key and token files, atomic file replacement and
// the CLI's output: short writes continue where they stopped, EINTR is retried, any other errno is thrown with the
// bytes written before it, a write of 0 bytes does not loop for ever, and a real pipe gets every byte in order.
import Foundation
import Testing
import TrellisCrypto
#if canImport(Glibc)
import Glibc
#endif

@Suite struct WriteAllTests {
    /// A scripted write(2): each call takes the next step — write up to n bytes, or fail with an errno — and records
    /// what it was given.
    final class ScriptedWrite {
        enum Step { case write(Int), fail(Int32) }
        var steps: [Step]
        var received: [UInt8] = []
        var calls = 0

        init(_ steps: [Step]) { self.steps = steps }

        func call(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
            calls += 1
            let step = steps.isEmpty ? .write(count) : steps.removeFirst()
            switch step {
            case .write(let n):
                let taken = min(n, count)
                received += Array(UnsafeRawBufferPointer(start: pointer, count: taken))
                return taken
            case .fail(let code):
                errno = code
                return -1
            }
        }
    }

    static let payload = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func aWriteAtAnOffsetLandsThereAndLeavesTheFileOffset() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-writeall-\(UUID().uuidString)").path
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        try Descriptor.writeAll(fd, [UInt8](repeating: 0x2E, count: 64))
        try Descriptor.writeAll(fd, Array("slot".utf8), at: 40)
        #expect(lseek(fd, 0, SEEK_CUR) == 64, "pwrite must not move the descriptor's offset")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 64)
        #expect(Array(bytes[40..<44]) == Array("slot".utf8))
        #expect(bytes[0..<40].allSatisfy { $0 == 0x2E } && bytes[44...].allSatisfy { $0 == 0x2E })
        // A descriptor that cannot be written throws its errno, as the plain write does.
        #expect(throws: WriteAllError(errorNumber: EBADF, bytesWritten: 0)) { try Descriptor.writeAll(-1, [1], at: 0) }
    }

    @Test func shortWritesAndInterruptionsStillWriteEveryByteInOrder() throws {
        let script = ScriptedWrite([.write(3), .fail(EINTR), .write(100), .fail(EINTR), .fail(EINTR), .write(1)])
        try Descriptor.writeAll(9, Self.payload, using: script.call)
        #expect(script.received == Self.payload)
        #expect(script.calls == 7)  // six scripted steps, then the rest in one write
    }

    @Test func anotherErrorStopsWithItsErrnoAndTheBytesWritten() {
        let script = ScriptedWrite([.write(10), .fail(EINTR), .fail(ENOSPC), .write(5)])
        #expect(throws: WriteAllError(errorNumber: ENOSPC, bytesWritten: 10)) { try Descriptor.writeAll(9, Self.payload, using: script.call) }
        #expect(script.calls == 3 && script.received == Array(Self.payload.prefix(10)))
    }

    @Test func aWriteOfNothingIsAnErrorNotALoop() {
        let script = ScriptedWrite([.write(4), .write(0)])
        #expect(throws: WriteAllError(errorNumber: EIO, bytesWritten: 4)) { try Descriptor.writeAll(9, Self.payload, using: script.call) }
        #expect(script.calls == 2)
    }

    @Test func anEmptyBufferWritesNothing() throws {
        let script = ScriptedWrite([.fail(EBADF)])
        try Descriptor.writeAll(-1, [], using: script.call)
        #expect(script.calls == 0)
    }

    @Test func aRealPipeGetsEveryByteInOrder() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // over a pipe's 64 KiB buffer
        let reader = fds[0]
        let drained = Thread.detachNewThreadWithResult { () -> [UInt8] in
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if n > 0 { out += buffer[..<n] } else if n < 0 && errno == EINTR { continue } else { break }
            }
            return out
        }
        // If writeAll failed, closing the write end still ends the reader.
        let outcome = Result { () throws(WriteAllError) in try Descriptor.writeAll(fds[1], big) }
        close(fds[1])
        #expect(throws: Never.self) { try outcome.get() }
        #expect(drained.wait() == big)
        close(fds[0])
    }
}

extension Thread {
    /// Runs `body` on a new thread; `wait()` blocks for its result.
    static func detachNewThreadWithResult<T: Sendable>(_ body: @escaping @Sendable () -> T) -> ThreadResult<T> {
        let result = ThreadResult<T>()
        Thread.detachNewThread { result.set(body()) }
        return result
    }
}

final class ThreadResult<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: T?

    func set(_ value: T) {
        condition.lock()
        self.value = value
        condition.broadcast()
        condition.unlock()
    }

    func wait() -> T {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
