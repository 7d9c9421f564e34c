// APIServer.swift — the HTTP/JSON API (Hummingbird), versioned under /v1, plus /metrics and /health.
//
// Routes (docs/openapi.json, also served at /v1/openapi.json, describes each; OpenAPITests keeps the two in step):
//   POST /v1/tx[?wait=commit]     body: {"tx": "<hex of canonical bytes>"} or raw bytes (application/octet-stream)
//   POST /v1/txs                  body: a binary batch of transactions (TransactionBatch, application/octet-stream)
//   GET  /v1/tx/{hash}            status (pending | committed | rejected | unknown), height, receipt (+ receipt_hex, receipt_path)
//   GET  /v1/blocks/{height|latest}
//   GET  /v1/status
//   GET  /v1/genesis              genesis.json of the chain
//   GET  /v1/state/{key}[?height=H&prove=true]
//   GET  /v1/query/{name}[?height=H&prove=true&<parameters>]
//   GET  /v1/events[?from=H]      server-sent events, one `block` event per committed block, resumable from H
//   GET  /metrics                 Prometheus text (MetricsRegistry: the node's metrics and request durations)
//   GET  /health
//   GET  /v1/openapi.json         the OpenAPI 3.1 description of all of this (Sources/TrellisAPI/OpenAPI/openapi.json)
//   GET  /explorer/[file]         the web explorer's static files (ExplorerAssets, docs/EXPLORER.md)
// Bodies over the configured limit get 413; every error is JSON {"error": {"code", "message"}}. Connection cap, read
// deadlines and early refusals: APIConnectionGuard. Who may read what: every route but /health and the transaction
// submissions (authenticated by their own signatures) reads the caller's credentials (RequestAuthenticator) and
// asks AccessPolicy, the one place scopes are decided (docs/ACCESS.md).
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

public struct APIConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var maxBodyBytes: Int
    public var commitWaitMilliseconds: Int
    /// Connections served at once; beyond them a connection is answered 503 and closed.
    public var maxConnections: Int
    /// A request head must arrive this long after the connection opens or the previous answer ends.
    public var headerTimeoutMilliseconds: Int64
    /// A request body must arrive in full this long after its head.
    public var bodyTimeoutMilliseconds: Int64
    /// Who may read what (docs/ACCESS.md).
    public var readPolicy: ReadPolicy
    /// The node's own public key: requests signed with it as `@operator` read everything, `/metrics` included.
    public var operatorKey: PublicKey?
    /// A bearer token that opens `GET /metrics` (that route only) as to the operator: what Prometheus's
    /// `authorization.credentials_file` sends (`[api] metrics_token_file`, docs/ACCESS.md). Nil: none.
    public var metricsToken: String?
    /// Largest difference between a signed request's timestamp and `clock`.
    public var requestSkewSeconds: Int64
    /// Signed-request nonces remembered at once.
    public var maxRequestNonces: Int
    /// Of those, remembered for one member at once (beyond: 429), so one member cannot fill the window for all.
    public var maxRequestNoncesPerMember: Int
    /// A refusal of a per-object read (another member's object, or none) is answered at the first multiple of this
    /// since the request arrived, so it takes the same time whether the object exists or not (docs/ACCESS.md).
    /// Zero answers at once (tests).
    public var refusalFloorMilliseconds: Int64
    /// The node's clock in Unix seconds, for request timestamps (injected: tests move it).
    public var clock: @Sendable () -> Int64

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 1 << 20, commitWaitMilliseconds: Int = 30_000,
                maxConnections: Int = 256, headerTimeoutMilliseconds: Int64 = 10_000, bodyTimeoutMilliseconds: Int64 = 30_000,
                readPolicy: ReadPolicy = .consortium, operatorKey: PublicKey? = nil, requestSkewSeconds: Int64 = 300, maxRequestNonces: Int = 100_000,
                maxRequestNoncesPerMember: Int = 10_000, refusalFloorMilliseconds: Int64 = 50, metricsToken: String? = nil,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.commitWaitMilliseconds = commitWaitMilliseconds
        self.maxConnections = maxConnections
        self.headerTimeoutMilliseconds = headerTimeoutMilliseconds
        self.bodyTimeoutMilliseconds = bodyTimeoutMilliseconds
        self.readPolicy = readPolicy
        self.operatorKey = operatorKey
        self.requestSkewSeconds = requestSkewSeconds
        self.maxRequestNonces = maxRequestNonces
        self.maxRequestNoncesPerMember = maxRequestNoncesPerMember
        self.refusalFloorMilliseconds = refusalFloorMilliseconds
        self.metricsToken = metricsToken
        self.clock = clock
    }

    /// The `[api]` settings of a node's config, with the connection cap its descriptor budget allows and the node's
    /// own key as the operator's (and the token of `[api] metrics_token_file`, read by the caller: `NodeHome.loadMetricsToken`).
    public init(_ api: NodeConfig.API, host: String, port: Int, maxConnections: Int, operatorKey: PublicKey?, metricsToken: String? = nil) {
        self.init(host: host, port: port, maxBodyBytes: api.maxBodyBytes, commitWaitMilliseconds: api.commitWaitMilliseconds,
                  maxConnections: maxConnections, headerTimeoutMilliseconds: api.headerTimeoutMilliseconds, bodyTimeoutMilliseconds: api.bodyTimeoutMilliseconds,
                  readPolicy: api.readPolicy, operatorKey: operatorKey, requestSkewSeconds: api.requestSkewSeconds, maxRequestNonces: api.maxRequestNonces,
                  maxRequestNoncesPerMember: api.maxRequestNoncesPerMember, refusalFloorMilliseconds: api.refusalFloorMilliseconds,
                  metricsToken: metricsToken)
    }
}

public enum APIServer {
    /// The router with every route bound to `service`. `/metrics` exposes `metrics` (give the node the same
    /// registry's factory, so its metrics appear there).
    public static func router(service: NodeService, configuration: APIConfiguration, connections: APIConnectionLimiter? = nil,
                              metrics: MetricsRegistry = MetricsRegistry()) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(factory: metrics.factory))
        router.add(middleware: JSONErrorMiddleware())
        let authenticator = RequestAuthenticator(chainID: service.chainID, operatorKey: configuration.operatorKey, skewSeconds: configuration.requestSkewSeconds,
                                                 maxNonces: configuration.maxRequestNonces, maxNoncesPerMember: configuration.maxRequestNoncesPerMember,
                                                 now: configuration.clock)
        let routes = Routes(service: service, configuration: configuration, policy: AccessPolicy(readPolicy: configuration.readPolicy), authenticator: authenticator)

        router.get("/health") { _, _ in
            // A halted node (fail-stop) is unhealthy until an operator restarts it.
            if let reason = service.haltReason { return JSONBody.response(status: .serviceUnavailable, ["status": "halted", "reason": reason]) }
            return JSONBody.response(["status": "ok"])
        }
        let connectionMetrics = APIConnectionMetrics(factory: metrics.factory)
        router.get("/metrics") { request, _ in
            // A matching bearer token stands for the operator's signature here, and only here (Prometheus cannot sign).
            if try !routes.metricsBearerMatches(request) { _ = try await routes.authorize(.metrics, request) }
            try await Routes.offload { service.refreshMetrics() }
            if let connections { connectionMetrics.record(connections.statistics) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.post("/v1/tx") { request, context in try await routes.submit(request, context: context) }
        router.post("/v1/txs") { request, context in try await routes.submitBatch(request, context: context) }
        router.get("/v1/tx/:hash") { request, context in try await routes.transaction(request, context.parameters.get("hash") ?? "") }
        router.get("/v1/blocks/:height") { request, context in try await routes.block(request, context.parameters.get("height") ?? "") }
        router.get("/v1/status") { request, _ in try await routes.status(request) }
        router.get("/v1/genesis") { request, _ in try await routes.genesis(request) }
        router.get("/v1/state/:key") { request, context in try await routes.state(request, key: context.parameters.get("key") ?? "") }
        router.get("/v1/query/:name") { request, context in try await routes.query(request, name: context.parameters.get("name") ?? "") }
        router.get("/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: OpenAPIDocument.body))
        }
        router.get("/v1/events") { request, _ in try await routes.events(request) }
        // The web explorer's static files (public: they hold no chain data; the page reads the routes above with the
        // visitor's key). `/explorer` and `/explorer/` are one route to Hummingbird's router.
        router.get("/explorer") { _, _ in try ExplorerAssets.response("index.html") }
        router.get("/explorer/:file") { _, context in try ExplorerAssets.response(context.parameters.get("file") ?? "") }
        return router
    }

    /// A Hummingbird application serving the API.
    /// `onServerRunning` receives the listening channel (tests read the bound port from it).
    public static func application(service: NodeService, configuration: APIConfiguration, logger: Logger,
                                   connections: APIConnectionLimiter? = nil, metrics: MetricsRegistry = MetricsRegistry(),
                                   onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        let limiter = connections ?? APIConnectionLimiter(maxConnections: configuration.maxConnections)
        let limits = APIConnectionGuard.Limits(headerTimeoutMilliseconds: configuration.headerTimeoutMilliseconds,
                                               bodyTimeoutMilliseconds: configuration.bodyTimeoutMilliseconds, maxBodyBytes: configuration.maxBodyBytes)
        return Application(
            router: router(service: service, configuration: configuration, connections: limiter, metrics: metrics),
            server: .http1(configuration: .init(additionalChannelHandlers: [APIConnectionGuard(limiter: limiter, limits: limits, logger: logger)])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "trellis"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}

/// Route handlers.
struct Routes: Sendable {
    let service: NodeService
    let configuration: APIConfiguration
    let policy: AccessPolicy
    let authenticator: RequestAuthenticator

    /// Authenticates the request and asks the policy about `route`: the caller and the decision (never `.deny`:
    /// a refusal is thrown as 401 for an anonymous caller, 403 otherwise).
    func authorize(_ route: APIRoute, _ request: Request) async throws -> Authorization {
        let started = ContinuousClock.now
        var request = request
        let caller = try await authenticate(&request)
        let decision = policy.decide(route, caller: caller)
        if case .deny(let scope) = decision { throw refusal(scope, caller: caller, route: route) }
        return Authorization(caller: caller, decision: decision, route: route, started: started,
                             refusalFloor: .milliseconds(configuration.refusalFloorMilliseconds))
    }

    /// Runs blocking node work — RocksDB reads, signature checks, queries — on NIO's blocking thread pool, never on
    /// Swift's cooperative pool, whose few threads every request's async code shares. Errors pass through as thrown.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// A node service call, off the cooperative pool: its value or its error.
    static func attempt<T: Sendable>(_ body: @escaping @Sendable () throws(ServiceError) -> T) async throws -> Result<T, ServiceError> {
        try await offload { () -> Result<T, ServiceError> in
            do throws(ServiceError) { return .success(try body()) } catch { return .failure(error) }
        }
    }

    /// A node service call, off the cooperative pool, its error as the API answers it.
    static func read<T: Sendable>(_ body: @escaping @Sendable () throws(ServiceError) -> T) async throws -> T {
        try await attempt(body).mapError { APIError.from($0) }.get()
    }

    /// The caller of a request (reads its body, bounded, when it carries credentials: the signature covers it).
    func authenticate(_ request: inout Request) async throws -> APICaller {
        let credentials: APIRequestSignature.Credentials?
        do {
            func single(_ name: String) throws(APIRequestSignature.CredentialError) -> String? {
                let lowered = name.lowercased()
                let values = request.headers.filter { $0.name.canonicalName == lowered }.map(\.value)
                guard values.count <= 1 else { throw .malformed(header: name, reason: "sent \(values.count) times; send it once") }
                return values.first
            }
            credentials = try APIRequestSignature.parse(member: try single(APIRequestSignature.memberHeader), timestamp: try single(APIRequestSignature.timestampHeader),
                                                        nonce: try single(APIRequestSignature.nonceHeader), signature: try single(APIRequestSignature.signatureHeader))
        } catch {
            throw APIError(.unauthorized, code: "invalid_credentials", message: "\(error) (docs/ACCESS.md)")
        }
        guard let credentials else { return .anonymous }
        let body = Array(buffer: try await request.collectBody(upTo: configuration.maxBodyBytes))
        let (authenticator, service, method, target) = (self.authenticator, self.service, request.method.rawValue, request.head.path ?? "/")
        // The member's record is read from the store and the signature verified: blocking work.
        return try await Self.offload { try authenticator.authenticate(credentials, method: method, target: target, body: body, service: service) }
    }

    /// Whether `request` carries `Authorization: Bearer <[api] metrics_token_file's token>` (false without the
    /// header, so signed requests still work); a bearer token that does not match — or any when none is configured
    /// — is a 401. Only `GET /metrics` calls this: every other route ignores the header.
    func metricsBearerMatches(_ request: Request) throws -> Bool {
        let values = request.headers[values: .authorization]
        guard !values.isEmpty else { return false }
        let hint = "the bearer token of GET /metrics is the content of the node's [api] metrics_token_file (docs/ACCESS.md)"
        guard values.count == 1, values[0].utf8.count <= 1024, values[0].lowercased().hasPrefix("bearer ") else {
            throw APIError(.unauthorized, code: "invalid_credentials", message: "Authorization must be sent once as \"Bearer <token>\": \(hint)")
        }
        let presented = String(values[0].dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let token = configuration.metricsToken else {
            throw APIError(.unauthorized, code: "invalid_credentials", message: "this node has no metrics token ([api] metrics_token_file is empty): sign the request with the node's key as @operator (docs/ACCESS.md)")
        }
        guard TokenFile.constantTimeEquals(presented, token) else {
            throw APIError(.unauthorized, code: "invalid_credentials", message: "the bearer token does not match: \(hint)")
        }
        return true
    }

    /// What `authorize` found: who asks, what the policy decided, for which route, and when the request began.
    struct Authorization {
        let caller: APICaller
        let decision: AccessDecision
        let route: APIRoute
        let started: ContinuousClock.Instant
        let refusalFloor: Duration

        /// Carries out a per-object decision once the object's parties are known (nil: no such object). A refusal
        /// is held until the first multiple of `refusalFloor` since the request began: the read before it takes
        /// longer for an existing object than for none, and the answer's timing must not tell them apart.
        func requireParty(_ parties: Set<String>?, policy: AccessPolicy) async throws {
            guard case .deny(let scope) = policy.decide(decision, parties: parties) else { return }
            await Routes.holdRefusal(since: started, floor: refusalFloor)
            throw Routes.refusal(scope, caller: caller, route: route)
        }
    }

    /// Waits until the first whole multiple of `floor` (at least one) since `start` has passed (docs/ACCESS.md).
    static func holdRefusal(since start: ContinuousClock.Instant, floor: Duration) async {
        guard floor > .zero else { return }
        let quanta = max(1, Int(((ContinuousClock.now - start) / floor).rounded(.up)))
        try? await Task.sleep(until: start + floor * quanta, clock: .continuous)
    }

    /// The error answered when `caller` lacks `scope`: the same for every object of the route, existing or not (it
    /// names the route's pattern, never the object).
    static func refusal(_ scope: APIScope, caller: APICaller, route: APIRoute) -> APIError {
        let route = route.pattern
        if caller == .anonymous {
            let how = scope == .nodeOperator
                ? "sign the request with the node's key as @operator, or (Prometheus) send Authorization: Bearer <the token in the node's [api] metrics_token_file>"
                : "sign the request with a member key"
            return APIError(.unauthorized, code: "authentication_required",
                            message: "\(route) needs the scope \(scope.rawValue) (\(scope.holders)): \(how) (docs/ACCESS.md)")
        }
        // A party refusal is the same for another member's object and for none (no existence oracle), so it says
        // both: a mistyped id reads "not found or not visible to you", never a bare "forbidden".
        let which = scope == .party ? ": not found or not visible to you (the API does not say which; docs/ACCESS.md)" : ""
        return APIError(.forbidden, code: "forbidden", message: "\(route) needs the scope \(scope.rawValue) (\(scope.holders)); \(caller) does not have it\(which)")
    }

    func refusal(_ scope: APIScope, caller: APICaller, route: APIRoute) -> APIError { Self.refusal(scope, caller: caller, route: route) }

    func submit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        let bytes = Array(buffer: body)
        let txBytes: [UInt8]
        if request.headers[.contentType]?.hasPrefix("application/octet-stream") == true {
            txBytes = bytes
        } else {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
                throw APIError.badRequest("body must be a JSON object {\"tx\": \"<hex>\"} or raw bytes with Content-Type: application/octet-stream", code: "malformed_body")
            }
            guard let hex = object["tx"] as? String else { throw APIError.badRequest("missing string field \"tx\" (hex of the canonical transaction bytes)", code: "malformed_body") }
            do { txBytes = try Hex.decode(hex) } catch { throw APIError.badRequest("field \"tx\": \(error)", code: "malformed_body") }
        }
        // Admission checks the signatures and reads the ledger (RocksDB): off the cooperative pool.
        let service = self.service
        let admitted = try await Self.offload { () -> Result<Hash, MempoolError> in
            do throws(MempoolError) { return .success(try service.submitTransaction(txBytes)) } catch { return .failure(error) }
        }
        let hash: Hash
        switch admitted {
        case .success(let admittedHash): hash = admittedHash
        case .failure(let error): throw APIError.from(error)
        }
        guard request.uri.queryParameters.get("wait") == "commit" else {
            return JSONBody.response(status: .accepted, ["hash": hash.hex, "status": "pending"])
        }
        let lookup: TransactionLookup
        do { lookup = try await service.waitForCommit(hash, timeoutMilliseconds: configuration.commitWaitMilliseconds) } catch { throw APIError.from(error) }
        // The submitter is not authenticated here (a transaction carries its own signatures): a rejection that
        // would tell whether a named object exists or whose it is is shown redacted unless the node is open.
        let redacting = policy.readPolicy != .open
        if case .committed = lookup { return JSONBody.response(Views.lookup(hash, lookup, service: service, redactingRejections: redacting)) }
        var timedOut = Views.lookup(hash, lookup, service: service, redactingRejections: redacting)
        timedOut["error"] = ["code": "commit_timeout", "message": "not committed within \(configuration.commitWaitMilliseconds) ms; it may still commit: poll GET /v1/tx/\(hash.hex)"]
        return JSONBody.response(status: .accepted, timedOut)
    }

    /// `POST /v1/txs`: up to `TransactionBatch.maxTransactions` transactions in one binary body. 200 with one result
    /// per transaction in order — `{hash, status: pending}` or `{error: {code, message, retry_after_s?}}`
    /// (`retry_after_s`: seconds to wait, on admission control's `overloaded`/`signer_backlog`) — so one refusal never
    /// refuses the others; 429 + Retry-After when admission control refused every one for the same reason; 400 for
    /// a body that is not exactly one batch, 415 for another content type.
    func submitBatch(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard request.headers[.contentType]?.hasPrefix("application/octet-stream") == true else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                           message: "POST /v1/txs takes a binary transaction batch with Content-Type: application/octet-stream (one JSON transaction: POST /v1/tx)")
        }
        let body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        let batch: [[UInt8]]
        do { batch = try TransactionBatch.decode(Array(buffer: body)) } catch {
            throw APIError.badRequest("transaction batch: \(error)", code: "malformed_body")
        }
        let service = self.service
        let results = try await Self.offload { service.submitTransactions(batch) }  // signatures + RocksDB reads
        // Refused whole by admission control (the node was overloaded before it looked at the batch): 429.
        if !results.isEmpty, case .failure(let first) = results[0], first.retryAfterSeconds != nil,
           results.allSatisfy({ if case .failure(let e) = $0 { return e.code == first.code } else { return false } }) {
            throw APIError.from(first)
        }
        return JSONBody.raw(Data(Self.batchAnswer(results).utf8))
    }

    /// The JSON answer to a batch, written directly (it is on the load path: JSONSerialization of the per-item
    /// dictionaries cost as much as admitting the batch). Same bytes as JSONSerialization with sorted keys; refusal
    /// items, rare, still go through it.
    static func batchAnswer(_ results: [Result<Hash, MempoolError>]) -> String {
        var accepted = 0
        var items: [String] = []
        items.reserveCapacity(results.count)
        // Above saturation most of a batch's tail is refused for the same reason (admission control's counts stop
        // moving once the limit is reached): the item is written once and repeated.
        var last: (error: MempoolError, item: String)?
        for result in results {
            switch result {
            case .success(let hash):
                accepted += 1
                items.append("{\"hash\":\"\(hash.hex)\",\"status\":\"pending\"}")
            case .failure(let error):
                if let last, last.error == error {
                    items.append(last.item)
                } else {
                    let item = refusalItem(error)
                    last = (error, item)
                    items.append(item)
                }
            }
        }
        return "{\"accepted\":\(accepted),\"refused\":\(results.count - accepted),\"results\":[" + items.joined(separator: ",") + "]}"
    }

    /// One refused item of a batch answer: `{"error":{"code","message","retry_after_s"?}}` (admission control's
    /// refusals carry their retry hint, as a 429's Retry-After does for a whole batch). Written directly, the same bytes
    /// as JSONSerialization with sorted keys and unescaped slashes; a message with a byte outside printable ASCII goes
    /// through JSONSerialization.
    static func refusalItem(_ error: MempoolError) -> String {
        let code = error.code, message = error.description
        func printable(_ text: String) -> Bool { text.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E } }
        guard printable(code), printable(message) else {
            var refusal: [String: Any] = ["code": code, "message": message]
            if let seconds = error.retryAfterSeconds { refusal["retry_after_s"] = seconds }
            return String(decoding: JSONBody.data(["error": refusal]), as: UTF8.self)
        }
        func quoted(_ text: String) -> String {
            var out = "\""
            for c in text.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                default: out.unicodeScalars.append(c)
                }
            }
            return out + "\""
        }
        let retry = error.retryAfterSeconds.map { ",\"retry_after_s\":\($0)" } ?? ""
        return "{\"error\":{\"code\":\(quoted(code)),\"message\":\(quoted(message))\(retry)}}"
    }

    func status(_ request: Request) async throws -> Response {
        let decision = try await authorize(.status, request).decision
        let service = self.service
        let status = try await Self.read { () throws(ServiceError) in try service.status() }
        guard decision == .allow(.publicPart) else { return try JSONBody.encode(status) }
        return JSONBody.response(Views.publicStatus(status))
    }

    /// The genesis document as genesis.json (what `trellis genesis` writes); a client hashes it itself (never trusts
    /// a served hash), as `trellis audit export --node` does.
    func genesis(_ request: Request) async throws -> Response {
        _ = try await authorize(.genesis, request)
        guard let genesis = service.genesisDocument() else { throw APIError.notFound("this node serves no genesis document") }
        let data: Data
        do { data = try genesis.json() } catch { throw APIError(.internalServerError, code: "internal_error", message: "cannot encode the genesis document: \(error)") }
        return JSONBody.raw(data)
    }

    func transaction(_ request: Request, _ text: String) async throws -> Response {
        let access = try await authorize(.transaction, request)
        let hash: Hash
        do { hash = try Hash(hex: text) } catch { throw APIError.badRequest("transaction hash: \(error)") }
        let service = self.service
        let lookup = try await Self.read { () throws(ServiceError) in try service.transaction(hash) }
        switch lookup {
        case .committed(let tx, _), .pending(let tx): try await access.requireParty(ObjectParties.of(tx), policy: policy)
        case .unknown:
            try await access.requireParty(nil, policy: policy)
            throw APIError.notFound("transaction \(hash.hex) is not known to this node")
        }
        // Regulators, auditors and the operator (and everyone on an open node) see rejections whole; a member sees
        // one that would tell whether a named object exists or whose it is redacted, without the receipt's proof
        // (the proof would carry the rule's own answer).
        let redacting = policy.readPolicy != .open && !access.caller.readsAll
        var answer = Views.lookup(hash, lookup, service: service, redactingRejections: redacting)
        if case .committed(_, let record) = lookup, !(redacting && RejectionRedaction.redacts(record.receipt)) {
            // The receipt's canonical bytes and its RFC 9162 path to the header's receipts_root: the outcome is
            // provable, not only the inclusion (the explorer checks both).
            let receipts = try await Self.read { () throws(ServiceError) in try service.receipts(atHeight: record.height) }
            if let receipts, Int(record.index) < receipts.count, receipts[Int(record.index)] == record.receipt,
               let path = MerkleTree.proof(leaves: receipts.map(\.hash.bytes), index: Int(record.index)) {
                answer["receipt_hex"] = Hex.encode(record.receipt.canonicalBytes)
                answer["receipt_path"] = path.path.map(\.hex)
            }
        }
        return JSONBody.response(answer)
    }

    func block(_ request: Request, _ text: String) async throws -> Response {
        let decision = try await authorize(.block, request).decision
        let requested: UInt64?
        if text == "latest" {
            requested = nil
        } else {
            guard let h = UInt64(text) else { throw APIError.badRequest("height must be a non-negative integer or \"latest\"") }
            requested = h
        }
        let service = self.service
        let (height, found, validators) = try await Self.read { () throws(ServiceError) -> (UInt64, (Block, CommitCertificate?)?, ValidatorSet?) in
            let height: UInt64
            if let requested { height = requested } else { height = try service.status().height }
            guard let found = try service.block(at: height) else { return (height, nil, nil) }
            return (height, found, try service.validatorSet(forHeight: height))
        }
        guard let (block, certificate) = found else { throw APIError.notFound("no block at height \(height)") }
        guard decision == .allow(.publicPart) else {
            return JSONBody.response(Views.block(block, certificate: certificate, validators: validators, service: service))
        }
        return JSONBody.response(Views.publicBlock(block, certificate: certificate, validators: validators))
    }

    func state(_ request: Request, key: String) async throws -> Response {
        guard !key.isEmpty else { throw APIError.badRequest("state key is empty") }
        let (height, prove) = try readOptions(request)
        let keyBytes: [UInt8]
        if let hex = request.uri.queryParameters.get("key_hex") {
            do { keyBytes = try Hex.decode(String(hex)) } catch { throw APIError.badRequest("key_hex: \(error)") }
        } else {
            keyBytes = Array((key.removingPercentEncoding ?? key).utf8)
        }
        let access = try await authorize(.state(key: keyBytes), request)
        let service = self.service
        func read(at height: UInt64?, prove: Bool) async throws -> Result<StateRead, ServiceError> {
            try await Self.attempt { () throws(ServiceError) in try service.state(key: keyBytes, height: height, prove: prove) }
        }
        guard case .allowIfParty = access.decision else { return JSONBody.response(Views.stateRead(try await read(at: height, prove: prove).mapError { APIError.from($0) }.get())) }
        // A party check reads the record without its proof: the work before a refusal must not depend on whether
        // the record exists (a proof of presence and one of absence cost differently).
        let unproved: StateRead
        switch try await read(at: height, prove: false) {
        case .success(let found): unproved = found
        case .failure(let error):
            if case .notFound = error { try await access.requireParty(nil, policy: policy) }
            throw APIError.from(error)
        }
        try await access.requireParty(unproved.value.flatMap { ObjectParties.of(stateKey: keyBytes, value: $0) }, policy: policy)
        guard prove else { return JSONBody.response(Views.stateRead(unproved)) }
        return JSONBody.response(Views.stateRead(try await read(at: unproved.height, prove: true).mapError { APIError.from($0) }.get()))
    }

    func query(_ request: Request, name: String) async throws -> Response {
        let (height, prove) = try readOptions(request)
        var collected: [String: String] = [:]
        for (k, v) in request.uri.queryParameters where k != "height" && k != "prove" {
            collected[String(k)] = String(v).removingPercentEncoding ?? String(v)
        }
        let parameters = collected
        let access = try await authorize(.query(name: name, parameters: parameters), request)
        let service = self.service
        func run(at height: UInt64?, prove: Bool) async throws -> Result<QueryResponse, ServiceError> {
            try await Self.attempt { () throws(ServiceError) in try service.query(name, parameters: parameters, height: height, prove: prove) }
        }
        let answer: QueryResponse
        if case .allowIfParty = access.decision {
            // The party check runs the query without proofs (their cost grows with what exists), and a caller who
            // may not see the object learns nothing from its absence: the same refusal as for another's, after the
            // same floor.
            let unproved: QueryResponse
            switch try await run(at: height, prove: false) {
            case .success(let found): unproved = found
            case .failure(let error):
                if case .notFound = error { try await access.requireParty(nil, policy: policy) }
                throw APIError.from(error)
            }
            try await access.requireParty(ObjectParties.of(json: unproved.result), policy: policy)
            answer = prove ? try await run(at: unproved.height, prove: true).mapError { APIError.from($0) }.get() : unproved
        } else {
            answer = try await run(at: height, prove: prove).mapError { APIError.from($0) }.get()
        }
        var result = (try? JSONSerialization.jsonObject(with: answer.result, options: [.fragmentsAllowed])) ?? NSNull()
        var proofs = answer.proofs.map(Views.stateRead)
        if case .allowIfParty(let member) = access.decision, name == "lineage" {
            (result, proofs) = AnswerRedaction.lineage(result, proofs: proofs, for: member)
        }
        var out: [String: Any] = ["query": name, "height": answer.height, "state_root": answer.stateRoot.hex, "result": result]
        if prove { out["proofs"] = proofs }
        if EventReasons.eventLists[name] != nil {
            // Why a piece was rejected or a piece or block frozen, read from the transactions its events name (EventReasons).
            var reasons: [[String: Any]] = []
            for (hashText, kind) in EventReasons.events(inAnswerOf: name, result) {
                guard let hash = try? Hash(hex: hashText) else { continue }
                let lookup = try await Self.read { () throws(ServiceError) in try service.transaction(hash) }
                if case .committed(let tx, _) = lookup, tx.body.kind == kind, let reason = EventReasons.reason(of: tx) {
                    reasons.append(["tx_hash": hashText, "kind": kind, "reason": reason])
                }
            }
            if !reasons.isEmpty { out["event_reasons"] = reasons }
        }
        return JSONBody.response(out)
    }

    func events(_ request: Request) async throws -> Response {
        _ = try await authorize(.events, request)
        var from: UInt64 = 1
        if let text = request.uri.queryParameters.get("from") {
            guard let h = UInt64(String(text)), h >= 1 else { throw APIError.badRequest("from must be a height ≥ 1") }
            from = h
        }
        let stream = service.committedBlocks(from: from)
        let body = ResponseBody { writer in
            // Ends when the server shuts down gracefully (else an open stream would hold the shutdown up).
            for await committed in stream.cancelOnGracefulShutdown() {
                let data = Self.blockEventJSON(committed)  // written directly (BlockEventJSON.swift)
                var buffer = ByteBuffer()
                buffer.writeString("id: \(committed.block.header.height)\nevent: block\ndata: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    private func readOptions(_ request: Request) throws -> (UInt64?, Bool) {
        var height: UInt64?
        if let text = request.uri.queryParameters.get("height") {
            guard let h = UInt64(String(text)) else { throw APIError.badRequest("height must be a non-negative integer") }
            height = h
        }
        var prove = false
        if let text = request.uri.queryParameters.get("prove") {
            switch text {
            case "true", "1": prove = true
            case "false", "0": prove = false
            default: throw APIError.badRequest("prove must be true, false, 1 or 0")
            }
        }
        return (height, prove)
    }
}
