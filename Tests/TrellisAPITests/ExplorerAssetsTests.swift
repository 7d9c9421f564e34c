// ExplorerAssetsTests.swift — the explorer's static files as the node serves them: every file by exact name with its
// content type and the Content-Security-Policy, public under the consortium policy (no key needed to load the page),
// a JSON 404 for anything else; and the page's scripts never hand data to an HTML parser (the rendering rule of
// docs/EXPLORER.md). Rendering in a real browser: ExplorerEndToEndTests (trellisTests).
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import TrellisAPI

private let explorerSources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/TrellisAPI/Explorer")

@Suite struct ExplorerAssetsTests {
    private func app() -> some ApplicationProtocol {
        Application(router: APIServer.router(service: FakeNodeService(), configuration: APIConfiguration(readPolicy: .consortium)))
    }

    @Test func everyFileIsServedWithItsTypeAndPolicyWithoutCredentials() async throws {
        try await app().test(.router) { client in
            for uri in ["/explorer", "/explorer/"] {
                let page = try await client.execute(uri: uri, method: .get)
                #expect(page.status == .ok, "\(uri)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: page.body).contains("<script src=\"/explorer/explorer.js\"></script>"))
            }
            let types = ["index.html": "text/html", "explorer.css": "text/css", "explorer.js": "text/javascript", "trellis.js": "text/javascript"]
            #expect(Set(ExplorerAssets.files.keys) == Set(types.keys))
            for (name, type) in types {
                let response = try await client.execute(uri: "/explorer/\(name)", method: .get)
                #expect(response.status == .ok, "\(name)")
                #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(name): \(response.headers[.contentType] ?? "none")")
                #expect(response.headers[.contentSecurityPolicy] == ExplorerAssets.contentSecurityPolicy)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                // The bytes served are the repository's file, byte for byte.
                let file = try Data(contentsOf: explorerSources.appendingPathComponent(name))
                #expect(Array(response.body.readableBytesView) == Array(file), "\(name) served differs from Sources/TrellisAPI/Explorer/\(name)")
            }
        }
    }

    @Test func unknownFilesAreJSON404s() async throws {
        try await app().test(.router) { client in
            for uri in ["/explorer/nope.js", "/explorer/..%2FPackage.swift", "/explorer/index.html.bak", "/explorer/%3Cscript%3E"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .notFound, "\(uri): \(response.status)")
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect((object?["error"] as? [String: Any])?["code"] as? String == "not_found", "\(uri)")
            }
        }
    }

    @Test func csPolicyAllowsThisOriginOnly() {
        let directives = Dictionary(uniqueKeysWithValues: ExplorerAssets.contentSecurityPolicy.split(separator: ";").map {
            let words = $0.split(separator: " ").map(String.init)
            return (words[0], Array(words.dropFirst()))
        })
        #expect(directives["default-src"] == ["'none'"])
        for directive in ["script-src", "style-src", "connect-src"] { #expect(directives[directive] == ["'self'"], "\(directive)") }
        #expect(!ExplorerAssets.contentSecurityPolicy.contains("unsafe"))
    }

    /// Data reaches the page as text only: the scripts never use an HTML sink, `eval` or inline handlers.
    @Test func scriptsUseNoHTMLSinks() throws {
        for name in ["explorer.js", "trellis.js"] {
            let source = try String(contentsOf: explorerSources.appendingPathComponent(name), encoding: .utf8)
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"on", "javascript:"] {
                #expect(!source.contains(sink), "\(name) uses \(sink)")
            }
        }
        let page = try String(contentsOf: explorerSources.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(!page.contains("<script>") && !page.contains(" style=") && !page.contains(" onclick="), "index.html has inline script or style (the CSP forbids them)")
    }

    /// The page decodes payloads with docs/EXPORT-FORMAT.md §9's layouts: its copy is that block, verbatim, so a kind
    /// added to the ledger (which must add its line there, AuditDocumentTests) cannot be missing from the page.
    @Test func theScriptCarriesTheDocumentsPayloadLayoutsVerbatim() throws {
        let doc = try String(contentsOf: explorerSources.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/EXPORT-FORMAT.md"), encoding: .utf8)
        let script = try String(contentsOf: explorerSources.appendingPathComponent("trellis.js"), encoding: .utf8)
        func between(_ text: String, _ start: String, _ end: String) -> String? {
            guard let from = text.range(of: start), let to = text.range(of: end, range: from.upperBound..<text.endIndex) else { return nil }
            return String(text[from.upperBound..<to.lowerBound])
        }
        let documented = try #require(between(doc, "```layouts\n", "```"), "docs/EXPORT-FORMAT.md has no layouts block")
        let copied = try #require(between(script, "const PAYLOAD_LAYOUTS = `\n", "`;"), "trellis.js has no PAYLOAD_LAYOUTS")
        #expect(documented.contains("kind certificate.issue:"))
        #expect(copied == documented, "trellis.js's PAYLOAD_LAYOUTS differs from docs/EXPORT-FORMAT.md §9: copy the block")
    }
}
