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
}
