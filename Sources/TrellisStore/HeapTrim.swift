// HeapTrim.swift — gives the C heap's free pages back to the operating system (glibc's `malloc_trim`).
//
// glibc returns freed memory to the system only from the top of each arena; a free chunk below a live one stays
// resident. A validator's heap churns per height (decoded blocks, the tree update's node lists, the commit's batch
// and the page cache's generations), and on the benchmark's cluster 60–75 % of each node's malloc'd memory was free
// chunks held that way (docs/PERFORMANCE.md, "Peak RSS on store format 5"). `malloc_trim(0)` advises the kernel to
// drop the pages inside every free chunk of every arena; the chunks stay in malloc's bins, and a page is faulted in
// (zeroed) again when it is next used.
#if canImport(Glibc)
import Glibc
#endif

import Foundation

public enum HeapTrim {
    private typealias Trim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up by name (malloc.h is not part of Swift's Glibc module); nil with another C
    /// library, where trimming does nothing.
    private static let trimFunction: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    /// Whether this process's C library can trim its heap (glibc).
    public static var isAvailable: Bool { trimFunction != nil }

    /// Returns the free pages of every malloc arena to the system; true when memory was released.
    @discardableResult
    public static func releaseFreeMemory() -> Bool {
        guard let trim = trimFunction else { return false }
        return trim(0) == 1
    }

    /// This process's resident bytes (Linux: /proc/self/statm), or nil.
    public static func residentBytes() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // "size resident shared …" in pages: the second field.
        var field = 0, pages = 0, digits = 0
        for byte in buffer.prefix(count) {
            if byte == 0x20 || byte == 0x0A {
                if field == 1 { break }
                field += 1
            } else if field == 1, byte >= 0x30, byte <= 0x39 {
                pages = pages &* 10 &+ Int(byte - 0x30)
                digits += 1
            }
        }
        guard digits > 0 else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Trims the heap (`HeapTrim`) when the process's resident memory has grown by more than `slackBytes` since the last
/// trim: a height whose transient memory fits what earlier heights left free costs nothing (glibc reuses those free
/// chunks); one that made the process grow gives the growth back. Each trim makes the next allocations fault their
/// pages in again (~6 ms a 500-transaction commit when trimming after every one, docs/PERFORMANCE.md).
public final class HeapTrimmer: @unchecked Sendable {
    public let slackBytes: Int
    private let lock = NSLock()
    /// Resident bytes just after the last trim (or when made). Guarded by `lock`.
    private var baseline: Int
    /// Trims so far. Guarded by `lock`.
    private var trimCount = 0
    /// Reads the process's resident bytes (`HeapTrim.residentBytes`; a test injects its own, since other tests in
    /// the same process grow and shrink the real figure at any moment).
    private let resident: @Sendable () -> Int?

    public init(slackBytes: Int, resident: @escaping @Sendable () -> Int? = { HeapTrim.residentBytes() }) {
        precondition(slackBytes >= 0, "a negative slack")
        self.slackBytes = slackBytes
        self.resident = resident
        baseline = resident() ?? 0
    }

    /// Trims when resident memory is over the baseline by more than the slack; returns whether it trimmed.
    @discardableResult
    public func trimIfGrown() -> Bool {
        guard HeapTrim.isAvailable, let resident = self.resident() else { return false }
        lock.lock()
        defer { lock.unlock() }
        guard resident > baseline + slackBytes else {
            baseline = min(baseline, resident)
            return false
        }
        HeapTrim.releaseFreeMemory()
        baseline = self.resident() ?? resident
        trimCount += 1
        return true
    }

    /// How many times this trimmer trimmed.
    public var trims: Int {
        lock.lock()
        defer { lock.unlock() }
        return trimCount
    }
}
