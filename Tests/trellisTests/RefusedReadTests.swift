// RefusedReadTests.swift — a `trellis tx` command reads the signer's nonce (and what it moves) with the signer's key
// before it signs; when the node refuses that read (a rotated-out key: 401 invalid_signature), the refusal is printed
// as every answer is — the human layout at a terminal, the node's JSON with --json or to a pipe — and the note under
// it names only what the user gave: "leave --signer out" only when --signer was given (twenty-second first-hour
// pass, F2). The node is a stub that registers the key to supplier1 and refuses every signed state read.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RefusedReadTests {
    static let refusal = #"{"error":{"code":"invalid_signature","message":"the signature does not verify against an active key of supplier1"}}"#

    /// A stub node: /v1/status, `member_key/<hex>` → `member`, every other GET → 401 invalid_signature.
    static let stub = """
    import sys, http.server
    member_path, member_hex, refusal = sys.argv[1], sys.argv[2], sys.argv[3]
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def answer(self, code, body):
            data = body.encode()
            self.send_response(code); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/v1/status": self.answer(200, '{"chain_id":"stub-1","height":5}')
            elif path == member_path: self.answer(200, '{"key":"member_key","value_hex":"%s"}' % member_hex)
            else: self.answer(401, refusal)
    server = http.server.HTTPServer(("127.0.0.1", 0), H)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """

    /// Runs `body` with the stub's URL and a key file registered (by the stub) to supplier1.
    func withStub(_ body: (_ url: String, _ keyFile: String) throws -> Void) throws {
        let key = SigningKey.generate()
        let dir = CLI.temporaryDirectory()
        let keyFile = dir + "/supplier1-old.key"
        try KeyFile.write(key, to: keyFile)
        let (stub, url) = try startPythonHTTPStub(Self.stub, ["/v1/state/member_key%2F" + key.publicKey.hex, Hex.encode("supplier1".canonicalBytes), Self.refusal])
        defer { stub.send(SIGKILL); stub.waitUntilExit() }
        try body(url, keyFile)
    }

    static let payload = #"{"doc_hash":"\#(String(repeating: "ab", count: 32))","doc_kind":"invoice","title":"INV-1"}"#

    func send(_ url: String, _ keyFile: String, _ extra: [String] = []) -> [String] {
        ["tx", "send", "--kind", "evidence.attest", "--payload", Self.payload, "--node", url, "--key", keyFile] + extra
    }

    /// `arguments` run at a terminal: `script` gives the CLI a pseudo-terminal as standard output.
    func atTerminal(_ arguments: [String]) throws -> CLIResult {
        let quoted = ([CLI.binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = try CLI.runProcess("/usr/bin/script", ["-qec", quoted, "/dev/null"])
        return CLIResult(status: result.status, stdout: result.stdout.replacingOccurrences(of: "\r\n", with: "\n"), stderr: result.stderr)
    }

    @Test func aRefusedReadToAPipeIsTheNodesJSONAndTheNoteNamesNoSignerNotGiven() throws {
        try withStub { url, keyFile in
            let piped = try CLI.run(send(url, keyFile))
            #expect(piped.status == 1, "\(piped.stdout) \(piped.stderr)")
            #expect(piped.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Self.refusal, "\(piped.stdout)")
            #expect(piped.stderr.contains("is registered to supplier1 but is not among supplier1's active keys on chain stub-1 (a rotated-out key no longer signs)"), "\(piped.stderr)")
            #expect(!piped.stderr.contains("--signer"), "--signer was not given: \(piped.stderr)")
            #expect(piped.stderr.contains("nothing was submitted"), "\(piped.stderr)")

            // With --signer, the note may say to leave it out.
            let named = try CLI.run(send(url, keyFile, ["--signer", "supplier1"]))
            #expect(named.status == 1 && named.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Self.refusal, "\(named.stdout)")
            #expect(named.stderr.contains("is not among supplier1's active keys on chain stub-1 (--signer supplier1 was given)") && named.stderr.contains("or leave --signer out"), "\(named.stderr)")

            // `query --key` has no --signer: its note does not name one either.
            let query = try CLI.run(["query", "tx", String(repeating: "0", count: 64), "--node", url, "--key", keyFile])
            #expect(query.status == 1 && query.stdout.contains("invalid_signature"), "\(query.stdout)")
            #expect(query.stderr.contains("is registered to supplier1") && !query.stderr.contains("--signer"), "\(query.stderr)")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux's script for a pseudo-terminal"))
    func aRefusedReadAtATerminalIsLaidOutAndJSONWithTheFlag() throws {
        try withStub { url, keyFile in
            // script merges the CLI's standard error into the terminal's output.
            let human = try atTerminal(send(url, keyFile))
            #expect(human.status == 1, "\(human.stdout)")
            #expect(!human.stdout.contains(#"{"error""#), "raw JSON at a terminal: \(human.stdout)")
            let lines = human.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(lines.contains { $0.hasPrefix("code") && $0.hasSuffix("invalid_signature") }, "\(human.stdout)")
            #expect(lines.contains { $0.hasPrefix("message") && $0.hasSuffix("the signature does not verify against an active key of supplier1") }, "\(human.stdout)")
            #expect(human.stdout.contains("nothing was submitted") && !human.stdout.contains("--signer"), "\(human.stdout)")

            let json = try atTerminal(send(url, keyFile, ["--json"]))
            #expect(json.status == 1 && json.stdout.contains(Self.refusal), "--json at a terminal: \(json.stdout)")
        }
    }
}
