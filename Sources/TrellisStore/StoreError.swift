// StoreError.swift — typed failures of the RocksDB-backed store.

/// A storage failure with the path and what to do about it.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// RocksDB refused to open the database (locked by another process, corrupt, permissions …).
    case openFailed(path: String, message: String)
    /// The database was written by another format version of this software.
    case formatMismatch(path: String, found: String, expected: String)
    /// The directory holds a RocksDB database that is not a Trellis store (no format marker).
    case foreignDatabase(path: String)
    /// A column family the caller did not declare when opening.
    case unknownColumnFamily(String)
    /// A read, write or iteration failed inside RocksDB.
    case operationFailed(operation: String, message: String)

    /// The operation of `operationFailed` for the validator's signing guard (a file, not the database).
    public static let signingGuardOperation = "signing guard"

    public var description: String {
        switch self {
        case .openFailed(let p, let m): return "cannot open database at \(p): \(m)"
        case .formatMismatch(let p, let f, let e):
            return "database at \(p) has format \"\(f)\" but this build reads \"\(e)\"; use a matching trellis version or a new data directory"
        case .foreignDatabase(let p):
            return "database at \(p) is not a Trellis store (no format marker); refusing to touch it"
        case .unknownColumnFamily(let n): return "unknown column family \"\(n)\""
        case .operationFailed(let op, let m) where op == Self.signingGuardOperation:
            // The validator's signing guard (`<home>/signing_state`) is a file outside the database.
            return "signing guard: \(m) — it keeps this validator from signing twice, so the node does not run without it (docs/OPERATIONS.md §6 says what to do)"
        case .operationFailed(let op, let m): return "database \(op) failed: \(m)"
        }
    }
}
