// HTTPClient.swift — small JSON-over-HTTP helpers for the CLI (Foundation's URLSession).
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TrellisLedger

enum HTTP {
    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Sends a request and returns (status, JSON object or nil, raw body). With `credentials` the request is signed
    /// (docs/ACCESS.md).
    static func request(_ method: String, _ url: String, json body: [String: Any]? = nil, timeoutSeconds: Double = 10,
                        credentials: APIClientCredentials? = nil) async throws -> (Int, [String: Any]?, Data) {
        guard let u = URL(string: url) else { throw Failure(message: "bad URL \(url)") }
        var request = URLRequest(url: u, timeoutInterval: timeoutSeconds)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let credentials {
            for (name, value) in credentials.headers(method: method, target: target(of: u), body: Array(request.httpBody ?? Data())) {
                request.setValue(value, forHTTPHeaderField: name)
            }
        }
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw Failure(message: "cannot reach \(url): \(error.localizedDescription)" + unreachableHint(error))
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        return (status, object, data)
    }

    /// What to do next when nothing answered at a node's address (connection refused, no such host, timed out), or
    /// something answered that does not speak HTTP ("Empty reply from server": a node's p2p port, USER-FINDINGS #13).
    static func unreachableHint(_ error: Error) -> String {
        guard let code = (error as? URLError)?.code else { return "" }
        if code == .badServerResponse {
            return ". Something listens there but does not answer HTTP — a node's p2p port? The URL must be the node's [api] listen "
                + "address, not its [p2p] one (a local testnet's APIs are its p2p ports + 100: `trellis testnet status` lists them)"
        }
        guard [.cannotConnectToHost, .cannotFindHost, .timedOut, .networkConnectionLost, .notConnectedToInternet].contains(code) else { return "" }
        return ". Is the node running? A local testnet: `trellis testnet status` (and `trellis testnet up` to start it); "
            + "a node: `trellis node start --home DIR`; the URL must be the node's [api] listen address"
    }

    static func get(_ url: String, timeoutSeconds: Double = 10, credentials: APIClientCredentials? = nil) async throws -> (Int, [String: Any]?, Data) {
        try await request("GET", url, timeoutSeconds: timeoutSeconds, credentials: credentials)
    }

    /// The request target of `url` as sent: its path and query, still percent-encoded.
    static func target(of url: URL) -> String {
        let path = url.path(percentEncoded: true)
        return (path.isEmpty ? "/" : path) + (url.query(percentEncoded: true).map { "?" + $0 } ?? "")
    }
}
