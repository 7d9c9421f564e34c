// HeapTrimTests.swift — `HeapTrim` finds glibc's `malloc_trim` and gives back the pages of free chunks that sit
// below live ones (which glibc's free never returns).
import Foundation
import Testing
@testable import TrellisStore

@Suite struct HeapTrimTests {
    @Test func freeChunksBetweenLiveOnesAreReleased() throws {
        #if os(Linux)
        #expect(HeapTrim.isAvailable, "glibc's malloc_trim is found")
        // 2,048 chunks of 16 KiB (under the mmap threshold: in an arena), every page written; every other one freed,
        // so no two free chunks merge and none is at the top of the arena.
        let size = 16 << 10
        var chunks: [UnsafeMutableRawPointer] = []
        for _ in 0..<2_048 {
            let chunk = try #require(malloc(size))
            memset(chunk, 0xA5, size)
            chunks.append(chunk)
        }
        for index in stride(from: 0, to: chunks.count, by: 2) { free(chunks[index]) }
        #expect(HeapTrim.releaseFreeMemory(), "the free chunks' pages were released")
        for index in stride(from: 1, to: chunks.count, by: 2) { free(chunks[index]) }
        #endif
    }

    /// A trimmer trims once the process grew past its slack, and not while it has not; after a trim its baseline is
    /// the resident size the trim left, and a shrink lowers it. Resident sizes are injected: other tests running in
    /// this process move the real figure at any moment (an eager trimmer once read less than its baseline in CI).
    @Test func aTrimmerTrimsOnlyPastItsSlack() throws {
        #if os(Linux)
        final class Resident: @unchecked Sendable {
            let lock = NSLock()
            var bytes = 100 << 20
            func read() -> Int? { lock.lock(); defer { lock.unlock() }; return bytes }
            func set(_ value: Int) { lock.lock(); bytes = value; lock.unlock() }
        }
        let resident = Resident()
        let patient = HeapTrimmer(slackBytes: 1 << 40, resident: { resident.read() })
        let eager = HeapTrimmer(slackBytes: 32 << 20, resident: { resident.read() })
        #expect(!eager.trimIfGrown() && eager.trims == 0, "not grown: no trim")
        resident.set(120 << 20)
        #expect(!eager.trimIfGrown() && eager.trims == 0, "grown by 20 MiB, within its 32 MiB slack")
        resident.set(140 << 20)
        #expect(eager.trimIfGrown() && eager.trims == 1, "grown by 40 MiB: trimmed")
        #expect(!patient.trimIfGrown() && patient.trims == 0, "a 1 TiB slack never trims")
        // The baseline is now 140 MiB (what the injected reader says after the trim): 160 is within the slack.
        resident.set(160 << 20)
        #expect(!eager.trimIfGrown() && eager.trims == 1)
        // A shrink lowers the baseline: from 60 MiB, growing to 100 is past the slack again.
        resident.set(60 << 20)
        #expect(!eager.trimIfGrown())
        resident.set(100 << 20)
        #expect(eager.trimIfGrown() && eager.trims == 2)
        #expect(try #require(HeapTrim.residentBytes()) > 0, "the real reader reads /proc")
        #endif
    }
}
