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

    /// A trimmer trims once the process grew past its slack, and not while it has not.
    @Test func aTrimmerTrimsOnlyPastItsSlack() throws {
        #if os(Linux)
        let patient = HeapTrimmer(slackBytes: 1 << 40)
        let eager = HeapTrimmer(slackBytes: 0)
        let size = 16 << 10
        var chunks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4_096 {  // 64 MiB touched: the process grows
            let chunk = try #require(malloc(size))
            memset(chunk, 0x5A, size)
            chunks.append(chunk)
        }
        for index in stride(from: 0, to: chunks.count, by: 2) { free(chunks[index]) }
        #expect(!patient.trimIfGrown() && patient.trims == 0)
        #expect(eager.trimIfGrown() && eager.trims == 1)
        for index in stride(from: 1, to: chunks.count, by: 2) { free(chunks[index]) }
        #expect(try #require(HeapTrim.residentBytes()) > 0)
        #endif
    }
}
