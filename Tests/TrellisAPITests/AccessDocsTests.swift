// AccessDocsTests.swift — docs/ACCESS.md and the API's refusals use the same words: the scopes table says who holds
// each scope exactly as a 401/403 message does, every route's policy starts with one of those scope names, and a
// `party` refusal says "not found or not visible to you" (the same answer for another's object and for none).
import Foundation
import Testing
import TrellisLedger
@testable import TrellisAPI

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The cells of the Markdown table rows that follow the header row starting with `header`, up to the first blank line.
private func tableRows(_ text: String, header: String) -> [[String]] {
    let lines = text.components(separatedBy: "\n")
    guard let start = lines.firstIndex(where: { $0.hasPrefix(header) }) else { return [] }
    return lines[(start + 2)...].prefix { $0.hasPrefix("|") }.map { line in
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

@Suite struct AccessDocsTests {
    let doc: String

    init() throws {
        doc = try String(contentsOf: repository.appendingPathComponent("docs/ACCESS.md"), encoding: .utf8)
    }

    @Test func theScopesTableUsesTheWordsOfTheRefusals() throws {
        let rows = tableRows(doc, header: "| scope |")
        var documented: [String: String] = [:]
        for row in rows where row.count >= 2 { documented[row[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = row[1] }
        #expect(Set(documented.keys) == Set(APIScope.allCases.map(\.rawValue)), "scopes in docs/ACCESS.md: \(documented.keys.sorted())")
        for scope in APIScope.allCases {
            #expect(documented[scope.rawValue] == scope.holders, "docs/ACCESS.md says \(scope.rawValue) is held by \"\(documented[scope.rawValue] ?? "-")\"; refusals say \"\(scope.holders)\"")
            for caller in [APICaller.anonymous, .member(id: "supplier2", roles: [.supplier])] {
                let message = Routes.refusal(scope, caller: caller, route: .query(name: "lineage", parameters: [:])).message
                #expect(message.contains("needs the scope \(scope.rawValue) (\(scope.holders))"), "\(message)")
            }
        }
    }

    /// Every refusal reads once: no parenthesis inside another (the operator's was "needs the scope operator (the
    /// node operator (the node's own key))"), and every one it opens it closes — for every scope, caller and route.
    @Test func everyRefusalMessageHasNoNestedParentheses() {
        let callers = [APICaller.anonymous, .member(id: "supplier2", roles: [.supplier]), .member(id: "aud", roles: [.auditor]), .nodeOperator]
        let routes: [APIRoute] = [.metrics, .status, .transaction, .block, .events, .state(key: Array("cert/x".utf8)),
                                  .query(name: "lineage", parameters: ["cert": "cert-1"]), .query(name: "exposure", parameters: [:])]
        var checked = 0
        for scope in APIScope.allCases {
            #expect(!scope.holders.contains("(") && !scope.holders.contains(")"), "\(scope.rawValue): \(scope.holders)")
            for caller in callers {
                for route in routes {
                    let message = Routes.refusal(scope, caller: caller, route: route).message
                    var depth = 0, deepest = 0
                    for character in message {
                        if character == "(" { depth += 1; deepest = max(deepest, depth) }
                        if character == ")" { depth -= 1; #expect(depth >= 0, "a ')' closes nothing: \(message)") }
                    }
                    #expect(depth == 0 && deepest <= 1, "\(scope.rawValue), \(caller): \(message)")
                    checked += 1
                }
            }
        }
        #expect(checked == APIScope.allCases.count * callers.count * routes.count)
        // The message of the finding, as an anonymous GET /metrics gets it now.
        let metrics = Routes.refusal(.nodeOperator, caller: .anonymous, route: .metrics).message
        #expect(metrics.contains("needs the scope operator (the node operator, signing with the node's own key): sign the request"), "\(metrics)")
    }

    @Test func everyRoutePolicyStartsWithAScopeName() throws {
        let rows = tableRows(doc, header: "| route | consortium policy |")
        #expect(rows.count >= 15, "the route table of docs/ACCESS.md has \(rows.count) rows")
        let names = APIScope.allCases.map(\.rawValue)
        for row in rows {
            let policy = try #require(row.last)
            let word = String(policy.prefix { $0.isLetter || $0 == "_" })
            #expect(names.contains(word), "route \(row[0]): its policy \"\(policy.prefix(40))…\" does not start with a scope name (\(names))")
        }
    }

    /// The codes "What a rejection tells" lists are the ones the API redacts, and every one is a code the contracts
    /// use (a misspelt code would never be redacted).
    @Test func theRedactedRejectionCodesAreTheDocumentedOnes() throws {
        let start = try #require(doc.range(of: "The codes shown so:"))
        let end = try #require(doc.range(of: "(`RejectionRedaction`)", range: start.upperBound..<doc.endIndex))
        let listed = Set(doc[start.upperBound..<end.lowerBound].split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
        #expect(listed == RejectionRedaction.codes, "docs/ACCESS.md lists \(listed.sorted()); the API redacts \(RejectionRedaction.codes.sorted())")
        let contracts = repository.appendingPathComponent("Sources/TrellisLedger/Contracts")
        var sources = ""
        for file in try FileManager.default.contentsOfDirectory(atPath: contracts.path) where file.hasSuffix(".swift") {
            sources += try String(contentsOf: contracts.appendingPathComponent(file), encoding: .utf8)
        }
        for code in RejectionRedaction.codes { #expect(sources.contains("\"\(code)\""), "no contract rejects with \(code)") }
    }

    @Test func aPartyRefusalSaysNotFoundOrNotVisible() {
        let caller = APICaller.member(id: "supplier2", roles: [.supplier])
        let party = Routes.refusal(.party, caller: caller, route: .query(name: "lineage", parameters: ["cert": "cert-typo"]))
        #expect(party.message.contains("not found or not visible to you"), "\(party.message)")
        #expect(!party.message.contains("cert-typo"), "a refusal never names the object: \(party.message)")
        // Other scopes do not depend on an object: no such clause.
        let readAll = Routes.refusal(.readAll, caller: caller, route: .events)
        #expect(!readAll.message.contains("not found"), "\(readAll.message)")
    }
}
