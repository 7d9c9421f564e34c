// Progress.swift — what long CLI jobs tell a person watching them: progress on standard error, and only at a
// terminal. A pipe or a file (`2>log`, a script, CI) gets none of it, so what it captures is answers, notes about
// what was done, and errors (docs/OPERATIONS.md). `progressLine` (AuditCommand.swift) rewrites one line in place;
// `progressNote` prints a line that stays.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// True when standard error is a terminal: the only place progress goes.
var progressShown: Bool { isatty(STDERR_FILENO) != 0 }

/// A progress note on a line of its own on standard error — only at a terminal.
func progressNote(_ text: String) {
    guard progressShown else { return }
    writeOut(STDERR_FILENO, text + "\n")
}

/// Rewrites `describe()` in place on standard error every `seconds` until the returned task is cancelled — only at
/// a terminal (nil otherwise). For phases that run for a set time (`bench cluster`'s load steps).
func progressTicker(every seconds: Double = 1, _ describe: @escaping @Sendable () -> String) -> Task<Void, Never>? {
    guard progressShown else { return nil }
    return Task {
        while !Task.isCancelled {
            progressLine(describe())
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
        }
    }
}
