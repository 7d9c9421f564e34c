// QueryNamesTests.swift — `trellis query NAME` with a name the node does not know: the node checks the key's scope
// before the query's name, so a typo (`query holding` for `holdings`) came back as a refusal of the key (401/403)
// with nothing about the name (twenty-fourth first-hour pass). The CLI adds a note naming the queries it knows; the
// list is the node's catalogue.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisSpawn
import TrellisTesting
@testable import trellis
@testable import TrellisNode
#if canImport(Glibc)
import Glibc
#endif

@Suite struct QueryNamesTests {
    @Test func theCLIKnowsTheNodesQueries() {
        #expect(Query.knownQueries == NodeQueries.catalogue.map { $0.name })
        #expect(Query.unknownNameNote("holdings") == nil)
        let note = Query.unknownNameNote("holding") ?? ""
        #expect(note.contains("\"holding\" is not a query this trellis knows") && note.contains("holdings") && note.contains("the node checks the key before the query's name"), "\(note)")
    }

    @Test func aRefusedQueryOfAnUnknownNameSaysSo() throws {
        let key = SigningKey.generate()
        let keyFile = CLI.temporaryDirectory() + "/supplier1.key"
        try KeyFile.write(key, to: keyFile)
        // The stub answers 401 to every read but its status and supplier1's key.
        let (stub, url) = try startPythonHTTPStub(RefusedReadTests.stub, ["/v1/state/member_key%2F" + key.publicKey.hex, Hex.encode("supplier1".canonicalBytes), RefusedReadTests.refusal])
        defer { stub.send(SIGKILL); stub.waitUntilExit() }
        let typo = try CLI.run(["query", "holding", "--member", "supplier1", "--node", url, "--key", keyFile])
        #expect(typo.status == 1 && typo.stdout.contains("invalid_signature"), "\(typo.stdout) \(typo.stderr)")
        #expect(typo.stderr.contains("note: \"holding\" is not a query this trellis knows (member, lineage, holdings,"), "\(typo.stderr)")
        let known = try CLI.run(["query", "holdings", "--member", "supplier1", "--node", url, "--key", keyFile])
        #expect(known.status == 1 && !known.stderr.contains("is not a query"), "\(known.stderr)")
    }
}
