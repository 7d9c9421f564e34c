// KeysCommand.swift — `trellis keys generate|show|verify`.
import ArgumentParser
import Foundation
import TrellisCrypto

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate and inspect Ed25519 keys; check detached signatures.",
        subcommands: [Generate.self, Show.self, Verify.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate a key pair into a new 0600 key file and print its public key.")

        @Option(name: .long, help: "Where to write the private key file (created with mode 0600).")
        var out: String

        @Flag(name: .long, help: "Overwrite an existing file.")
        var force = false

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            let key = SigningKey.generate()
            do { try KeyFile.write(key, to: out, overwrite: force) } catch {
                // An existing file is the caller's mistake (exit 2, with what to do); a disk that refuses is not.
                if case .alreadyExists = error { throw badInput("\(error.description) (choose another --out, or pass --force to replace it)") }
                throw failure(error.description)
            }
            if json {
                print(jsonObject(["public_key": key.publicKey.hex, "key_file": out]))
            } else {
                print(key.publicKey.hex)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the public key of a key file (never the secret).")

        @Option(name: .long, help: "The private key file.")
        var key: String

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            let signingKey: SigningKey
            do { signingKey = try KeyFile.read(from: key) } catch { throw badInput(error.description) }
            if json {
                print(jsonObject(["public_key": signingKey.publicKey.hex, "key_file": key, "algorithm": "ed25519"]))
            } else {
                print(signingKey.publicKey.hex)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a detached Ed25519 signature over raw message bytes.",
            discussion: "Prints 'valid' and exits 0, or 'invalid' and exits 1; exits 2 on malformed input."
        )

        @Option(name: .long, help: "The signer's public key (64 hex digits).")
        var publicKey: String

        @Option(name: .long, help: "The exact signed bytes, in hex (may be empty).")
        var message: String

        @Option(name: .long, help: "The signature (128 hex digits).")
        var signature: String

        @Flag(name: .long, help: "Print JSON ({\"valid\": true|false}); the exit code is the same.")
        var json = false

        func run() throws {
            let key: PublicKey
            let sig: Signature
            let bytes: [UInt8]
            do { key = try PublicKey(hex: publicKey) } catch { throw badInput("--public-key: \(error)") }
            do { sig = try Signature(hex: signature) } catch { throw badInput("--signature: \(error)") }
            do { bytes = try Hex.decode(message) } catch { throw badInput("--message: \(error)") }
            let valid = key.verify(sig, message: bytes)
            if json {
                print(jsonObject(["valid": valid]))
                if !valid { throw ExitCode(1) }
            } else if valid {
                print("valid")
            } else {
                print("invalid")
                throw ExitCode(1)
            }
        }
    }
}

/// A one-line JSON object with sorted keys.
func jsonObject(_ fields: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
        preconditionFailure("fields are not JSON-serialisable: \(fields.keys.sorted())")
    }
    return String(decoding: data, as: UTF8.self)
}
