// TestnetStartedLogTests.swift — whether a testnet's node ever started (`testnet up` may move only a testnet none
// of whose nodes did, and calls a start a restart once one did) is answered from its node.log without reading the
// whole log: chunk by chunk, up to the first "] node started" (twenty-third session: it read the whole log into
// memory, and a long debug-logged testnet's log can be gigabytes).
import Foundation
import Testing
@testable import trellis

@Suite struct TestnetStartedLogTests {
    /// The line a node logs once it listens (the node's log format).
    private let marker = "2026-12-07T20:37:15+0000 info trellis.node1: chain=trellis-example-1 genesis_hash=dc45 height=0 p2p=127.0.0.1:32200 peers=1 [TrellisNode] node started\n"

    /// `lines` debug lines of ~100 bytes (no marker among them).
    private func debugLines(_ lines: Int, from first: Int = 0) -> String {
        (first..<(first + lines)).map { "2026-12-07T20:37:16+0000 debug trellis.node1: from=node2 height=\($0) round=0 step=prevote [TrellisConsensus] vote received\n" }.joined()
    }

    private func home(log: String?) throws -> TestnetNode {
        let home = CLI.temporaryDirectory()
        if let log { try log.write(toFile: home + "/node.log", atomically: true, encoding: .utf8) }
        return TestnetNode(name: "node1", home: home, publicKey: "", p2pAddress: "127.0.0.1:26600", apiURL: "http://127.0.0.1:26700", pid: nil)
    }

    @Test func aLargeLogOfANodeThatStartedIsAnsweredFromItsFirstChunk() throws {
        // ~6 MB: the marker near the top, as a node writes it at its first start, then a long debug log.
        let node = try home(log: debugLines(3) + marker + debugLines(60_000, from: 3))
        let size = try #require(FileManager.default.attributesOfItem(atPath: node.home + "/node.log")[.size] as? Int)
        #expect(size > 5_000_000)
        #expect(Testnet.Up.hasStarted(node))
        let scan = fileContains(Array("] node started".utf8), path: node.home + "/node.log", chunkSize: 64 * 1024)
        #expect(scan.found && scan.bytesRead == 64 * 1024, "read \(scan.bytesRead) of \(size) bytes: it must stop at the chunk that holds the match")
    }

    @Test func aLargeLogWithoutTheMarkerIsReadToItsEndAndSaysNotStarted() throws {
        // Failed starts (a port in use) write error lines but never "node started".
        let log = debugLines(50_000) + "error: cannot listen on 127.0.0.1:26600: Address already in use\n"
        let node = try home(log: log)
        #expect(!Testnet.Up.hasStarted(node))
        let scan = fileContains(Array("] node started".utf8), path: node.home + "/node.log", chunkSize: 64 * 1024)
        #expect(!scan.found && scan.bytesRead == log.utf8.count)
        // "node started" without the logger's "] " (a line quoting it) is not a start either.
        #expect(!Testnet.Up.hasStarted(try home(log: "error: the node started with a bad config\n")))
    }

    @Test func aMarkerLateInTheLogOrAcrossAChunkBoundaryIsFound() throws {
        let needle = Array("] node started".utf8)
        let before = debugLines(40_000)
        let node = try home(log: before + marker)
        #expect(Testnet.Up.hasStarted(node), "a marker in the log's last chunk")
        // Every split of the needle between two chunks: the chunk size puts the boundary at each of its bytes.
        let start = before.utf8.count + marker.utf8.distance(from: marker.utf8.startIndex, to: marker.utf8.firstIndex(of: UInt8(ascii: "]"))!)
        for cut in 1..<needle.count {
            let chunk = start + cut  // the first chunk ends `cut` bytes into the needle
            #expect(fileContains(needle, path: node.home + "/node.log", chunkSize: chunk).found, "split after \(cut) bytes")
        }
        // Chunks smaller than the needle still find it.
        let small = try home(log: debugLines(20) + marker)
        #expect(fileContains(needle, path: small.home + "/node.log", chunkSize: 3).found)
        #expect(!fileContains(needle, path: try home(log: debugLines(20)).home + "/node.log", chunkSize: 3).found)
    }

    @Test func noLogOrAnEmptyOneIsANodeThatNeverStarted() throws {
        #expect(!Testnet.Up.hasStarted(try home(log: nil)))
        #expect(!Testnet.Up.hasStarted(try home(log: "")))
    }
}
