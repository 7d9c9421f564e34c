// Sodium.swift — one-time libsodium initialisation.
//
// Every public entry point of TrellisCrypto that calls into libsodium first touches `Sodium.ready`, a `static let`
// whose initialiser runs `sodium_init()` exactly once (Swift guarantees thread-safe lazy initialisation of globals).
import CSodium

enum Sodium {
    /// True once libsodium is initialised. `sodium_init` returns 0 the first time, 1 when already initialised and
    /// -1 on failure; a failure means the process cannot do cryptography at all, so it stops with that fact named.
    static let ready: Bool = {
        let result = sodium_init()
        guard result >= 0 else {
            preconditionFailure("libsodium failed to initialise (sodium_init returned \(result))")
        }
        return true
    }()

    @inline(__always)
    static func ensureReady() {
        precondition(ready)
    }
}
