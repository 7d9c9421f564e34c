// TxCommand.swift — `trellis tx send|kinds`: build, sign and submit a transaction; list the transaction kinds.
//
// `tx send` prints one JSON object: hash, status (committed | rejected | pending), height, receipt (with `created`,
// the ids the transaction created) or error {code, message}. Exit 0 committed (or accepted without --wait),
// 1 rejected by a rule, 2 bad input or an unreachable node.
import ArgumentParser
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

struct Tx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx",
        abstract: "Build, sign and submit transactions; list transaction kinds.",
        subcommands: [Send.self, Kinds.self]
    )

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a transaction with member keys and submit it to a node.")

        @Option(help: "The node's API URL, e.g. http://127.0.0.1:26700.") var node: String
        @Option(help: "The signer's key file.") var key: String
        @Option(help: "Co-signers' key files (repeatable).") var cosign: [String] = []
        @Option(help: "The transaction kind, e.g. certificate.issue (see `trellis tx kinds`).") var kind: String
        @Option(help: "The payload as JSON (fields as in docs/TRANSACTIONS.md), or @FILE.") var payload: String
        @Option(help: "The signer's member id (default: looked up by the key).") var signer: String?
        @Option(help: "The nonce (default: the signer's last committed nonce + 1).") var nonce: UInt64?
        @Option(help: "Blocks after the current height until the transaction expires.") var expiresIn: UInt64 = 1_000
        @Flag(help: "Wait until the transaction is committed and print its receipt.") var wait = false

        func run() async throws {
            let base = node.hasSuffix("/") ? String(node.dropLast()) : node
            guard let spec = ContractRegistry.standard.spec(for: kind) else {
                throw badInput("unknown kind \"\(kind)\"; `trellis tx kinds` lists them")
            }
            let json: Data
            if payload.hasPrefix("@") {
                guard let d = FileManager.default.contents(atPath: String(payload.dropFirst())) else { throw badInput("cannot read \(payload.dropFirst())") }
                json = d
            } else {
                json = Data(payload.utf8)
            }
            let payloadBytes: [UInt8]
            do { payloadBytes = try spec.canonicalPayload(fromJSON: json) } catch { throw badInput("--payload: \(error.message)") }
            let signerKey: SigningKey
            do { signerKey = try KeyFile.read(from: key) } catch { throw badInput(error.description) }
            var cosigners: [(String, SigningKey)] = []
            for path in cosign {
                let k: SigningKey
                do { k = try KeyFile.read(from: path) } catch { throw badInput(error.description) }
                cosigners.append((try await memberID(of: k.publicKey, base: base), k))
            }
            let signerID: String
            if let signer { signerID = signer } else { signerID = try await memberID(of: signerKey.publicKey, base: base) }
            let status = try await getJSON(base + "/v1/status")
            guard let height = status["height"] as? Int, let chainID = status["chain_id"] as? String else { throw badInput("\(base)/v1/status has no height/chain_id") }
            let txNonce: UInt64
            if let nonce { txNonce = nonce } else { txNonce = try await lastNonce(of: signerID, base: base) + 1 }
            let body = TransactionBody(chainID: chainID, kind: kind, payload: payloadBytes, signer: signerID, nonce: txNonce,
                                       expiresAtHeight: UInt64(height) + expiresIn, cosigners: cosigners.map(\.0))
            let tx = Transaction.signed(body, by: [(signerID, signerKey)] + cosigners.map { ($0.0, $0.1) })
            let url = base + "/v1/tx" + (wait ? "?wait=commit" : "")
            let (code, object, raw) : (Int, [String: Any]?, Data)
            do { (code, object, raw) = try await HTTP.request("POST", url, json: ["tx": Hex.encode(tx.canonicalBytes)], timeoutSeconds: 60) } catch {
                throw badInput("\(error)")
            }
            guard let object else { throw badInput("\(url) answered \(code) with a non-JSON body: \(String(decoding: raw.prefix(200), as: UTF8.self))") }
            var out = object
            out.removeValue(forKey: "transaction")
            print(jsonObject(out))
            if let error = object["error"] as? [String: Any], object["status"] == nil || code >= 400 {
                _ = error
                throw ExitCode(2)
            }
            switch object["status"] as? String {
            case "committed", "pending": return
            case "rejected": throw ExitCode(1)
            default: throw ExitCode(2)
            }
        }

        func getJSON(_ url: String) async throws -> [String: Any] {
            let result: (Int, [String: Any]?, Data)
            do { result = try await HTTP.get(url) } catch { throw badInput("\(error)") }
            guard result.0 == 200, let object = result.1 else { throw badInput("\(url) answered \(result.0)") }
            return object
        }

        /// The member that owns `key` (`member_key/<hex>` in state).
        func memberID(of key: PublicKey, base: String) async throws -> String {
            let object = try await getJSON(base + "/v1/state/member_key%2F" + key.hex)
            guard let hex = object["value_hex"] as? String, let bytes = try? Hex.decode(hex),
                  let id = try? CanonicalDecoder.decode(String.self, from: bytes) else {
                throw badInput("key \(key.hex) is not registered to any member of this chain")
            }
            return id
        }

        func lastNonce(of member: String, base: String) async throws -> UInt64 {
            let object = try await getJSON(base + "/v1/state/nonce%2F" + member)
            guard let hex = object["value_hex"] as? String else { return 0 }
            guard let bytes = try? Hex.decode(hex), let n = try? CanonicalDecoder.decode(UInt64.self, from: bytes) else {
                throw badInput("nonce of \(member) is malformed in the node's answer")
            }
            return n
        }
    }

    struct Kinds: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every transaction kind: who signs it, co-signers, what it does.")

        @Flag(help: "Print JSON.") var json = false

        func run() {
            let kinds = ContractRegistry.standard.kinds
            if json {
                let list = kinds.map { k -> [String: Any] in
                    ["kind": k.kind, "signer_roles": k.signerRoles.map(\.rawValue), "cosigners": k.cosigners ?? NSNull(), "summary": k.summary]
                }
                let data = (try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
                print(String(decoding: data, as: UTF8.self))
                return
            }
            for k in kinds {
                let roles = k.signerRoles.isEmpty ? "any active member" : k.signerRoles.map(\.rawValue).joined(separator: " | ")
                print("\(k.kind)\n    signer: \(roles)\(k.cosigners.map { "\n    co-signed by: \($0)" } ?? "")\n    \(k.summary)")
            }
        }
    }
}
