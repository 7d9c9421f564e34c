// OpenAPITests.swift — GET /v1/openapi.json is Sources/TrellisAPI/OpenAPI/openapi.json byte for byte (the one copy;
// docs/openapi.json links to it), an OpenAPI 3.1 document, and it describes exactly the routes the router serves:
// every described operation reaches its route (the request metrics name the matched route template), and every
// route APIServer.swift registers is described.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TrellisLedger
import TrellisTesting
@testable import TrellisAPI

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct OpenAPITests {
    private func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
    }

    /// (method, path template) of every described operation.
    private func operations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        return Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
    }

    /// The one copy of the description: the served bytes are the file's, byte for byte, and docs/openapi.json is a
    /// symbolic link to it (a regular file there would be a second copy that drifts).
    @Test func servedDocumentIsTheRepositoryFileAndOpenAPI31() async throws {
        let file = repository.appendingPathComponent("Sources/TrellisAPI/OpenAPI/openapi.json")
        let bytes = [UInt8](try Data(contentsOf: file))
        #expect(OpenAPIDocument.bytes == bytes, "the embedded description is not Sources/TrellisAPI/OpenAPI/openapi.json (rebuild)")
        #expect(try document()["openapi"] as? String == "3.1.0")
        let docs = repository.appendingPathComponent("docs/openapi.json")
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: docs.path)
        #expect(link == "../Sources/TrellisAPI/OpenAPI/openapi.json", "docs/openapi.json must be a relative symbolic link to the one copy, not \(link)")
        #expect([UInt8](try Data(contentsOf: docs)) == bytes)
        let app = Application(router: APIServer.router(service: FakeNodeService(), configuration: APIConfiguration(readPolicy: .open)))
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(Array(response.body.readableBytesView) == bytes, "GET /v1/openapi.json is not the file byte for byte")
        }
    }

    /// No other file under Sources/ or docs/ holds an OpenAPI document (the Swift copy this replaced once drifted).
    @Test func theDescriptionExistsOnce() throws {
        var holders: [String] = []
        for folder in ["Sources", "docs"] {
            let root = repository.appendingPathComponent(folder)
            let walker = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey]))
            for case let url as URL in walker {
                let values = try url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
                guard values.isRegularFile == true, values.isSymbolicLink != true, let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
                if text.contains("\"openapi\": \"3.1.0\"") { holders.append(url.path.replacingOccurrences(of: repository.path + "/", with: "")) }
            }
        }
        #expect(holders == ["Sources/TrellisAPI/OpenAPI/openapi.json"])
    }

    @Test func everyDescribedOperationReachesItsRoute() async throws {
        let samples = ["{hash}": String(repeating: "0", count: 64), "{height}": "1", "{key}": "k", "{name}": "member", "{file}": "explorer.js"]
        let metrics = MetricsRegistry()
        let app = Application(router: APIServer.router(service: FakeNodeService(), configuration: APIConfiguration(commitWaitMilliseconds: 10, readPolicy: .open), metrics: metrics))
        let described = try operations()
        try await app.test(.router) { client in
            for operation in described {
                let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                var path = parts[1]
                for (placeholder, value) in samples { path = path.replacingOccurrences(of: placeholder, with: value) }
                _ = try await client.execute(uri: path, method: parts[0] == "POST" ? .post : .get)
            }
            let exposition = try PrometheusText(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            let reached = Set(exposition.samples("trellis_api_request_duration_seconds_count").map { "\($0.labels["method"] ?? "") \($0.labels["route"] ?? "")" })
            for operation in described {
                #expect(reached.contains(operation), "\(operation) is described but no route serves it (reached: \(reached.sorted()))")
            }
        }
    }

    /// The four Trellis-* headers are described as security schemes required together (or none, for the public
    /// scope), and every read that authenticates describes its 401 and 403 answers (docs/ACCESS.md); /health, this
    /// description and the explorer's static files read no credentials.
    @Test func signedRequestsAndTheirRefusalsAreDescribed() throws {
        let document = try document()
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: [String: Any]])
        #expect(Set(schemes.values.compactMap { $0["name"] as? String }) == Set(APIRequestSignature.headerNames))
        #expect(schemes.values.allSatisfy { $0["type"] as? String == "apiKey" && $0["in"] as? String == "header" })
        let security = try #require(document["security"] as? [[String: Any]])
        #expect(security.contains { $0.isEmpty } && security.contains { Set($0.keys) == Set(schemes.keys) }, "security: \(security)")
        let responses = try #require(components["responses"] as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        var checked = 0
        for (path, methods) in paths {
            for (method, operation) in methods where method == "get" && path != "/health" && path != "/v1/openapi.json" && !path.hasPrefix("/explorer") {
                let answers = operation["responses"] as? [String: [String: Any]] ?? [:]
                for status in ["401", "403"] {
                    let reference = (answers[status]?["$ref"] as? String)?.replacingOccurrences(of: "#/components/responses/", with: "")
                    #expect(reference.map { responses[$0] != nil } == true, "GET \(path) does not describe its \(status)")
                }
                checked += 1
            }
        }
        #expect(checked >= 8)
    }

    /// A parameter or an answer that two operations share is written once, under `components`, and referenced with
    /// `$ref` (answers with recorded examples stay with their operation): an inline copy of one fails here.
    @Test func sharedParametersAndAnswersAreComponents() throws {
        let paths = try #require(try document()["paths"] as? [String: [String: [String: Any]]])
        var seen: [String: String] = [:]
        func canonical(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        }
        for (path, methods) in paths {
            for (method, operation) in methods {
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).filter { $0["$ref"] == nil }
                let answers = (operation["responses"] as? [String: [String: Any]] ?? [:]).filter { $0.value["$ref"] == nil && $0.key != "200" }
                for inline in parameters.map({ $0 as Any }) + answers.values.map({ $0 as Any }) {
                    let text = try canonical(inline)
                    if let first = seen[text] {
                        Issue.record("\(method.uppercased()) \(path) repeats inline what \(first) has: put it under components and $ref it: \(text.prefix(160))")
                    }
                    seen[text] = "\(method.uppercased()) \(path)"
                }
            }
        }
        let components = try #require(try document()["components"] as? [String: [String: Any]])
        #expect(components["parameters"]?["Height"] != nil && components["responses"]?["JSONError"] != nil)
    }

    @Test func everyRegisteredRouteIsDescribed() throws {
        let source = try String(contentsOf: repository.appendingPathComponent("Sources/TrellisAPI/APIServer.swift"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"router\.(get|post|put|delete|patch)\("([^"]+)"\)"#)
        let matches = pattern.matches(in: source, range: NSRange(source.startIndex..., in: source))
        let registered = Set(matches.map { match -> String in
            let method = String(source[Range(match.range(at: 1), in: source)!]).uppercased()
            let path = String(source[Range(match.range(at: 2), in: source)!])
                .split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return "\(method) /\(path)"
        })
        #expect(registered.count >= 10, "found only \(registered.sorted()) in APIServer.swift")
        let described = try operations()
        #expect(registered.subtracting(described).isEmpty, "served but not described in Sources/TrellisAPI/OpenAPI/openapi.json: \(registered.subtracting(described).sorted())")
        #expect(described.subtracting(registered).isEmpty, "described but not registered: \(described.subtracting(registered).sorted())")
    }

    /// Under the consortium policy every GET route that reads credentials refuses malformed ones with 401, and the
    /// document declares 401, 403 and the signed-request headers (its security) on exactly those routes.
    @Test func refusalsAreDeclaredWhereRoutesRefuse() async throws {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        let samples = ["{hash}": String(repeating: "0", count: 64), "{height}": "1", "{key}": "k", "{name}": "member", "{file}": "explorer.js"]
        let app = Application(router: APIServer.router(service: FakeNodeService(), configuration: APIConfiguration(readPolicy: .consortium)))
        // (path, declares 401, declares 403, may be signed) of every GET operation: an operation without its own
        // `security` takes the document's, which allows the Trellis-* headers; `[{}]` says it reads none.
        let declared: [(path: String, unauthorized: Bool, forbidden: Bool, headers: Bool)] = paths.compactMap { path, methods in
            guard let operation = methods["get"] as? [String: Any], let responses = operation["responses"] as? [String: Any] else { return nil }
            let signed = (operation["security"] as? [[String: Any]]).map { $0.contains { !$0.isEmpty } } ?? true
            return (path, responses["401"] != nil, responses["403"] != nil, signed)
        }
        try await app.test(.router) { client in
            for operation in declared {
                var uri = operation.path
                for (placeholder, value) in samples { uri = uri.replacingOccurrences(of: placeholder, with: value) }
                let response = try await client.execute(uri: uri, method: .get, headers: [HTTPField.Name("Trellis-Member")!: "not a member id!"])
                let refuses = response.status == .unauthorized
                #expect(operation.unauthorized == refuses, "GET \(operation.path): answers \(response.status) to malformed credentials; declares 401: \(operation.unauthorized)")
                #expect(operation.forbidden == refuses, "GET \(operation.path): declares 403: \(operation.forbidden)")
                #expect(operation.headers == refuses, "GET \(operation.path): security allows the Trellis-* headers: \(operation.headers)")
            }
        }
    }

    /// Examples recorded from a live node (Scripts/openapi-examples.py) carry every field the route answers now:
    /// a field added to an answer without recording the examples again fails here.
    @Test func recordedExamplesHaveEveryFieldTheRoutesAnswer() async throws {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        func example(_ path: String, _ status: String, _ name: String) throws -> [String: Any] {
            let operation = try #require(paths[path]?["get"] as? [String: Any], "GET \(path)")
            let response = try #require((operation["responses"] as? [String: Any])?[status] as? [String: Any], "GET \(path) \(status)")
            let examples = try #require(((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["examples"] as? [String: Any],
                                        "GET \(path) \(status) has no recorded examples (run Scripts/openapi-examples.py)")
            return try #require((examples[name] as? [String: Any])?["value"] as? [String: Any], "GET \(path) \(status): no example \"\(name)\"")
        }
        let service = FakeNodeService()
        let open = Application(router: APIServer.router(service: service, configuration: APIConfiguration(readPolicy: .open)))
        let consortium = Application(router: APIServer.router(service: service, configuration: APIConfiguration(readPolicy: .consortium)))
        let cases: [(app: String, uri: String, path: String, name: String)] = [
            ("open", "/v1/status", "/v1/status", "regulator"), ("consortium", "/v1/status", "/v1/status", "anonymous"),
            ("open", "/health", "/health", "ok"), ("consortium", "/v1/blocks/1", "/v1/blocks/{height}", "public"),
            ("open", "/v1/blocks/1", "/v1/blocks/{height}", "regulator"),
        ]
        for c in cases {
            let recorded = try example(c.path, "200", c.name)
            let answered: Set<String> = try await (c.app == "open" ? open : consortium).test(.router) { client in
                let response = try await client.execute(uri: c.uri, method: .get)
                return Set(try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]).keys)
            }
            let missing = answered.subtracting(recorded.keys)
            #expect(missing.isEmpty, "GET \(c.uri) (\(c.app)) answers fields the example \"\(c.name)\" lacks: \(missing.sorted())")
        }
    }

    /// A method a route does not answer gets 405 with `Allow` (schemathesis's "wrong response to undeclared method");
    /// a path no route has stays 404.
    @Test func undeclaredMethodsAre405WithAllow() async throws {
        let app = Application(router: APIServer.router(service: FakeNodeService(), configuration: APIConfiguration(readPolicy: .open)))
        try await app.test(.router) { client in
            let cases: [(HTTPRequest.Method, String, String)] = [(.trace, "/v1/status", "GET"), (.get, "/v1/tx", "POST"), (.delete, "/v1/blocks/3", "GET"),
                                                                 (.post, "/explorer/explorer.js", "GET"), (.put, "/health", "GET")]
            for (method, uri, allow) in cases {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(uri): \(response.status)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri): Allow \(response.headers[.allow] ?? "none")")
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect((object?["error"] as? [String: Any])?["code"] as? String == "method_not_allowed")
            }
            for uri in ["/v2/status", "/v1/tx/a/b", "/nothing"] {
                #expect(try await client.execute(uri: uri, method: .trace).status == .notFound, "\(uri)")
            }
        }
    }
}

