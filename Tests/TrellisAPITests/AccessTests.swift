// AccessTests.swift — the consortium read policy through the HTTP API over an in-memory node: signed requests are
// accepted from active members' keys and the operator's key; missing, malformed, stale, replayed and wrongly
// signed credentials get 401, a suspended or revoked member 403; scopes are enforced per route and per object, with the same
// refusal whether the object exists or not.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing
import TrellisCrypto
import TrellisLedger
@testable import TrellisAPI

/// A consortium of four: a supplier, another supplier, a regulator, a suspended member; and the node's own key.
private struct Consortium {
    let service = FakeNodeService()
    let supplier1 = SigningKey.generate(), supplier2 = SigningKey.generate(), regulator = SigningKey.generate(), suspended = SigningKey.generate()
    let node = SigningKey.generate()
    let clock = NIOLockedValueBox<Int64>(1_764_892_800)

    init() {
        service.register(Member(memberID: "supplier1", legalName: "S1", registrationNo: "1", publicKeys: [supplier1.publicKey], roles: [.supplier]))
        service.register(Member(memberID: "supplier2", legalName: "S2", registrationNo: "2", publicKeys: [supplier2.publicKey], roles: [.supplier]))
        service.register(Member(memberID: "regulator", legalName: "R", registrationNo: "3", publicKeys: [regulator.publicKey], roles: [.regulator]))
        service.queryAnswers["holdings"] = Data(#"{"certificates":[]}"#.utf8)
        service.register(Member(memberID: "gone", legalName: "G", registrationNo: "4", publicKeys: [suspended.publicKey], roles: [.financier], status: .suspended))
    }

    func app(maxNonces: Int = 1_000, maxNoncesPerMember: Int = 1_000, refusalFloorMilliseconds: Int64 = 0) -> some ApplicationProtocol {
        let clock = self.clock
        let configuration = APIConfiguration(readPolicy: .consortium, operatorKey: node.publicKey, requestSkewSeconds: 300, maxRequestNonces: maxNonces,
                                             maxRequestNoncesPerMember: maxNoncesPerMember, refusalFloorMilliseconds: refusalFloorMilliseconds,
                                             clock: { clock.withLockedValue { $0 } })
        return Application(router: APIServer.router(service: service, configuration: configuration))
    }

    /// Headers signing GET `target` with `key` as `member` at the node's current time (unless given).
    func signed(_ target: String, _ key: SigningKey, as member: String, timestamp: Int64? = nil, nonce: String = APIClientCredentials.freshNonce(),
                chainID: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        let headers = APIClientCredentials(key: key, member: member, chainID: chainID ?? service.chainID)
            .headers(method: "GET", target: target, timestamp: timestamp ?? clock.withLockedValue { $0 }, nonce: nonce)
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return fields
    }
}

private func body(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
}

private func code(_ response: TestResponse) -> String? { (body(response)["error"] as? [String: Any])?["code"] as? String }

@Suite struct AccessTests {
    @Test func anonymousCallersSeeOnlyThePublicPart() async throws {
        let c = Consortium()
        try await c.app().test(.router) { client in
            let status = try await client.execute(uri: "/v1/status", method: .get)
            #expect(status.status == .ok && body(status)["height"] as? Int == 3)
            #expect(body(status)["peers"] == nil && body(status)["node_key"] == nil, "public status shows the node's identity: \(body(status))")
            // The rules versions are the chain's: every organisation's operator checks them before an upgrade.
            let rules = body(status)["rules"] as? [String: Any]
            #expect(rules?["active_version"] as? Int == 1 && (rules?["upgrades"] as? [[String: Any]])?.first?["activation_height"] as? Int == 10, "\(body(status))")
            let block = try await client.execute(uri: "/v1/blocks/2", method: .get)
            #expect(body(block)["header"] != nil && body(block)["certificate"] != nil && body(block)["transaction_hashes"] != nil)
            #expect(body(block)["transactions"] == nil && body(block)["canonical_hex"] == nil, "public block shows transactions")
            for uri in ["/v1/events", "/v1/query/exposure", "/v1/query/holdings?member=supplier1", "/v1/tx/" + String(repeating: "00", count: 32), "/v1/state/member%2Fsupplier1", "/metrics"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .unauthorized && code(r) == "authentication_required", "\(uri): \(r.status) \(body(r))")
            }
            // The key directory is public: a client finds its member id before it can sign.
            let key = try await client.execute(uri: "/v1/state/member_key%2F" + c.supplier1.publicKey.hex, method: .get)
            #expect(key.status == .ok)
            let regulatorBlock = try await client.execute(uri: "/v1/blocks/2", method: .get, headers: c.signed("/v1/blocks/2", c.regulator, as: "regulator"))
            #expect(body(regulatorBlock)["canonical_hex"] != nil && body(regulatorBlock)["transactions"] != nil)
        }
    }

    @Test func scopesFollowTheCallersRoleAndObjects() async throws {
        let c = Consortium()
        c.service.queryAnswers["lineage"] = Data(#"{"certificate":{"cert_id":"c1","holder":"supplier1","debtor":"core"}}"#.utf8)
        try await c.app().test(.router) { client in
            func get(_ target: String, _ key: SigningKey, _ member: String) async throws -> TestResponse {
                try await client.execute(uri: target, method: .get, headers: c.signed(target, key, as: member))
            }
            #expect(try await get("/v1/query/holdings?member=supplier1", c.supplier1, "supplier1").status == .ok)
            let other = try await get("/v1/query/holdings?member=supplier2", c.supplier1, "supplier1")
            #expect(other.status == .forbidden && code(other) == "forbidden")
            #expect((body(other)["error"] as? [String: Any])?["message"] as? String ?? "" != "" )
            #expect(try await get("/v1/query/lineage?cert=c1", c.supplier1, "supplier1").status == .ok, "the holder reads its lineage")
            let notParty = try await get("/v1/query/lineage?cert=c1", c.supplier2, "supplier2")
            let absent = try await get("/v1/query/provenance?program=P&serial=1", c.supplier2, "supplier2")
            let absentLineage = try await client.execute(uri: "/v1/query/lineage?cert=zz", method: .get, headers: c.signed("/v1/query/lineage?cert=zz", c.supplier2, as: "supplier2"))
            #expect(notParty.status == .forbidden && absent.status == .forbidden && absentLineage.status == .forbidden)
            #expect(String(buffer: notParty.body) == String(buffer: absentLineage.body), "an absent object is refused like another's")
            #expect(try await get("/v1/query/lineage?cert=c1", c.regulator, "regulator").status == .ok)
            #expect(try await get("/v1/query/exposure", c.regulator, "regulator").status != .forbidden)
            #expect(try await get("/v1/query/exposure", c.supplier1, "supplier1").status == .forbidden)
            #expect(try await get("/v1/events", c.supplier1, "supplier1").status == .forbidden)
            #expect(try await get("/metrics", c.regulator, "regulator").status == .forbidden)
            let metrics = try await get("/metrics", c.node, "@operator")
            #expect(metrics.status == .ok && String(buffer: metrics.body).contains("# TYPE"), "\(metrics.status) \(String(buffer: metrics.body).prefix(200))")
            // Own transactions only; an unknown hash is refused like another member's.
            let own = c.service.sampleTransaction(signer: "supplier1"), others = c.service.sampleTransaction(signer: "supplier2")
            for tx in [own, others] { _ = try await client.execute(uri: "/v1/tx", method: .post, body: ByteBuffer(string: "{\"tx\":\"\(Hex.encode(tx.canonicalBytes))\"}")) }
            #expect(try await get("/v1/tx/\(own.hash.hex)", c.supplier1, "supplier1").status == .ok)
            let foreign = try await get("/v1/tx/\(others.hash.hex)", c.supplier1, "supplier1")
            let unknown = try await get("/v1/tx/" + String(repeating: "ab", count: 32), c.supplier1, "supplier1")
            #expect(foreign.status == .forbidden && String(buffer: foreign.body) == String(buffer: unknown.body))
            #expect(try await get("/v1/tx/" + String(repeating: "ab", count: 32), c.regulator, "regulator").status == .notFound)
            #expect(try await get("/v1/state/member%2Fsupplier1", c.supplier1, "supplier1").status == .ok)
            #expect(try await get("/v1/state/member%2Fsupplier2", c.supplier1, "supplier1").status == .forbidden)
        }
    }

    @Test func rejectionsDoNotTellWhetherAnObjectExistsOrWhoseItIs() async throws {
        let c = Consortium()
        try await c.app().test(.router) { client in
            // supplier1's transactions rejected as the contracts answer them: another member's certificate, an absent
            // one, another's financing, and a rule about supplier1's own piece.
            let outcomes: [(code: String, message: String)] = [
                ("not_holder", "certificate cert-7 is held by supplier2, not supplier1"),
                ("unknown_certificate", "no certificate cert-0"),
                ("not_party", "only applicant supplier2 or financier bank2 may cancel fin-3"),
                ("split_sum_mismatch", "outputs sum to 5, the piece's face is 7"),
            ]
            var posted: [[String: Any]] = [], read: [[String: Any]] = [], readByRegulator: [[String: Any]] = []
            for (i, outcome) in outcomes.enumerated() {
                c.service.waitOutcome = .rejected(code: outcome.code, message: outcome.message)
                let tx = c.service.sampleTransaction(nonce: UInt64(i + 1), signer: "supplier1")
                let answer = try await client.execute(uri: "/v1/tx?wait=commit", method: .post, body: ByteBuffer(string: "{\"tx\":\"\(Hex.encode(tx.canonicalBytes))\"}"))
                #expect(answer.status == .ok)
                posted.append(body(answer))
                let target = "/v1/tx/\(tx.hash.hex)"
                read.append(body(try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1"))))
                readByRegulator.append(body(try await client.execute(uri: target, method: .get, headers: c.signed(target, c.regulator, as: "regulator"))))
            }
            func error(_ answer: [String: Any]) -> [String: String] {
                ((answer["receipt"] as? [String: Any])?["error"] as? [String: String]) ?? [:]
            }
            for answers in [posted, read] {
                // Another's certificate, an absent one and another's financing: one code, one message, no holder, no
                // financier, no id, and no receipt proof (it would carry the rule's own answer).
                let hidden = answers.prefix(3).map(error)
                #expect(hidden.allSatisfy { $0["code"] == RejectionRedaction.code }, "\(hidden)")
                #expect(Set(hidden.map { $0["message"] ?? "" }).count == 1, "\(hidden)")
                for answer in answers.prefix(3) {
                    let text = String(describing: answer)
                    #expect(!text.contains("supplier2") && !text.contains("bank2") && !text.contains("cert-7") && !text.contains("cert-0"), "\(text)")
                    #expect(answer["receipt_hex"] == nil && answer["receipt_path"] == nil && answer["status"] as? String == "rejected")
                    #expect((answer["error"] as? [String: String])?["code"] == RejectionRedaction.code)
                }
                // A rule about the signer's own piece is shown as the contract said it.
                #expect(error(answers[3])["code"] == "split_sum_mismatch" && error(answers[3])["message"] == outcomes[3].message)
            }
            #expect(read[3]["receipt_hex"] != nil, "an unredacted rejection keeps its receipt proof")
            // A regulator reads every rejection whole, with its proof.
            for (answer, outcome) in zip(readByRegulator, outcomes) {
                #expect(error(answer)["code"] == outcome.code && error(answer)["message"] == outcome.message && answer["receipt_hex"] != nil, "\(answer)")
            }
        }
    }

    @Test func aPartySeesOnlyTheFinancingsItIsPartyTo() async throws {
        let c = Consortium()
        c.service.register(Member(memberID: "bank1", legalName: "B", registrationNo: "5", publicKeys: [c.supplier2.publicKey], roles: [.financier]))
        let lineage = #"{"certificate":{"cert_id":"c1","holder":"supplier1"},"financings":[{"fin_id":"f1","financier":"bank1","applicant":"supplier1","advance":950000,"rate_bps":385},{"fin_id":"f2","financier":"bank2","applicant":"supplier9","advance":10,"rate_bps":999}]}"#
        c.service.queryAnswers["lineage"] = Data(lineage.utf8)
        try await c.app().test(.router) { client in
            func financings(_ key: SigningKey, _ member: String) async throws -> [String] {
                let target = "/v1/query/lineage?cert=c1"
                let r = try await client.execute(uri: target, method: .get, headers: c.signed(target, key, as: member))
                #expect(r.status == .ok, "\(member): \(r.status)")
                return ((body(r)["result"] as? [String: Any])?["financings"] as? [[String: Any]] ?? []).compactMap { $0["fin_id"] as? String }
            }
            let bank = try await financings(c.supplier2, "bank1")
            let supplier = try await financings(c.supplier1, "supplier1")
            let regulator = try await financings(c.regulator, "regulator")
            #expect(bank == ["f1"], "a bank sees another bank's terms")
            #expect(supplier == ["f1"])
            #expect(regulator == ["f1", "f2"])
        }
        // The proofs of hidden financing records go with them.
        let proofs: [[String: Any]] = [["key": "cert/c1"], ["key": "fin/f1"], ["key": "fin/f2"]]
        let (_, kept) = AnswerRedaction.lineage(["financings": [["fin_id": "f1", "financier": "bank"], ["fin_id": "f2", "financier": "bank2"]]], proofs: proofs, for: "bank")
        #expect(kept.compactMap { $0["key"] as? String } == ["cert/c1", "fin/f1"])
    }

    @Test func badCredentialsAre401AndASuspendedMemberIs403() async throws {
        let c = Consortium()
        try await c.app().test(.router) { client in
            let target = "/v1/query/holdings?member=supplier1"
            func get(_ headers: HTTPFields, uri: String = target) async throws -> TestResponse { try await client.execute(uri: uri, method: .get, headers: headers) }

            let fresh = c.signed(target, c.supplier1, as: "supplier1", nonce: "replayreplayreplay")
            #expect(try await get(fresh).status == .ok)
            let replay = try await get(fresh)
            #expect(replay.status == .unauthorized && code(replay) == "replayed_nonce", "\(body(replay))")

            let stale = try await get(c.signed(target, c.supplier1, as: "supplier1", timestamp: c.clock.withLockedValue { $0 } - 301))
            #expect(stale.status == .unauthorized && code(stale) == "stale_credentials")
            let future = try await get(c.signed(target, c.supplier1, as: "supplier1", timestamp: c.clock.withLockedValue { $0 } + 301))
            #expect(future.status == .unauthorized && code(future) == "stale_credentials")
            #expect(try await get(c.signed(target, c.supplier1, as: "supplier1", timestamp: c.clock.withLockedValue { $0 } + 299)).status == .ok)

            let wrongKey = try await get(c.signed(target, c.supplier2, as: "supplier1"))
            let unknownMember = try await get(c.signed("/v1/query/holdings?member=nobody", c.supplier2, as: "nobody"), uri: "/v1/query/holdings?member=nobody")
            #expect(wrongKey.status == .unauthorized && code(wrongKey) == "invalid_signature")
            #expect(unknownMember.status == .unauthorized && code(unknownMember) == "invalid_signature", "an unknown member is answered like a wrong key")
            let otherChain = try await get(c.signed(target, c.supplier1, as: "supplier1", chainID: "other-chain"))
            #expect(code(otherChain) == "invalid_signature")
            // The signature covers the query: the same headers on another target do not verify.
            let moved = try await get(c.signed(target, c.supplier1, as: "supplier1"), uri: "/v1/query/holdings?member=supplier2")
            #expect(code(moved) == "invalid_signature")
            let fakeOperator = try await get(c.signed(target, c.supplier1, as: "@operator"))
            #expect(code(fakeOperator) == "invalid_signature")

            let suspended = try await get(c.signed("/v1/query/holdings?member=gone", c.suspended, as: "gone"), uri: "/v1/query/holdings?member=gone")
            #expect(suspended.status == .forbidden && code(suspended) == "member_inactive")
            // A key rotated out of the member's record no longer signs (the node reads the keys at the latest height).
            let rotatedTarget = "/v1/query/holdings?member=supplier2"
            let oldKeyHeaders = c.signed(rotatedTarget, c.supplier2, as: "supplier2")
            c.service.register(Member(memberID: "supplier2", legalName: "S2", registrationNo: "2", publicKeys: [SigningKey.generate().publicKey], roles: [.supplier]))
            let rotated = try await get(oldKeyHeaders, uri: rotatedTarget)
            #expect(rotated.status == .unauthorized && code(rotated) == "invalid_signature", "a rotated-out key: \(body(rotated))")
            let revokedKey = SigningKey.generate()
            c.service.register(Member(memberID: "revoked", legalName: "X", registrationNo: "6", publicKeys: [revokedKey.publicKey], roles: [.supplier], status: .revoked))
            let revoked = try await get(c.signed("/v1/query/holdings?member=revoked", revokedKey, as: "revoked"), uri: "/v1/query/holdings?member=revoked")
            #expect(revoked.status == .forbidden && code(revoked) == "member_inactive", "\(body(revoked))")

            var partial = HTTPFields()
            partial[HTTPField.Name("Trellis-Member")!] = "supplier1"
            let incomplete = try await get(partial)
            #expect(incomplete.status == .unauthorized && code(incomplete) == "invalid_credentials")
            var doubled = c.signed(target, c.supplier1, as: "supplier1")
            doubled.append(HTTPField(name: HTTPField.Name("Trellis-Nonce")!, value: "another-nonce-1234"))
            #expect(code(try await get(doubled)) == "invalid_credentials")
            var huge = c.signed(target, c.supplier1, as: "supplier1")
            huge[HTTPField.Name("Trellis-Signature")!] = String(repeating: "a", count: 8_000)
            #expect(code(try await get(huge)) == "invalid_credentials")
        }
    }

    /// Each Trellis-* header is refused one byte past its bound (and far past it), before any lookup or
    /// signature check; at its bound it is read.
    @Test func everyCredentialHeaderIsBounded() async throws {
        let c = Consortium()
        try await c.app().test(.router) { client in
            let target = "/v1/query/holdings?member=supplier1"
            let over: [(header: String, value: String)] = [
                ("Trellis-Member", String(repeating: "m", count: 129)), ("Trellis-Member", String(repeating: "m", count: 60_000)),
                ("Trellis-Timestamp", String(repeating: "1", count: 21)), ("Trellis-Timestamp", String(repeating: "9", count: 60_000)),
                ("Trellis-Nonce", String(repeating: "n", count: 65)), ("Trellis-Nonce", String(repeating: "n", count: 60_000)),
                ("Trellis-Signature", String(repeating: "a", count: 129)), ("Trellis-Signature", String(repeating: "a", count: 60_000)),
            ]
            let readsBefore = c.service.reads.count
            for (header, value) in over {
                var fields = c.signed(target, c.supplier1, as: "supplier1")
                fields[HTTPField.Name(header)!] = value
                let r = try await client.execute(uri: target, method: .get, headers: fields)
                #expect(r.status == .unauthorized && code(r) == "invalid_credentials", "\(header) of \(value.count) bytes: \(r.status) \(body(r))")
                #expect(String(buffer: r.body).utf8.count < 1_000, "the refusal echoes the oversized value")
            }
            #expect(c.service.reads.count == readsBefore, "an oversized header reached the store")
            // At their bounds: a 64-character nonce and a 128-byte member id are read (the member does not exist).
            let longest = String(repeating: "m", count: 128)
            let atBound = try await client.execute(uri: target, method: .get,
                                                   headers: c.signed(target, c.supplier1, as: longest, nonce: String(repeating: "n", count: 64)))
            #expect(code(atBound) == "invalid_signature", "\(body(atBound))")
        }
    }

    /// No existence oracle: another member's object and one that does not exist are refused with the same bytes,
    /// after the same floor, and the party check never computes a proof (whose cost depends on what exists).
    @Test func refusalsAreTheSameWhetherTheObjectExistsOrNot() async throws {
        let c = Consortium()
        c.service.lineages["c1"] = Data(#"{"certificate":{"cert_id":"c1","holder":"supplier1","debtor":"core"}}"#.utf8)
        c.service.records[Array("creditline/l1".utf8)] = CreditLine(lineID: "l1", financier: "bank1", core: "supplier1", limit: 10, used: 0, expiry: 9).canonicalBytes
        let floor: Int64 = 300
        try await c.app(refusalFloorMilliseconds: floor).test(.router) { client in
            func timed(_ target: String, _ key: SigningKey, _ member: String) async throws -> (TestResponse, Duration) {
                let start = ContinuousClock.now
                let r = try await client.execute(uri: target, method: .get, headers: c.signed(target, key, as: member))
                return (r, ContinuousClock.now - start)
            }
            let pairs = [
                ("/v1/query/lineage?cert=c1&prove=true", "/v1/query/lineage?cert=zz&prove=true"),
                ("/v1/state/creditline%2Fl1?prove=true", "/v1/state/creditline%2Fl9?prove=true"),
            ]
            for (existing, absent) in pairs {
                let readsBefore = c.service.reads.count
                let (other, otherTime) = try await timed(existing, c.supplier2, "supplier2")
                let (none, noneTime) = try await timed(absent, c.supplier2, "supplier2")
                #expect(other.status == .forbidden && none.status == .forbidden, "\(existing): \(other.status), \(absent): \(none.status)")
                #expect(String(buffer: other.body) == String(buffer: none.body), "\(String(buffer: other.body)) vs \(String(buffer: none.body))")
                #expect(other.headers == none.headers)
                // Lower bounds only: a loaded machine makes answers slower, never faster.
                #expect(otherTime >= .milliseconds(floor) && noneTime >= .milliseconds(floor), "refused after \(otherTime) and \(noneTime)")
                let reads = c.service.reads.dropFirst(readsBefore)
                #expect(reads.allSatisfy { !$0.prove || $0.what.hasPrefix("member/") }, "a refused read computed a proof: \(reads.map(\.what))")
                // The party itself gets its proofs (a second read, with them, once the check passed).
                let (own, _) = try await timed(existing, c.supplier1, "supplier1")
                #expect(own.status == .ok, "\(existing) for the party: \(own.status) \(body(own))")
                #expect(c.service.reads.last.map { $0.prove && !$0.what.hasPrefix("member/") } == true, "the party's read had no proof")
            }
        }
    }

    @Test func aRefusalIsHeldToTheNextMultipleOfTheFloor() async {
        let floor = Duration.milliseconds(200)
        let start = ContinuousClock.now - .milliseconds(250)
        await Routes.holdRefusal(since: start, floor: floor)
        #expect(ContinuousClock.now - start >= .milliseconds(400), "a refusal after 250 ms of work was not held to 400 ms")
        let fresh = ContinuousClock.now
        await Routes.holdRefusal(since: fresh, floor: floor)
        #expect(ContinuousClock.now - fresh >= floor)
    }

    /// Signature checks and the member lookup run on NIO's blocking pool (a plain thread, outside any Swift task),
    /// not on Swift's cooperative threads.
    @Test func authenticationAndReadsRunOffTheCooperativePool() async throws {
        let c = Consortium()
        try await c.app().test(.router) { client in
            let target = "/v1/query/holdings?member=supplier1"
            let answer = try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1"))
            #expect(answer.status == .ok)
            let reads = c.service.reads
            #expect(reads.contains { $0.what == "member/supplier1" } && reads.contains { $0.what == "holdings" })
            #expect(reads.allSatisfy { !$0.inTask }, "run inside a Swift task: \(reads.filter(\.inTask).map(\.what))")
        }
    }

    @Test func theNonceWindowBoundsEachMemberAndTheWhole() {
        var window = NonceWindow(capacity: 4, perMemberCapacity: 2, skewSeconds: 10)
        #expect(window.admit(member: "a", nonce: "1", timestamp: 100, now: 100) == .admitted)
        #expect(window.admit(member: "a", nonce: "1", timestamp: 100, now: 100) == .replayed)
        #expect(window.admit(member: "a", nonce: "2", timestamp: 100, now: 100) == .admitted)
        #expect(window.admit(member: "a", nonce: "3", timestamp: 100, now: 100) == .memberFull)
        #expect(window.admit(member: "a", nonce: "2", timestamp: 100, now: 100) == .replayed, "a member at its share still sees replays as replays")
        #expect(window.admit(member: "b", nonce: "1", timestamp: 100, now: 100) == .admitted)
        #expect(window.admit(member: "b", nonce: "2", timestamp: 100, now: 100) == .admitted)
        #expect(window.admit(member: "c", nonce: "1", timestamp: 100, now: 100) == .full)
        #expect(window.count == 4 && window.count(of: "a") == 2 && window.count(of: "c") == 0)
        // Every nonce above expires at 110. At 111 a's share is purged first, then the whole window: counts stay exact.
        #expect(window.admit(member: "a", nonce: "3", timestamp: 111, now: 111) == .admitted)
        #expect(window.count == 3 && window.count(of: "a") == 1)
        #expect(window.admit(member: "c", nonce: "1", timestamp: 111, now: 111) == .admitted)
        #expect(window.admit(member: "d", nonce: "1", timestamp: 111, now: 111) == .admitted)
        #expect(window.count == 3 && window.count(of: "b") == 0)
    }

    @Test func oneMemberCannotFillTheNonceWindowForEveryone() async throws {
        let c = Consortium()
        try await c.app(maxNonces: 10, maxNoncesPerMember: 2).test(.router) { client in
            let target = "/v1/query/holdings?member=supplier1"
            for _ in 0..<2 { #expect(try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1")).status == .ok) }
            let over = try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1"))
            #expect(over.status == .tooManyRequests && code(over) == "too_many_signed_requests", "\(over.status) \(body(over))")
            #expect(over.headers[.retryAfter] != nil)
            let others = "/v1/query/holdings?member=supplier2"
            #expect(try await client.execute(uri: others, method: .get, headers: c.signed(others, c.supplier2, as: "supplier2")).status == .ok,
                    "another member was refused because supplier1 used its share")
            c.clock.withLockedValue { $0 += 301 }
            #expect(try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1")).status == .ok)
        }
    }

    @Test func aFullNonceWindowRefusesInsteadOfGrowing() async throws {
        let c = Consortium()
        try await c.app(maxNonces: 2).test(.router) { client in
            let target = "/v1/query/holdings?member=supplier1"
            for _ in 0..<2 { #expect(try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1")).status == .ok) }
            let full = try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1"))
            #expect(full.status == .serviceUnavailable && code(full) == "nonce_window_full")
            // Once the remembered timestamps leave the window, requests are accepted again.
            c.clock.withLockedValue { $0 += 301 }
            #expect(try await client.execute(uri: target, method: .get, headers: c.signed(target, c.supplier1, as: "supplier1")).status == .ok)
        }
    }
}

/// `[api] metrics_token_file`: the bearer token opens `GET /metrics` and nothing else.
@Suite struct MetricsTokenTests {
    private static let token = "0123456789abcdef0123456789abcdef"

    private func app(_ c: Consortium, token: String? = Self.token) -> some ApplicationProtocol {
        let clock = c.clock
        let configuration = APIConfiguration(readPolicy: .consortium, operatorKey: c.node.publicKey, refusalFloorMilliseconds: 0, metricsToken: token,
                                             clock: { clock.withLockedValue { $0 } })
        return Application(router: APIServer.router(service: c.service, configuration: configuration))
    }

    private func bearer(_ value: String) -> HTTPFields { [.authorization: value] }

    @Test func theRightTokenReadsMetricsAWrongOrMissingOneIsRefused() async throws {
        let c = Consortium()
        try await app(c).test(.router) { client in
            let right = try await client.execute(uri: "/metrics", method: .get, headers: bearer("Bearer " + Self.token))
            #expect(right.status == .ok && String(buffer: right.body).contains("# TYPE"), "\(right.status) \(String(buffer: right.body).prefix(200))")
            let wrong = try await client.execute(uri: "/metrics", method: .get, headers: bearer("Bearer " + Self.token.dropLast() + "0"))
            #expect(wrong.status == .unauthorized && code(wrong) == "invalid_credentials", "\(wrong.status) \(body(wrong))")
            let basic = try await client.execute(uri: "/metrics", method: .get, headers: bearer("Basic " + Self.token))
            #expect(basic.status == .unauthorized && code(basic) == "invalid_credentials")
            let missing = try await client.execute(uri: "/metrics", method: .get)
            #expect(missing.status == .unauthorized && code(missing) == "authentication_required")
            let hint = (body(missing)["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(hint.contains("metrics_token_file") && hint.contains("@operator") && !hint.contains("member key"), "\(hint)")
            // The node's own signature still works alongside the token.
            let signed = try await client.execute(uri: "/metrics", method: .get, headers: c.signed("/metrics", c.node, as: "@operator"))
            #expect(signed.status == .ok)
        }
    }

    @Test func theTokenOpensNoOtherRoute() async throws {
        let c = Consortium()
        try await app(c).test(.router) { client in
            for uri in ["/v1/events", "/v1/query/exposure", "/v1/query/holdings?member=supplier1", "/v1/state/member%2Fsupplier1"] {
                let r = try await client.execute(uri: uri, method: .get, headers: bearer("Bearer " + Self.token))
                #expect(r.status == .unauthorized && code(r) == "authentication_required", "\(uri): \(r.status) \(body(r))")
            }
            let block = try await client.execute(uri: "/v1/blocks/2", method: .get, headers: bearer("Bearer " + Self.token))
            #expect(block.status == .ok && body(block)["transactions"] == nil, "the token reads a full block: \(body(block))")
        }
    }

    @Test func withoutAConfiguredTokenABearerIsRefused() async throws {
        let c = Consortium()
        try await app(c, token: nil).test(.router) { client in
            let r = try await client.execute(uri: "/metrics", method: .get, headers: bearer("Bearer " + Self.token))
            #expect(r.status == .unauthorized && code(r) == "invalid_credentials", "\(r.status) \(body(r))")
        }
    }
}
