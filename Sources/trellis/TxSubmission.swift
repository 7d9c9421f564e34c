// TxSubmission.swift — the one path every `trellis tx …` command takes to sign and submit a transaction.
//
// `tx send` and the friendly subcommands (`tx certificate split`, `tx credit retire`, …) differ only in how they
// build the payload JSON; signing, the nonce (the signer's last committed nonce + 1 unless --nonce is given), the
// expiry, submission and the printed answer are here. The answer is one JSON object: hash, status
// (committed | rejected | pending), height, receipt (with `created`, the ids the transaction created) or error
// {code, message}. Exit 0 committed (or accepted without --wait), 1 rejected by a rule, 2 bad input or an
// unreachable node.
import ArgumentParser
import Foundation
import TrellisCrypto
import TrellisLedger

/// The options every transaction command shares: where to send, who signs, nonce, expiry, waiting.
struct TxSubmitOptions: ParsableArguments {
    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26700.") var node: String
    @Option(help: "The signer's key file.") var key: String
    @Option(help: "Co-signers' key files (repeatable).") var cosign: [String] = []
    @Option(help: "The signer's member id (default: looked up by the key).") var signer: String?
    @Option(parsing: .unconditional, help: "The nonce (default: the signer's last committed nonce + 1).", transform: NumberArgument.parse) var nonce: UInt64?
    @Option(parsing: .unconditional, help: "Blocks after the current height until the transaction expires (default: 1000).", transform: NumberArgument.parse) var expiresIn: UInt64 = 1_000
    @Flag(help: "Wait until the transaction is committed and print its receipt (exit 0 committed, 1 rejected, 3 not committed within the node's wait).") var wait = false
    @OptionGroup var output: OutputOptions
}

/// What a payload builder may need besides its flags: the signer's member id and the node, to read state.
struct TxContext {
    let api: NodeAPI
    let signerID: String
}

extension TxSubmitOptions {
    /// Signs and submits a `kind` transaction whose payload is the JSON text `payloadJSON` (checked before any
    /// network access); prints the answer and throws the exit code.
    func submit(kind: String, payloadJSON: Data) async throws {
        let spec = try Self.spec(for: kind)
        let payloadBytes = try Self.canonicalPayload(payloadJSON, spec: spec)
        try await signAndSend(kind: kind) { _ in payloadBytes }
    }

    /// Builds the payload with `payload` (a JSON object, fields as in docs/TRANSACTIONS.md), then signs and submits
    /// a `kind` transaction as `submit(kind:payloadJSON:)` does.
    func submit(kind: String, payload: @escaping (TxContext) async throws -> [String: Any]) async throws {
        let spec = try Self.spec(for: kind)
        try await signAndSend(kind: kind) { context in
            let object = try await payload(context)
            guard JSONSerialization.isValidJSONObject(object), let json = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
                throw badInput("the payload of \(kind) cannot be written as JSON")
            }
            return try Self.canonicalPayload(json, spec: spec)
        }
    }

    private static func spec(for kind: String) throws -> KindSpec {
        guard let spec = ContractRegistry.standard.spec(for: kind) else {
            throw badInput("unknown kind \"\(kind)\"; `trellis tx kinds` lists them")
        }
        return spec
    }

    private static func canonicalPayload(_ json: Data, spec: KindSpec) throws -> [UInt8] {
        do { return try spec.canonicalPayload(fromJSON: json) } catch {
            // The JSON form's own refusals name the kind already ("JSON payload of credit_line.set has no field …").
            throw badInput(error.message.hasPrefix("JSON payload of \(spec.kind) ") ? error.message : "payload of \(spec.kind): \(error.message)")
        }
    }

    /// A submission's answer as a terminal shows it: a rejection's error once — the receipt's copy of the top-level
    /// `error` (the same code and message) is left out. `--json` (and a pipe) keeps the answer as the node sent it.
    static func answerForTerminal(_ answer: [String: Any]) -> [String: Any] {
        guard var receipt = answer["receipt"] as? [String: Any], let error = answer["error"] as? [String: Any],
              let inner = receipt["error"] as? [String: Any], NSDictionary(dictionary: inner).isEqual(to: error) else { return answer }
        receipt.removeValue(forKey: "error")
        var out = answer
        out["receipt"] = receipt
        return out
    }

    private func signAndSend(kind: String, payloadBytes: (TxContext) async throws -> [UInt8]) async throws {
        var unsignedAPI = try NodeAPI(url: node)
        unsignedAPI.output = output
        let signerKey: SigningKey
        do { signerKey = try KeyFile.read(from: key) } catch { throw badInput(error.description) }
        var cosigners: [(String, SigningKey)] = []
        for path in cosign {
            let k: SigningKey
            do { k = try KeyFile.read(from: path) } catch { throw badInput(error.description) }
            cosigners.append((try await unsignedAPI.memberID(of: k.publicKey), k))
        }
        let signerID: String
        if let signer { signerID = signer } else { signerID = try await unsignedAPI.memberID(of: signerKey.publicKey) }
        // Reads of the signer's nonce and of the objects it moves are signed with its key (docs/ACCESS.md).
        let api = try await unsignedAPI.signing(with: signerKey, as: signerID, memberOption: signer == nil ? nil : "--signer")
        let payload: [UInt8], txNonce: UInt64, chainID: String, height: UInt64
        do {
            payload = try await payloadBytes(TxContext(api: api, signerID: signerID))
            (chainID, height) = try await api.chainAndHeight()
            if let nonce { txNonce = nonce } else { txNonce = try await api.lastNonce(of: signerID) + 1 }
        } catch let exit as ExitCode where exit.rawValue == 1 {
            // A refused read (printed above): the objects a friendly command moves, or the signer's nonce.
            printError("nothing was submitted: the node refused a read made before signing (\(signerID)'s nonce, or an object the \(kind) moves)")
            throw exit
        }
        let body = TransactionBody(chainID: chainID, kind: kind, payload: payload, signer: signerID, nonce: txNonce,
                                   expiresAtHeight: height + expiresIn, cosigners: cosigners.map(\.0))
        let tx = Transaction.signed(body, by: [(signerID, signerKey)] + cosigners)
        let url = api.base + "/v1/tx" + (wait ? "?wait=commit" : "")
        let (code, object, raw): (Int, [String: Any]?, Data)
        do { (code, object, raw) = try await HTTP.request("POST", url, json: ["tx": Hex.encode(tx.canonicalBytes)], timeoutSeconds: 60) } catch {
            throw badInput("\(error)")
        }
        guard let object else { throw badInput("\(url) answered \(code) with a non-JSON body: \(String(decoding: raw.prefix(200), as: UTF8.self))") }
        var out = object
        out.removeValue(forKey: "transaction")
        output.print(json: Data(jsonObject(output.printsJSON ? out : Self.answerForTerminal(out)).utf8))
        if let error = object["error"] as? [String: Any], object["status"] == nil || code >= 400 {
            if error["code"] as? String == "nonce_taken" {
                // The default nonce is the last committed one + 1: a second transaction sent before the first commits
                // takes the same one.
                printError("\(signerID) already has a transaction pending with nonce \(txNonce): send the next with --nonce \(txNonce + 1), or use --wait so each commits before the next is signed")
            }
            throw ExitCode(2)
        }
        switch object["status"] as? String {
        case "committed": return
        case "pending":
            guard wait else { return }
            // --wait promised a committed transaction: a script's `&&` must not go on with one that may still be
            // rejected (or expire).
            let hash = object["hash"] as? String ?? tx.hash.hex
            printError("not committed yet (the node waited for it and it may still commit, or expire at height \(body.expiresAtHeight)): `trellis query tx \(hash) --node \(api.base) --key KEY` says where it is")
            throw ExitCode(3)
        case "rejected": throw ExitCode(1)
        default: throw ExitCode(2)
        }
    }
}

/// The bytes of a JSON flag value: the text itself, or the contents of FILE when it is written @FILE.
func jsonArgument(_ value: String) throws -> Data {
    guard value.hasPrefix("@") else { return Data(value.utf8) }
    let path = String(value.dropFirst())
    guard let data = FileManager.default.contents(atPath: path) else {
        // Say why, as `audit verify FILE` does: a missing file, a permission, a directory.
        let fd = open(path, O_RDONLY)
        let reason = fd < 0 ? String(cString: strerror(errno)) : "not a readable file"
        if fd >= 0 { close(fd) }
        throw badInput("cannot read \(path): \(reason)")
    }
    // JSON is UTF-8 text: say so, with where, rather than a JSON parser's "not valid JSON".
    if String(validating: data, as: UTF8.self) == nil {
        throw badInput("\(path) is not UTF-8 text (a JSON value must be)")
    }
    return data
}
