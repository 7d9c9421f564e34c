// AuditError.swift — every way an audit operation can fail, with the exit code scripts rely on.
//
// `malformed` and `unreadable` are bad input (exit 2): the file is not a well-formed export or proof, and the
// message names the line. `verificationFailed` is a negative answer (exit 1): the input is well formed but the chain
// (or proof) it carries is not valid; the message names the first bad height and exactly what is wrong.
// `source` is a failure to read the chain (store locked, node unreachable) and also exits 1.

/// A typed audit failure with an actionable message.
public enum AuditError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be read at all.
    case unreadable(path: String, message: String)
    /// The input is not a well-formed export or proof file; `line` is 1-based (0 when not line-oriented).
    case malformed(line: Int, message: String)
    /// The chain or proof does not verify; `height` is the first bad height (nil for file-level facts).
    case verificationFailed(height: UInt64?, message: String)
    /// The chain source (node home or node URL) could not be read.
    case source(String)
    /// The question has no answer (e.g. an unknown certificate id).
    case notFound(String)

    /// The process exit code for this failure: 2 for bad input, 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .unreadable, .malformed: return 2
        case .verificationFailed, .source, .notFound: return 1
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let message): return "cannot read \(path): \(message)"
        case .malformed(let line, let message): return line > 0 ? "line \(line): \(message)" : message
        case .verificationFailed(let height, let message):
            if let height { return "height \(height): \(message)" }
            return message
        case .source(let message): return message
        case .notFound(let message): return message
        }
    }
}
