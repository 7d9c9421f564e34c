// OpenAPIDocument.swift — the API's OpenAPI 3.1 description, served at GET /v1/openapi.json.
//
// There is one copy: Sources/TrellisAPI/OpenAPI/openapi.json, compiled into the binary by SwiftPM's `embedInCode`
// rule (`PackageResources.openapi_json`, generated at build time — nothing to ship or find beside `trellis`, in a
// debug, test or release build alike). docs/openapi.json is a symbolic link to that file. OpenAPITests checks that
// the served bytes are the file's, that docs/openapi.json resolves to it, and that the routes the router serves and
// the paths described match both ways. Edit the JSON file (Scripts/openapi-examples.py records examples into it).
import NIOCore

enum OpenAPIDocument {
    /// The description's bytes, exactly as in the repository's file.
    static let bytes: [UInt8] = PackageResources.openapi_json

    /// The description as text (UTF-8 JSON; the file is checked to be valid JSON by OpenAPITests).
    static let json = String(decoding: bytes, as: UTF8.self)

    /// The body GET /v1/openapi.json answers with.
    static var body: ByteBuffer { ByteBuffer(bytes: bytes) }
}
