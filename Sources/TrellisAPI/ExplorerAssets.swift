// ExplorerAssets.swift — the web explorer's static files (Sources/TrellisAPI/Explorer/, docs/EXPLORER.md), compiled
// into the binary by SwiftPM's `embedInCode` rule (no resource bundle to ship beside `trellis`, no build step, no
// CDN) and served at `/explorer/`.
//
// Guarantees: only the four files listed here are served, by exact name; anything else under /explorer/ is a 404 in
// the API's JSON error shape. The files carry no chain data (the page reads the API with the visitor's own key), so
// they are public under every read policy. Every answer carries a Content-Security-Policy that allows scripts,
// styles and requests from this origin only, so even a value that slipped past the page's text-only rendering could
// not run a script.
import Hummingbird
import NIOCore

enum ExplorerAssets {
    struct Asset {
        let bytes: [UInt8]
        let contentType: String
    }

    /// The explorer's files by name (`/explorer/<name>`); `/explorer/` is index.html.
    static let files: [String: Asset] = [
        "index.html": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "explorer.css": Asset(bytes: PackageResources.explorer_css, contentType: "text/css; charset=utf-8"),
        "explorer.js": Asset(bytes: PackageResources.explorer_js, contentType: "text/javascript; charset=utf-8"),
        "trellis.js": Asset(bytes: PackageResources.trellis_js, contentType: "text/javascript; charset=utf-8"),
    ]

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The file `name` with its headers, or 404 naming the files there are.
    static func response(_ name: String) throws -> Response {
        guard let asset = files[name] else {
            throw APIError.notFound("the explorer has no file \"\(name.prefix(80))\"; open /explorer/ (files: \(files.keys.sorted().joined(separator: ", ")))")
        }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
