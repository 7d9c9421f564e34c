// OpenAPITests.swift — GET /v1/openapi.json is docs/openapi.json, an OpenAPI 3.1 document, and it describes exactly
// the routes the router serves: every described operation reaches its route (the request metrics name the matched
// route template), and every route APIServer.swift registers is described.
import Foundation
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

    @Test func servedDocumentIsTheRepositoryCopyAndOpenAPI31() async throws {
        let docs = try Data(contentsOf: repository.appendingPathComponent("docs/openapi.json"))
        #expect(String(decoding: docs, as: UTF8.self) == OpenAPIDocument.json, "docs/openapi.json and OpenAPIDocument.swift differ")
        #expect(try document()["openapi"] as? String == "3.1.0")
        let app = Application(router: APIServer.router(service: FakeNodeService(), configuration: APIConfiguration(readPolicy: .open)))
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == OpenAPIDocument.json)
        }
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
        #expect(registered.subtracting(described).isEmpty, "served but not described in docs/openapi.json: \(registered.subtracting(described).sorted())")
        #expect(described.subtracting(registered).isEmpty, "described but not registered: \(described.subtracting(registered).sorted())")
    }
}
