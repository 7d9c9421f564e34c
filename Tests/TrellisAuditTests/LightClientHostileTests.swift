// LightClientHostileTests.swift — the light client and node client against what a hostile or broken node sends, and
// with voting powers other than 1:
// - over HTTP (a stub server on a loopback port the kernel picks): JSON that is not an object or has fields of the
//   wrong type, a non-string value_hex, a body over the size cap, a body drip-fed past the deadline, an unsigned state
//   read refused with 401, a height above the tip, and an error message carrying terminal control characters;
// - weighted sets: skipping trusts power, not the number of signers; a quorum is counted in power; the trust level
//   is computed without overflow; bisection stops at its depth bound.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit
#if canImport(Glibc)
import Glibc
#endif

/// A one-thread HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) answering each request from `respond`
/// (path → raw response bytes, or nil to drip-feed a never-ending body), one connection at a time, for at most
/// `maxConnections` connections; `stop()` ends it. Drip-feeding stops after `dripBytes` or when the client leaves.
final class StubHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let respond: @Sendable (String) -> [UInt8]?
    private let finished = DispatchSemaphore(value: 0)
    static let dripBytes = 2_000

    init(maxConnections: Int = 64, respond: @escaping @Sendable (String) -> [UInt8]?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AuditError.source("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw AuditError.source("bind/listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.respond = respond
        self.listener = fd
        self.port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in
            for _ in 0..<maxConnections {
                // Retried when a signal interrupts it (EINTR): it blocks for as long as the client takes, and giving
                // up would leave the client's connection unanswered in the backlog. stop() ends it with EINVAL.
                var connection: Int32
                repeat { connection = accept(fd, nil, nil) } while connection < 0 && errno == EINTR
                if connection < 0 { break }
                serve(connection)
                close(connection)
            }
            finished.signal()
        }
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        _ = finished.wait(timeout: .now() + 60)
    }

    private func serve(_ connection: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd, request.count < 65_536 {
            let n = recv(connection, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            request += buffer[0..<n]
        }
        let line = String(decoding: request.prefix { $0 != 0x0D }, as: UTF8.self).split(separator: " ")
        let path = line.count > 1 ? String(line[1]) : "/"
        if let response = respond(path) {
            _ = Self.sendAll(connection, response)
            return
        }
        let head = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{".utf8)
        guard Self.sendAll(connection, head) else { return }
        for _ in 0..<Self.dripBytes {
            usleep(20_000)
            if !Self.sendAll(connection, [0x20]) { return }
        }
    }

    /// Sends all of `bytes`, going on after a partial send or a signal's interruption (EINTR); false when the client
    /// left (or any other error).
    private static func sendAll(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// An HTTP response with a JSON (or any) body.
    static func response(_ status: Int, _ body: String) -> [UInt8] {
        let bytes = Array(body.utf8)
        return Array("HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n".utf8) + bytes
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        count >= 4 && indices.dropLast(3).contains { self[$0] == 0x0D && self[$0 + 1] == 0x0A && self[$0 + 2] == 0x0D && self[$0 + 3] == 0x0A }
    }
}

@Suite struct LightClientHostileTests {
    /// A stub node whose answers are `routes` (by path without the query; "drip" drip-feeds).
    func withStub(_ routes: [String: (Int, String)], _ body: (URL) throws -> Void) throws {
        let server = try StubHTTPServer { path in
            let bare = String(path.split(separator: "?", maxSplits: 1).first ?? "")
            guard let (status, text) = routes[bare] else { return StubHTTPServer.response(404, #"{"error":{"code":"not_found","message":"no such route"}}"#) }
            return text == "drip" ? nil : StubHTTPServer.response(status, text)
        }
        defer { server.stop() }
        try body(server.baseURL)
    }

    /// The description of the AuditError `body` throws (nil when it throws none; another error fails the test).
    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let error as AuditError { return error.description } catch {
            Issue.record("not an AuditError: \(error)")
            return "\(error)"
        }
    }

    @Test func hostileJSONIsRefusedWithATypedErrorNeverACrash() throws {
        let header = "00"
        try withStub([
            "/v1/status": (200, "[1,2,3]"),
            "/v1/blocks/5": (200, #"{"header_hex":5,"certificate":{"canonical_hex":"00"},"validator_set_hex":"00"}"#),
            "/v1/blocks/6": (200, #"{"header_hex":"zz","certificate":{"canonical_hex":"00"},"validator_set_hex":"00"}"#),
            "/v1/blocks/7": (200, #"{"header_hex":"\#(header)","certificate":"nope","validator_set_hex":"00"}"#),
            "/v1/state/6162": (200, #"{"key_hex":"6162","height":3,"proof_hex":"00","value_hex":7}"#),
        ]) { url in
            let provider = NodeLightProvider(baseURL: url)
            #expect(message { _ = try provider.latestCertifiedHeight() }?.contains("response is not a JSON object") == true)
            #expect(message { _ = try provider.lightBlock(atHeight: 5) }?.contains("no \"header_hex\"") == true)
            #expect(message { _ = try provider.lightBlock(atHeight: 6) }?.contains("header_hex is not hex") == true)
            #expect(message { _ = try provider.lightBlock(atHeight: 7) }?.contains("no \"certificate.canonical_hex\"") == true)
            // proof_hex "00" does not decode; a well-formed proof with a non-string value is checked next.
            #expect(message { _ = try provider.provedState(Array("ab".utf8), atHeight: 3) } != nil)
            let client = NodeClient(baseURL: url, genesis: try AuditTestChain.makeGenesis())
            #expect(message { _ = try client.latestHeight() }?.contains("response is not a JSON object") == true)
        }
    }

    @Test func aNonStringValueIsATypedError() throws {
        let c = try AuditTestChain()
        try c.commit([])
        let proof = Hex.encode(try #require(try c.engine.state(Array("ab".utf8), prove: true).proof).canonicalBytes)
        try withStub([
            "/v1/state/6162": (200, #"{"key_hex":"6162","height":3,"proof_hex":"\#(proof)","value_hex":7}"#),
            "/v1/state/6364": (200, #"{"key_hex":"6364","height":3,"proof_hex":"\#(proof)","value_hex":null}"#),
        ]) { url in
            let provider = NodeLightProvider(baseURL: url)
            #expect(message { _ = try provider.provedState(Array("ab".utf8), atHeight: 3) }?.contains("value_hex that is not a string") == true)
            let absent = try provider.provedState(Array("cd".utf8), atHeight: 3)
            #expect(absent.value == nil)
            let client = NodeClient(baseURL: url, genesis: try AuditTestChain.makeGenesis())
            #expect(message { _ = try client.provedState(Array("ab".utf8), atHeight: 3) }?.contains("value_hex is not a string") == true)
        }
    }

    @Test func refusalsSayWhatToDoAndEscapeTheNodesText() throws {
        try withStub([
            "/v1/state/6162": (401, #"{"error":{"code":"unauthorized","message":"sign the request"}}"#),
            "/v1/status": (200, #"{"height":11}"#),
            "/v1/blocks/11": (200, #"{"header_hex":"00"}"#),
            "/v1/genesis": (500, #"{"error":{"code":"internal","message":"bad\u001b[31mred\u0007"}}"#),
        ]) { url in
            let provider = NodeLightProvider(baseURL: url)
            let unsigned = message { _ = try provider.provedState(Array("ab".utf8), atHeight: 3) }
            #expect(unsigned?.contains("pass --key") == true && unsigned?.contains("unauthorized: sign the request") == true, "\(String(describing: unsigned))")
            // Block 11 has no certificate yet: the newest certified height is 10, and 99 is above it.
            let above = message { _ = try provider.lightBlock(atHeight: 99) }
            #expect(above == "\(url.absoluteString) has no certified block at height 99: its newest certified height is 10", "\(String(describing: above))")
            let escaped = message { _ = try NodeClient.fetchGenesis(baseURL: url) }
            #expect(escaped?.contains("internal: bad\\u{1b}[31mred\\u{7}") == true, "\(String(describing: escaped))")
            #expect(escaped?.unicodeScalars.contains { $0.value < 0x20 } == false)
        }
    }

    @Test func aBodyOverTheCapOrPastTheDeadlineIsCutOff() throws {
        let big = "[" + String(repeating: "1,", count: 600_000) + "1]"
        try withStub(["/big": (200, big), "/drip": (200, "drip")]) { url in
            let over = message { _ = try NodeClient.get("/big", baseURL: url, maxBytes: 1 << 20) }
            #expect(over?.contains("larger than 1048576 bytes") == true, "\(String(describing: over))")
            let (body, status, _) = try NodeClient.get("/big", baseURL: url)
            #expect(status == 200 && body.count == big.utf8.count)
            // The drip sends a byte every 20 ms (never idle for 30 s) and would take hours: the deadline ends it.
            let slow = message { _ = try NodeClient.get("/drip", baseURL: url, deadlineSeconds: 1) }
            #expect(slow?.contains("no complete answer within 1 s") == true, "\(String(describing: slow))")
        }
    }

    // MARK: voting power

    static let heavy = (1...4).map { auditKey("weighted\($0)") }
    static let newcomers = (1...2).map { auditKey("newcomer\($0)") }

    static func validator(_ key: SigningKey, _ power: UInt64) -> Validator { Validator(publicKey: key.publicKey, votingPower: power, p2pAddress: "127.0.0.1:1") }
    /// Until height 5: weighted1 holds 5, weighted2…4 hold 1 each (total 8). From 6: weighted2, weighted3 (1 each)
    /// and two newcomers (5 each): total 12, quorum 9.
    static func set(_ h: UInt64) -> ValidatorSet {
        let validators = h <= 5 ? [validator(heavy[0], 5)] + heavy.dropFirst().map { validator($0, 1) }
                                : [validator(heavy[1], 1), validator(heavy[2], 1)] + newcomers.map { validator($0, 5) }
        do { return try ValidatorSet(validators) } catch { preconditionFailure("a valid set: \(error)") }
    }

    static func weightedGenesis() throws -> GenesisDocument {
        let g = try AuditTestChain.makeGenesis()
        return try GenesisDocument(chainID: g.chainID, genesisTime: g.genesisTime, members: g.members.map(MemberSpec.init),
                                   validators: set(1).validators.enumerated().map { GenesisValidator(name: "w\($0.offset)", validator: $0.element) },
                                   parameters: g.parameters)
    }

    /// Heights 1…10 of the weighted sets, each certified by `signers(h)`.
    static func chain(_ genesis: GenesisDocument, signers: (UInt64) -> [SigningKey]) -> SyntheticLightChain {
        var chain = SyntheticLightChain(genesis: genesis, count: 1, keys: { _ in heavy })
        chain.blocks = [:]
        var previous = genesis.hash
        for h in UInt64(1)...10 {
            let header = BlockHeader(chainID: genesis.chainID, height: h, round: 0, time: genesis.genesisTime + Int64(h) * 5, appVersion: 1,
                                     previousBlockHash: previous, txCount: 0, txRoot: MerkleTree.root(leaves: []), receiptsRoot: MerkleTree.root(leaves: []),
                                     stateRoot: SHA256.hash(Array("weighted/\(h)".utf8)), validatorSetHash: set(h).hash, nextValidatorSetHash: set(h + 1).hash,
                                     proposer: set(h).validators[0].publicKey, lastCommitHash: SHA256.hash([]), evidenceHash: SHA256.hash([0, 0, 0, 0]))
            chain.blocks[h] = LightBlock(header: header, certificate: SyntheticLightChain.certify(header, keys: signers(h), chainID: genesis.chainID), validators: set(h))
            previous = header.hash
        }
        return chain
    }

    @Test func skippingTrustsVotingPowerNotTheNumberOfSigners() throws {
        let genesis = try Self.weightedGenesis()
        #expect(genesis.validatorSet.totalPower == 8 && Self.set(6).totalPower == 12 && Self.set(6).quorumPower == 9)
        // Height 10 is signed by its whole set; of the trusted (genesis) set only weighted2 and weighted3 sign it:
        // 2 of 4 validators (more than a third by count) but power 2 of 8 (not more than a third): bisect to 5.
        let full = Self.chain(genesis) { h in h <= 5 ? Self.heavy : [Self.heavy[1], Self.heavy[2]] + Self.newcomers }
        var client = LightClient(trusted: .genesis(genesis))
        #expect(try client.verify(to: 10, provider: full).map(\.block.height) == [5, 10])
        // weighted1 alone signs for the genesis set at 5 — 1 of 4 validators, power 5 of 8 — which is a quorum (6)?
        // No: 5 < 6, so 5 is refused; with weighted1 and weighted2 (power 6) it is a quorum, by 2 of 4 validators.
        let lone = Self.chain(genesis) { h in h <= 5 ? [Self.heavy[0]] : Self.newcomers }
        var refused = LightClient(trusted: .genesis(genesis))
        let shortOfQuorum = message { _ = try refused.verify(to: 5, provider: lone) }
        #expect(shortOfQuorum?.contains("needs voting power 6") == true, "\(String(describing: shortOfQuorum))")
        let pair = Self.chain(genesis) { h in h <= 5 ? [Self.heavy[0], Self.heavy[1]] : Self.newcomers }
        var accepted = LightClient(trusted: .genesis(genesis))
        #expect(try accepted.verify(to: 5, provider: pair).map(\.block.height) == [5])
        // From 5, the two newcomers alone (2 of 4 validators, power 10 of 12 ≥ 9) certify 10; three signers holding
        // power 7 do not.
        #expect(try accepted.verify(to: 10, provider: pair).map(\.block.height) == [10])
        let three = Self.chain(genesis) { h in h <= 5 ? [Self.heavy[0], Self.heavy[1]] : [Self.heavy[1], Self.heavy[2], Self.newcomers[0]] }
        var fromFive = LightClient(trusted: .genesis(genesis))
        _ = try fromFive.verify(to: 5, provider: three)
        let underPowered = message { _ = try fromFive.verify(to: 10, provider: three) }
        #expect(underPowered?.contains("needs voting power 9") == true, "\(String(describing: underPowered))")
    }

    @Test func theTrustLevelIsExactForHugePowers() {
        // 3 · (2^64 − 1)/2 overflows 64 bits; wrapped, it would say "not more than a third".
        #expect(LightVerifier.exceedsTrustLevel(UInt64.max / 2, of: UInt64.max))
        #expect(LightVerifier.exceedsTrustLevel(UInt64.max / 3 + 1, of: UInt64.max))
        #expect(!LightVerifier.exceedsTrustLevel(UInt64.max / 3, of: UInt64.max))
        #expect(!LightVerifier.exceedsTrustLevel(0, of: 0) && LightVerifier.exceedsTrustLevel(1, of: 2))
    }

    @Test func bisectionStopsAtItsDepthBound() throws {
        // Every height from 2 on has a set of its own: each skip fails, and bisection halves down to height 1.
        let genesis = try AuditTestChain.makeGenesis()
        let fresh: (UInt64) -> [SigningKey] = { h in h == 1 ? LightClientTests.original : (1...4).map { auditKey("height\(h)-\($0)") } }
        let chain = SyntheticLightChain(genesis: genesis, count: 16, keys: fresh)
        var bounded = LightClient(trusted: .genesis(genesis))
        let deep = message { _ = try bounded.verify(to: 16, provider: chain, maxBisectionDepth: 3) }
        #expect(deep?.contains("bisection deeper than 3 levels") == true, "\(String(describing: deep))")
        // With the default bound it reaches height 1, then walks up the halvings.
        var client = LightClient(trusted: .genesis(genesis))
        #expect(try client.verify(to: 16, provider: chain).map(\.block.height) == Array(1...16))
    }

    @Test func aForkNamesTheValidatorsThatSignedBoth() throws {
        let genesis = try AuditTestChain.makeGenesis()
        let keys = LightClientTests.original
        let a = SyntheticLightChain(genesis: genesis, count: 6, keys: { _ in keys }, variant: "a", forkHeight: 6)
        let b = SyntheticLightChain(genesis: genesis, count: 6, keys: { _ in keys }, variant: "b", forkHeight: 6, label: "witness")
        var client = LightClient(trusted: .genesis(genesis))
        let verified = try #require(try client.verify(to: 6, provider: a).last?.block)
        guard case .fork(_, let primary, let conflicting) = LightClient.crossCheck(verified, origin: .genesis(genesis), witness: b) else {
            Issue.record("expected a fork"); return
        }
        #expect(LightClient.signersOfBoth(primary, conflicting) == keys.map(\.publicKey).sorted())
        #expect(primary.validators.hash == primary.header.validatorSetHash && conflicting.validators.hash == conflicting.header.validatorSetHash)
    }
}
