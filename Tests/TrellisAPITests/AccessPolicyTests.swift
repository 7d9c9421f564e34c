// AccessPolicyTests.swift — the read policy as a matrix: every caller (anonymous, a member of each role, the
// regulator and auditor roles, the node operator) × every route × own/other object, under both read policies.
import Testing
import TrellisLedger
import TrellisNode
@testable import TrellisAPI

@Suite struct AccessPolicyTests {
    let consortium = AccessPolicy(readPolicy: .consortium)

    /// Every caller the matrix covers: anonymous, one member per role (id "m"), and the operator.
    static var callers: [APICaller] {
        [.anonymous, .nodeOperator] + Role.allCases.map { .member(id: "m", roles: [$0]) }
    }

    static func readsAll(_ caller: APICaller) -> Bool {
        switch caller {
        case .anonymous: return false
        case .nodeOperator: return true
        case .member(_, let roles): return roles.contains(.regulator) || roles.contains(.auditor)
        }
    }

    @Test func publicRoutesAnswerEveryone() {
        for caller in Self.callers {
            for route in [APIRoute.health, .genesis, .submitTransactions, .state(key: Array("member_key/ab12".utf8)), .state(key: Array("attest/ab12".utf8)),
                          .query(name: "evidence", parameters: ["hash": "ab12"])] {
                #expect(consortium.decide(route, caller: caller) == .allow(.full), "\(route) for \(caller)")
            }
            let view: AccessView = Self.readsAll(caller) ? .full : .publicPart
            #expect(consortium.decide(.status, caller: caller) == .allow(view), "status for \(caller)")
            #expect(consortium.decide(.block, caller: caller) == .allow(view), "block for \(caller)")
        }
    }

    @Test func metricsAreTheOperatorsAndEventsNeedReadAll() {
        for caller in Self.callers {
            #expect(consortium.decide(.metrics, caller: caller) == (caller == .nodeOperator ? .allow(.full) : .deny(.nodeOperator)), "metrics for \(caller)")
            #expect(consortium.decide(.events, caller: caller) == (Self.readsAll(caller) ? .allow(.full) : .deny(.readAll)), "events for \(caller)")
        }
    }

    @Test func ownQueriesAnswerOnlyTheMemberTheyName() {
        for caller in Self.callers {
            for (name, parameter) in [("member", "id"), ("holdings", "member"), ("credit_blocks", "owner"), ("evidence_by", "member")] {
                let own = consortium.decide(.query(name: name, parameters: [parameter: "m"]), caller: caller)
                let other = consortium.decide(.query(name: name, parameters: [parameter: "other"]), caller: caller)
                let missing = consortium.decide(.query(name: name, parameters: [:]), caller: caller)
                if Self.readsAll(caller) {
                    #expect(own == .allow(.full) && other == .allow(.full) && missing == .allow(.full), "\(name) for \(caller)")
                } else if caller == .anonymous {
                    #expect(own == .deny(.party) && other == .deny(.party) && missing == .deny(.party), "\(name) for \(caller)")
                } else {
                    #expect(own == .allow(.full), "\(name) of itself for \(caller)")
                    #expect(other == .deny(.party), "\(name) of another member for \(caller)")
                    #expect(missing == .deny(.party), "\(name) without its parameter for \(caller)")
                }
            }
        }
    }

    @Test func objectQueriesAndTransactionsAnswerOnlyParties() {
        for caller in Self.callers {
            let routes: [APIRoute] = [.transaction, .query(name: "lineage", parameters: ["cert": "c1"]), .query(name: "provenance", parameters: [:]),
                                      .query(name: "retirements", parameters: [:]), .state(key: Array("cert/c1".utf8)), .state(key: Array("cblock/b1".utf8)),
                                      .state(key: Array("fin/f1".utf8)), .state(key: Array("creditline/l1".utf8)), .state(key: Array("retirement/r1".utf8))]
            for route in routes {
                let decision = consortium.decide(route, caller: caller)
                if Self.readsAll(caller) {
                    #expect(decision == .allow(.full), "\(route) for \(caller)")
                } else if caller == .anonymous {
                    #expect(decision == .deny(.party), "\(route) for \(caller)")
                } else {
                    #expect(decision == .allowIfParty(member: "m"), "\(route) for \(caller)")
                    #expect(consortium.decide(decision, parties: ["m", "x"]) == .allow(.full), "own \(route) for \(caller)")
                    #expect(consortium.decide(decision, parties: ["x"]) == .deny(.party), "another's \(route) for \(caller)")
                    // No existence oracle: an absent object is refused exactly like another member's.
                    #expect(consortium.decide(decision, parties: nil) == consortium.decide(decision, parties: ["x"]), "absent \(route) for \(caller)")
                }
            }
        }
    }

    @Test func aggregateAndWholeChainQueries() {
        for caller in Self.callers {
            #expect(consortium.decide(.query(name: "supply", parameters: [:]), caller: caller) == (caller == .anonymous ? .deny(.member) : .allow(.full)))
            for name in ["exposure", "green_backed", "no_such_query"] {
                let decision = consortium.decide(.query(name: name, parameters: [:]), caller: caller)
                #expect(decision == (Self.readsAll(caller) ? .allow(.full) : .deny(.readAll)), "\(name) for \(caller)")
            }
        }
    }

    @Test func rawStateIsOwnRecordsOrReadAll() {
        for caller in Self.callers {
            let own = [LedgerKeys.member("m"), LedgerKeys.nonce("m")].map { consortium.decide(.state(key: $0), caller: caller) }
            let other = [LedgerKeys.member("other"), LedgerKeys.nonce("other"), LedgerKeys.validatorSet(effectiveFrom: 1)].map { consortium.decide(.state(key: $0), caller: caller) }
            if Self.readsAll(caller) {
                #expect((own + other).allSatisfy { $0 == .allow(.full) })
            } else if caller == .anonymous {
                #expect((own + other).allSatisfy { $0 == .deny(.party) })
            } else {
                #expect(own.allSatisfy { $0 == .allow(.full) }, "own records for \(caller)")
                #expect(other.allSatisfy { $0 == .deny(.readAll) }, "other records for \(caller)")
            }
        }
    }

    @Test func theOpenPolicyAnswersEveryoneEverything() {
        let open = AccessPolicy(readPolicy: .open)
        let routes: [APIRoute] = [.health, .metrics, .status, .block, .events, .transaction, .state(key: LedgerKeys.member("other")),
                                  .query(name: "exposure", parameters: [:]), .query(name: "holdings", parameters: ["member": "other"])]
        for caller in Self.callers {
            for route in routes { #expect(open.decide(route, caller: caller) == .allow(.full), "\(route) for \(caller) under open") }
        }
    }

    @Test func partyFieldsAreFoundAnywhereInAnAnswer() {
        let answer = #"{"certificate":{"holder":"s1","debtor":"core"},"financings":[{"financier":"bank","applicant":"s1"}],"transactions":[{"event":{"actor":"s0"}}],"note":{"name":"x"}}"#
        #expect(ObjectParties.of(json: Data(answer.utf8)) == ["s1", "core", "bank", "s0"])
        #expect(ObjectParties.of(json: Data("not json".utf8)).isEmpty)
        // A retirement's party is its retirer (who hands its offline certificate on), not the beneficiary's name.
        let retirement = Retirement(retID: "ret-1", ranges: [], retiredBy: "buyer", beneficiary: "Acme Steel Ltd", purpose: "offset", claimPeriodStart: 0,
                                    claimPeriodEnd: 1, time: 2, height: 3, txHash: .zero)
        #expect(ObjectParties.of(stateKey: GreenAssetsKeys.retirement("ret-1"), value: retirement.canonicalBytes) == ["buyer"])
    }

    /// An attestation record embedded in a lineage or provenance names attesters and carries metadata whose keys the
    /// attester chose: neither makes anyone party (a co-attestation with metadata {"holder": "mallory"} must not
    /// open a certificate's lineage to mallory).
    @Test func attestationRecordsInAnAnswerNameNoParties() {
        let lineage = #"{"certificate":{"holder":"s1","debtor":"core"},"document_attestation":{"attester":"core","attestations":[{"attester":"mallory","metadata":{"holder":"mallory","owner":"mallory"}}]}}"#
        #expect(ObjectParties.of(json: Data(lineage.utf8)) == ["s1", "core"])
        let provenance = #"{"block":{"owner":"b1"},"report_attestation":{"attestations":[{"attester":"v1","metadata":{"verifier":"mallory"}}]}}"#
        #expect(ObjectParties.of(json: Data(provenance.utf8)) == ["b1"])
    }
}

import Foundation
