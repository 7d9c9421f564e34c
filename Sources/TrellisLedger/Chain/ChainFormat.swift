// ChainFormat.swift — the one version number of Trellis's consensus-critical formats, and the rules version.
//
// `ChainFormat.version` names the layout of everything hashed, signed or replicated (block header, receipts
// root, state tree) and of the files derived from it (chain export, proof files, the ledger database's format
// marker, the P2P protocol). Version 2 added `app_version`, `tx_count` and `receipts_root` to the block header
// and took the receipts root out of the state (docs/EXPORT-FORMAT.md). Nothing reads version 1: a chain written
// by it must be re-synced or re-exported by a version-1 build.
//
// `AppVersion` is the rules version in force at a height (the header's `app_version`). There is one set of rules
// so far: every height runs version 1. The ledger supplies it (`LedgerEngine.appVersion(forHeight:)`), so a
// governed upgrade schedule can change it at a height without touching the header layout.

/// The version of the chain format (headers, exports, proofs, the ledger store, the P2P protocol).
public enum ChainFormat {
    /// Version 2: block headers carry `app_version`, `tx_count` and `receipts_root`.
    public static let version: UInt32 = 2
}

/// The rules (contracts and execution) version in force at a height.
public enum AppVersion {
    /// The first and, so far, only rules version.
    public static let initial: UInt32 = 1
}
