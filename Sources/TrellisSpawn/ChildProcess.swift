// ChildProcess.swift — starting a child process with posix_spawn(3), without Foundation's `Process`.
//
// Why not `Foundation.Process`: on Linux its `run()` finds the highest open descriptor by reading /proc/self/fd with
// readdir and copies each entry's `d_name` as a fixed 256-byte block (swift-corelibs-foundation's
// `findMaximumOpenFromProcSelfFD()`, fixed upstream by PR #5472; Swift 6.3.1 ships the bug). glibc's readdir hands
// out entries from a heap buffer, so when an entry sits near the end of that buffer and the next page is not mapped,
// the copy faults: SIGSEGV in `memcpy` inside `Process.run`, taking the whole calling process down. It crashed the
// test process (which starts hundreds of CLI and node processes) in two of three clean-clone CI runs, and
// `trellis testnet up` / `trellis bench cluster` start their nodes the same way.
//
// This launcher asks posix_spawn for what the callers used from `Process`: an executable with arguments and the
// caller's environment; standard input, output and error each inherited, /dev/null, a descriptor the caller owns, or a
// new pipe; every other descriptor closed in the child (`posix_spawn_file_actions_addclosefrom_np`, glibc ≥ 2.34,
// done by the kernel's close_range — no walk over /proc). Two differences from `Process`, both deliberate:
// - the signal mask is emptied and every signal's disposition set back to its default (`Process` left them as the
//   parent had them: a node started by `testnet up` inherited SIGINT/SIGTERM ignored by its stop handling);
// - the child stays in the caller's process group (`Process` put it in a group of its own). A Ctrl-C at a terminal
//   therefore reaches a short-lived child with its caller; nodes get a session of their own from /usr/bin/setsid,
//   which — its child no longer a group leader — calls setsid(2) and execs the node without forking, so the node is
//   this process's direct child (reaped by `termination`, or by `deinit`'s thread when released while it runs).
// Every setup call is checked: a child that would inherit descriptors or streams it was not given is not started.
// The exit status comes from waitpid, reaped exactly once.
import CSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// The parent's own descriptor of that number.
        case inherit
        /// /dev/null.
        case null
        /// A descriptor the caller owns (a log file, a pipe end): duplicated into the child, left open in the parent.
        case descriptor(Int32)
        /// A new pipe; the parent's end is `standardInput` / `standardOutput` / `standardError`.
        case pipe
    }

    /// How a child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exit(Int32)
        case signal(Int32)

        /// "exited with status N" / "was ended by signal N".
        public var description: String {
            switch self {
            case .exit(let code): return "exited with status \(code)"
            case .signal(let number): return "was ended by signal \(number)"
            }
        }

        /// The exit status, or the signal's number (as `Process.terminationStatus` reports it).
        public var status: Int32 {
            switch self {
            case .exit(let code), .signal(let code): return code
            }
        }
    }

    /// A start that failed: the executable, and what posix_spawn (or pipe creation) said.
    public struct SpawnError: Error, CustomStringConvertible {
        public let executable: String
        public let code: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    public let pid: pid_t
    /// The parent's write end when standard input is `.pipe` (close it to send end of file).
    public let standardInput: FileHandle?
    /// The parent's read end when standard output is `.pipe`.
    public let standardOutput: FileHandle?
    /// The parent's read end when standard error is `.pipe`.
    public let standardError: FileHandle?
    private let reaped = Mutex<Termination?>(nil)

    /// Starts `executable` (a path; no PATH search) with `arguments` and this process's environment.
    public init(_ executable: String, _ arguments: [String], standardInput stdin: Stream = .null,
                standardOutput stdout: Stream = .inherit, standardError stderr: Stream = .inherit) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // Pipes are created close-on-exec, so no other child started meanwhile (by any thread) inherits an end and
        // keeps a reader from seeing end of file; the child's copy is made by dup2, which clears the flag.
        var parentEnds: [Int32?] = [nil, nil, nil]
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        // A setup call's result: 0, or an error number that stops the start (checked: a failed closefrom would let the
        // child inherit every descriptor; a failed dup2 of `.descriptor(-1)` would leave it the parent's stream).
        func check(_ code: Int32) throws(SpawnError) {
            if code != 0 { throw SpawnError(executable: executable, code: code) }
        }
        var child: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        do {
            for (target, stream) in [stdin, stdout, stderr].enumerated() {
                switch stream {
                case .inherit:
                    break
                case .null:
                    let mode = target == 0 ? O_RDONLY : O_WRONLY
                    try check(posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", mode, 0))
                case .descriptor(let fd):
                    guard fd >= 0, fcntl(fd, F_GETFD) >= 0 else { throw SpawnError(executable: executable, code: EBADF) }
                    try check(posix_spawn_file_actions_adddup2(&actions, fd, Int32(target)))
                case .pipe:
                    var fds: [Int32] = [-1, -1]
                    guard trellis_pipe_cloexec(&fds) == 0 else { throw SpawnError(executable: executable, code: errno) }
                    let (childEnd, parentEnd) = target == 0 ? (fds[0], fds[1]) : (fds[1], fds[0])
                    childEnds.append(childEnd)
                    parentEnds[target] = parentEnd
                    try check(posix_spawn_file_actions_adddup2(&actions, childEnd, Int32(target)))
                }
            }
            try check(trellis_spawn_add_closefrom(&actions, 3))

            var noSignals = sigset_t(), allSignals = sigset_t()
            sigemptyset(&noSignals)
            sigfillset(&allSignals)
            try check(posix_spawnattr_setsigmask(&attributes, &noSignals))
            try check(posix_spawnattr_setsigdefault(&attributes, &allSignals))
            try check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))

            try check(posix_spawn(&child, executable, &actions, &attributes, argv, environ))
        } catch {
            for fd in parentEnds.compactMap({ $0 }) { close(fd) }
            throw error
        }
        pid = child
        standardInput = parentEnds[0].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        standardOutput = parentEnds[1].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        standardError = parentEnds[2].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
    }

    /// A child still running when its last reference goes (a node started by setsid, watched by its pid) is reaped by a thread
    /// of its own once it ends, as `Process` did: otherwise it would stay a zombie, which `kill(pid, 0)` — how
    /// callers watch a node by its pid file — reports as alive.
    deinit {
        guard termination == nil else { return }
        let pid = self.pid
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    /// How the child ended, once it has (nil while it runs). Reaps it the first time it is seen ended.
    public var termination: Termination? {
        reaped.withLock { reapIfEnded(&$0) }
    }

    /// The child's end, reaping it (without blocking) the first time it is seen ended; `known` is the lock's value.
    private func reapIfEnded(_ known: inout Termination?) -> Termination? {
        if let known { return known }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        known = Self.termination(status)
        return known
    }

    public var isRunning: Bool { termination == nil }

    /// Whether any process `pid` (not only a child of this one) is alive: it answers kill(pid, 0) and is not a zombie.
    /// A process that ended but whose parent has not reaped it yet still answers kill(pid, 0); Linux's
    /// /proc/<pid>/stat says it is one (state `Z` or `X` after the command's closing parenthesis). Where /proc is
    /// missing, kill's answer stands.
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    /// Blocks until the child has ended (without reaping it: `termination` does) and returns how.
    @discardableResult
    public func waitUntilExit() -> Termination {
        while true {
            if let ended = termination { return ended }
            // Block until it ends but leave it a zombie (WNOWAIT), so the reaping stays in `termination`, under the
            // lock, whichever thread gets there first.
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno != EINTR {
                // ECHILD: reaped elsewhere (nothing else should); report what `termination` can still tell.
                return termination ?? .exit(-1)
            }
        }
    }

    /// Sends `signal` (SIGTERM by default); false when the child is already gone. Under the lock that reaps it, so
    /// the pid cannot have been reaped — and reused by another process — between the check and the kill.
    @discardableResult
    public func send(_ signal: Int32 = SIGTERM) -> Bool {
        reaped.withLock { known in
            reapIfEnded(&known) == nil && kill(pid, signal) == 0
        }
    }

    static func termination(_ status: Int32) -> Termination {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (macros).
        let signal = status & 0x7f
        return signal == 0 ? .exit((status >> 8) & 0xff) : .signal(signal)
    }
}
