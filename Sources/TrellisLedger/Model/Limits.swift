// Limits.swift — size bounds applied when decoding ledger structures from untrusted bytes.

public enum Limits {
    /// Member ids, certificate ids, project ids … (bytes of UTF-8).
    public static let maxIDBytes = 128
    /// Names, references, free text fields.
    public static let maxNameBytes = 512
    /// Generic list fields (sectoral scopes, invoice keys, device ids …).
    public static let maxListCount = 256
    public static let maxKeysPerMember = 16
    /// A transaction kind name, e.g. "certificate.split_transfer".
    public static let maxKindBytes = 64
    /// Chain ids: 1…64 bytes of [a-z0-9._-].
    public static let maxChainIDBytes = 64
    /// The payload of one transaction.
    public static let maxPayloadBytes = 64 * 1024
    /// One encoded transaction, signatures included.
    public static let maxTransactionBytes = 96 * 1024
    /// Co-signers of one transaction.
    public static let maxCosigners = 8
    /// Transactions in one block.
    public static let maxTransactionsPerBlock = 20_000
    /// Validators in a set.
    public static let maxValidators = 128
    /// One encoded block.
    public static let maxBlockBytes = 64 << 20

    /// True when `id` is a valid chain id: 1…64 bytes of lowercase letters, digits, '.', '_' or '-'
    /// (never 0x00, which separates fields in the signed bytes).
    public static func isValidChainID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty, bytes.count <= maxChainIDBytes else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2e || b == 0x5f || b == 0x2d
        }
    }
}
