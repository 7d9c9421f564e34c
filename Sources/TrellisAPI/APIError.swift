// APIError.swift — every API error is JSON `{"error": {"code", "message"}}` with the right HTTP status.
import Foundation
import Hummingbird
import TrellisNode

/// An error answered to a client.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Sent as `Retry-After` (seconds) with 429 answers.
    public let retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, code: String, message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse()
    }

    /// `{"error": {"code", "message"}}` with the status, and `Retry-After` when set.
    func jsonResponse() -> Response {
        var response = JSONBody.response(status: status, ["error": ["code": code, "message": message]])
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError { APIError(.badRequest, code: code, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message: message) }

    /// The API form of a mempool refusal: 429 + Retry-After from admission control, 503 when full (back-pressure),
    /// 409 for duplicates, 400 otherwise.
    static func from(_ error: MempoolError) -> APIError {
        switch error {
        case .overloaded, .signerBacklog:
            return APIError(.tooManyRequests, code: error.code, message: error.description, retryAfterSeconds: error.retryAfterSeconds)
        case .full, .signerFull: return APIError(.serviceUnavailable, code: error.code, message: error.description)
        case .duplicate: return APIError(.conflict, code: error.code, message: error.description)
        case .tooLarge: return APIError(.contentTooLarge, code: error.code, message: error.description)
        default: return APIError(.badRequest, code: error.code, message: error.description)
        }
    }

    static func from(_ error: ServiceError) -> APIError {
        switch error {
        case .notFound(let m): return APIError(.notFound, code: "not_found", message: m)
        case .badRequest(let m): return APIError(.badRequest, code: "bad_request", message: m)
        case .unavailable(let m): return APIError(.serviceUnavailable, code: "unavailable", message: m)
        case .internalError(let m): return APIError(.internalServerError, code: "internal_error", message: m)
        case .statePruned(let m): return APIError(.gone, code: "state_pruned", message: m)
        }
    }
}

/// Turns any error a route throws (including Hummingbird's own, e.g. body too large) into the JSON error shape.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    static func response(status: HTTPResponse.Status, message: String) -> Response {
        let code: String
        switch status {
        case .contentTooLarge: code = "body_too_large"
        case .notFound: code = "not_found"
        case .methodNotAllowed: code = "method_not_allowed"
        default: code = "http_\(status.code)"
        }
        return JSONBody.response(status: status, ["error": ["code": code, "message": message]])
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.jsonResponse()
        } catch let error as HTTPError {
            // The router found no route for this method; when the path is a route of other methods, that is 405 with
            // the methods it allows (RFC 9110 §15.5.6), not 404.
            if error.status == .notFound, context.endpointPath?.hasPrefix("/") != true,
               let allowed = RouteMethods.allowed(path: request.uri.path), !allowed.contains(request.method.rawValue) {
                var response = Self.response(status: .methodNotAllowed,
                                             message: "\(request.method.rawValue.prefix(20)) is not allowed here; this route answers \(allowed.joined(separator: ", "))")
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            return Self.response(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            // e.g. NIOTooManyBytesError from collecting an oversize body.
            return Self.response(status: error.status, message: error.status == .contentTooLarge ? "request body exceeds the limit" : error.status.reasonPhrase)
        } catch {
            return JSONBody.response(status: .internalServerError, ["error": ["code": "internal_error", "message": "\(error)"]])
        }
    }
}

/// The methods each route answers, read once from the OpenAPI description (which OpenAPITests keeps equal to the
/// routes the router registers, both ways).
enum RouteMethods {
    static let table: [(segments: [String], methods: [String])] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]] else { preconditionFailure("invalid state: OpenAPIDocument.json is not an OpenAPI document") }
        return paths.keys.sorted().map { path in
            (path.split(separator: "/").map(String.init), paths[path]!.keys.filter { $0 != "parameters" }.map { $0.uppercased() }.sorted())
        }
    }()

    /// The methods of the route whose template matches `path` (a `{name}` segment matches any one segment), or nil.
    static func allowed(path: String) -> [String]? {
        let parts = path.split(separator: "/").map(String.init)
        return table.first { entry in
            entry.segments.count == parts.count && zip(entry.segments, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }?.methods
    }
}

enum JSONBody {
    /// A JSON response from a JSONSerialization-compatible object (sorted keys, stable output).
    static func response(status: HTTPResponse.Status = .ok, _ object: Any) -> Response {
        raw(status: status, data(object))
    }

    /// The JSON bytes of a JSONSerialization-compatible object (sorted keys, stable output).
    static func data(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// A response whose body is already JSON.
    static func raw(status: HTTPResponse.Status = .ok, _ data: Data) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(data)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// A response for an Encodable value.
    static func encode<T: Encodable>(status: HTTPResponse.Status = .ok, _ value: T) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return raw(status: status, try encoder.encode(value))
    }
}
