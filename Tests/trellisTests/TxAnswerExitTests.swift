// TxAnswerExitTests.swift — what `trellis tx … --wait` tells a script when the node's answer is not a receipt:
// a wait that ended before the commit exits 3 (not 0: `&&` must not go on with a transaction that may still be
// rejected), and a second transaction sent before the first committed (`nonce_taken`) says which nonce to use.
// The node is a small HTTP stub (Python's http.server) answering /v1/status and POST /v1/tx as a node does.
import Foundation
import Testing
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP stub answering GET /v1/status with a chain id and height and every POST with `post` (status, JSON).
private final class SubmitStub {
    let process: ChildProcess
    let url: String

    init(postStatus: Int, postAnswer: [String: Any]) throws {
        let answer = String(decoding: try JSONSerialization.data(withJSONObject: postAnswer), as: UTF8.self)
        let script = """
        import http.server, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def answer(self, code, body):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self):
                if self.path.startswith("/v1/status"): self.answer(200, '{"chain_id": "stub-1", "height": 7}')
                else: self.answer(404, '{"error": {"code": "not_found", "message": "stub"}}')
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.answer(int(sys.argv[1]), sys.argv[2])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        (process, url) = try startPythonHTTPStub(script, ["\(postStatus)", answer])
    }

    func stop() {
        process.send(SIGKILL)
        process.waitUntilExit()
    }
}

@Suite struct TxAnswerExitTests {
    private func send(to stub: SubmitStub, wait: Bool, json: Bool = false) throws -> CLIResult {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = dir + "/bank.key"
        #expect(try CLI.run(["keys", "generate", "--out", key]).status == 0)
        let payload = #"{"line_id":"l1","core":"core","limit":10,"expiry":1900000000}"#
        return try CLI.run(["tx", "send", "--kind", "credit_line.set", "--payload", payload, "--signer", "bank", "--nonce", "5", "--node", stub.url, "--key", key]
                           + (wait ? ["--wait"] : []) + (json ? ["--json"] : []))
    }

    @Test func aWaitThatEndsBeforeTheCommitExits3() throws {
        let hash = String(repeating: "ab", count: 32)
        let stub = try SubmitStub(postStatus: 202, postAnswer: ["hash": hash, "status": "pending",
                                                                "error": ["code": "commit_timeout", "message": "not committed within 30000 ms; it may still commit"]])
        defer { stub.stop() }
        for json in [false, true] {
            let waited = try send(to: stub, wait: true, json: json)
            #expect(waited.status == 3, "a --wait that ended with the transaction pending exited \(waited.status): \(waited.stdout) \(waited.stderr)")
            #expect(waited.stderr.contains("not committed yet") && waited.stderr.contains("trellis query tx \(hash)"), "\(waited.stderr)")
            #expect(waited.stdout.contains("commit_timeout"), "the node's answer is still printed: \(waited.stdout)")
        }
        // Without --wait, pending is what was asked for.
        #expect(try send(to: stub, wait: false).status == 0)
    }

    @Test func aTakenNonceSaysWhichNonceComesNext() throws {
        let stub = try SubmitStub(postStatus: 409, postAnswer: ["error": ["code": "nonce_taken", "message": "a transaction of bank with nonce 5 is already pending"]])
        defer { stub.stop() }
        let result = try send(to: stub, wait: false)
        #expect(result.status == 2, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("--nonce 6") && result.stderr.contains("--wait"), "\(result.stderr)")
    }
}
