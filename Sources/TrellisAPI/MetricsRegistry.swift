// MetricsRegistry.swift — the metrics behind `GET /metrics`: a swift-prometheus collector registry, the swift-metrics
// factory that records into it (handed to the node), and the API's own request metrics.
//
// Every label is bounded: `route` is the matched route's template (`/v1/tx/{hash}`, never the path a client sent;
// `unmatched` for anything no route serves), `method` one of a fixed set, `status` the numeric HTTP status.
import CoreMetrics
import Dispatch
import Hummingbird
import NIOCore
import Prometheus
import TrellisNode

/// The Prometheus registry `/metrics` exposes and the swift-metrics factory that fills it.
public struct MetricsRegistry: Sendable {
    /// What `/metrics` emits.
    public let registry: PrometheusCollectorRegistry
    /// Record through this (e.g. `NodeMetrics(factory:)`) to appear in `/metrics`.
    public let factory: any MetricsFactory

    /// Request-duration buckets: most answers take well under a millisecond; `wait=commit` takes seconds.
    static let requestDurationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// A new, empty registry with the node's and the API's histogram buckets.
    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = NodeMetrics.valueBuckets
        factory.durationHistogramBuckets = NodeMetrics.durationBuckets
        factory.durationHistogramBuckets[RequestMetricsMiddleware<BasicRequestContext>.durationLabel] = Self.requestDurationBuckets
        self.registry = registry
        self.factory = factory
    }

    /// The Prometheus text exposition (format 0.0.4) of everything recorded so far.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}

/// Records `trellis_api_request_duration_seconds{route, method, status}` for every request, unknown routes included.
/// Sits outside `JSONErrorMiddleware`, so it sees the status the client got.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    static var durationLabel: String { "trellis_api_request_duration_seconds" }
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let method = Self.methodLabel(request.method)
        do {
            // Until the answer is ready (a `wait=commit` answer takes seconds; an event stream counts until it starts).
            let response = try await next(request, context)
            Self.record(factory: factory, route: context.endpointPath, method: method, status: response.status.code, started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            Self.record(factory: factory, route: context.endpointPath, method: method, status: status, started: started)
            throw error
        }
    }

    static func record(factory: any MetricsFactory, route: String?, method: String, status: Int, started: UInt64) {
        // A matched route's template starts with "/"; Hummingbird names the not-found responder "NotFound".
        let route = route.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
        let timer = CoreMetrics.Timer(label: durationLabel, dimensions: [("route", route), ("method", method), ("status", String(status))],
                                      factory: factory)
        timer.recordNanoseconds(Int64(clamping: DispatchTime.now().uptimeNanoseconds &- started))
    }

    /// The method as a bounded label: the methods HTTP defines, `other` for anything else a client invents.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .delete, .options, .patch, .connect, .trace: return method.rawValue
        default: return "other"
        }
    }
}

/// The connection guard's running totals, mirrored into the registry at every scrape.
struct APIConnectionMetrics: Sendable {
    let open: CoreMetrics.Gauge
    let refused: MirroredCounter
    let timedOut: MirroredCounter
    let declaredTooLarge: MirroredCounter

    init(factory: any MetricsFactory) {
        open = CoreMetrics.Gauge(label: "trellis_api_connections", factory: factory)
        refused = MirroredCounter(CoreMetrics.Counter(label: "trellis_api_refused_connections_total", factory: factory))
        timedOut = MirroredCounter(CoreMetrics.Counter(label: "trellis_api_timeouts_total", factory: factory))
        declaredTooLarge = MirroredCounter(CoreMetrics.Counter(label: "trellis_api_body_too_large_total", factory: factory))
    }

    func record(_ statistics: APIConnectionLimiter.Statistics) {
        open.record(statistics.open)
        refused.update(to: statistics.refused)
        timedOut.update(to: statistics.timedOut)
        declaredTooLarge.update(to: statistics.declaredTooLarge)
    }
}
