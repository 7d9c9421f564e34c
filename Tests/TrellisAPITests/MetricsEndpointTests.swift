// MetricsEndpointTests.swift — `GET /metrics` over an in-memory node: a valid Prometheus exposition (parsed strictly),
// request durations labelled by route template, bounded method and status — never by what a client sent.
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TrellisTesting
@testable import TrellisAPI

@Suite struct MetricsEndpointTests {
    @Test func exposesRequestDurationsByRouteTemplateWithBoundedLabels() async throws {
        let service = FakeNodeService()
        let metrics = MetricsRegistry()
        let app = Application(router: APIServer.router(service: service, configuration: APIConfiguration(commitWaitMilliseconds: 100),
                                                       connections: APIConnectionLimiter(maxConnections: 8), metrics: metrics))
        try await app.test(.router) { client in
            _ = try await client.execute(uri: "/v1/status", method: .get)
            _ = try await client.execute(uri: "/v1/status", method: .get)
            let badHash = try await client.execute(uri: "/v1/tx/not-a-hash", method: .get)
            #expect(badHash.status == .badRequest)
            let unknown = try await client.execute(uri: "/v2/secret-user-path?x=<script>", method: .get)
            #expect(unknown.status == .notFound)
            let invented = try await client.execute(uri: "/v1/status", method: HTTPRequest.Method("BREW")!)
            #expect(invented.status.code >= 400)

            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            let exposition = try PrometheusText(text)
            let duration = "trellis_api_request_duration_seconds"
            #expect(exposition.types[duration] == "histogram")
            #expect(exposition.value(duration + "_count", ["route": "/v1/status", "method": "GET", "status": "200"]) == 2)
            #expect(exposition.value(duration + "_count", ["route": "/v1/tx/{hash}", "method": "GET", "status": "400"]) == 1)
            #expect(exposition.value(duration + "_count", ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
            #expect(!exposition.samples(duration + "_count", ["method": "other"]).isEmpty, "an invented method is not labelled `other`")
            // Nothing a client sent becomes a label value.
            for sample in exposition.samples {
                for value in sample.labels.values {
                    #expect(!value.contains("secret") && !value.contains("not-a-hash") && !value.contains("BREW"), "client input in a label: \(sample)")
                }
            }
            // The connection guard's counters are there (mirrored), and the node was asked to refresh its gauges.
            #expect(exposition.types["trellis_api_refused_connections_total"] == "counter")
            #expect(exposition.types["trellis_api_connections"] == "gauge")
            #expect(service.metricsRefreshes.withLockedValue { $0 } == 1)
        }
    }

    @Test func expositionParserRefusesMalformedText() {
        #expect(throws: PrometheusTextError.self) { try PrometheusText("trellis_height 3\n") }  // no TYPE
        #expect(throws: PrometheusTextError.self) { try PrometheusText("# TYPE x gauge\nx{a=\"1} 3\n") }
        #expect(throws: PrometheusTextError.self) { try PrometheusText("# TYPE x gauge\nx three\n") }
        #expect(throws: PrometheusTextError.self) {
            try PrometheusText("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n")
        }
        #expect(throws: PrometheusTextError.self) {
            try PrometheusText("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 0\n")
        }
        let ok = try? PrometheusText("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1.5\n# TYPE g gauge\ng{a=\"x\\\"y\"} -1\n")
        #expect(ok?.value("g", ["a": "x\"y"]) == -1)
    }
}
