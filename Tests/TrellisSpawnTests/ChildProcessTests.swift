// ChildProcessTests.swift — the posix_spawn launcher the CLI's `testnet up` and every end-to-end test start processes
// with: exit statuses and signals, pipes and caller-owned descriptors, nothing else inherited, a clean signal state,
// a clear error for a missing executable, and no zombie left behind by a child released while it runs.
import Foundation
import Testing
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ChildProcessTests {
    func text(_ handle: FileHandle?) -> String { String(decoding: PipeRead.readToEnd(handle!), as: UTF8.self) }

    @Test func exitStatusAndSignalAreReported() throws {
        let exited = try ChildProcess("/bin/sh", ["-c", "exit 7"])
        #expect(exited.waitUntilExit() == .exit(7))
        #expect(!exited.isRunning && exited.termination == .exit(7), "the status is kept once reaped")

        let killed = try ChildProcess("/bin/sh", ["-c", "kill -TERM $$; sleep 5"])
        #expect(killed.waitUntilExit() == .signal(SIGTERM))
        #expect(killed.waitUntilExit().status == SIGTERM)
    }

    /// `testnet up|down|status` watch nodes by pid: a node that ended but is not reaped yet (a zombie) is not alive,
    /// though it still answers kill(pid, 0).
    @Test func aZombieIsNotAlive() throws {
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(ChildProcess.isAlive(sleeper.pid))
        sleeper.send(SIGKILL)
        #expect(sleeper.waitUntilExit() == .signal(SIGKILL))
        let ended = try ChildProcess("/bin/sh", ["-c", "exit 0"])
        var info = siginfo_t()
        while waitid(P_PID, id_t(ended.pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}  // ended, left a zombie
        #expect(kill(ended.pid, 0) == 0, "an unreaped child still answers kill(pid, 0)")
        #expect(!ChildProcess.isAlive(ended.pid))
        #expect(ended.termination == .exit(0))
    }

    @Test func pipesCarryInputOutputAndErrorSeparately() throws {
        let child = try ChildProcess("/bin/sh", ["-c", "cat; echo oops >&2"], standardInput: .pipe, standardOutput: .pipe, standardError: .pipe)
        let hello = Array("hello\n".utf8)
        _ = hello.withUnsafeBytes { write(child.standardInput!.fileDescriptor, $0.baseAddress, $0.count) }
        try child.standardInput!.close()  // end of file for cat
        let (out, err) = PipeRead.readToEnd(child.standardOutput!, child.standardError!)
        #expect(String(decoding: out, as: UTF8.self) == "hello\n")
        #expect(String(decoding: err, as: UTF8.self) == "oops\n")
        #expect(child.waitUntilExit() == .exit(0))
    }

    @Test func aCallersDescriptorReceivesTheOutputAndStaysOpen() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let child = try ChildProcess("/bin/sh", ["-c", "echo out; echo err >&2"], standardOutput: .descriptor(fd), standardError: .descriptor(fd))
        #expect(child.waitUntilExit() == .exit(0))
        #expect(fcntl(fd, F_GETFD) >= 0, "the caller's descriptor was closed")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "out\nerr\n")
    }

    /// Only 0, 1 and 2 reach the child: a descriptor the parent left inheritable (no O_CLOEXEC) does not — a
    /// leaked write end of another child's pipe would keep its reader from ever seeing end of file.
    @Test func noOtherDescriptorIsInherited() throws {
        let leaky = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        try #require(leaky > 2)
        defer { close(leaky) }
        let child = try ChildProcess("/bin/ls", ["/proc/self/fd"], standardOutput: .pipe)
        let listed = Set(text(child.standardOutput).split(separator: "\n").map(String.init))
        #expect(child.waitUntilExit() == .exit(0))
        #expect(!listed.contains("\(leaky)"), "descriptor \(leaky) leaked into the child: \(listed.sorted())")
        // ls itself holds one more: the directory it reads.
        #expect(listed.isSuperset(of: ["0", "1", "2"]) && listed.count <= 4, "\(listed.sorted())")
    }

    /// The child starts with no signal blocked and none ignored, whatever the starting thread blocks or the parent
    /// ignores (a node that inherited a blocked SIGTERM could not be stopped).
    @Test func theChildStartsWithDefaultSignals() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        // Ignored in the whole test process and left so: harmless (a write to a closed socket then fails with
        // EPIPE instead of ending the process, which is what every server here wants anyway).
        signal(SIGPIPE, SIG_IGN)

        let child = try ChildProcess("/bin/grep", ["-E", "^Sig(Blk|Ign):", "/proc/self/status"], standardOutput: .pipe)
        let lines = text(child.standardOutput).split(separator: "\n").map(String.init)
        #expect(child.waitUntilExit() == .exit(0))
        // Bit n-1 of each mask is signal n. Only the standard signals (1–31) are checked: glibc keeps its two
        // internal real-time signals (32, 33) out of every set a program can pass.
        let masks = Dictionary(uniqueKeysWithValues: lines.compactMap { line -> (String, UInt64)? in
            let parts = line.split(separator: "\t")
            return parts.count == 2 ? (String(parts[0]), UInt64(parts[1], radix: 16) ?? .max) : nil
        })
        #expect(masks["SigBlk:"].map { $0 & 0x7fff_ffff } == 0, "a signal is blocked in the child: \(lines)")
        #expect(masks["SigIgn:"].map { $0 & 0x7fff_ffff } == 0, "a signal is ignored in the child: \(lines)")
    }

    /// A descriptor that is not open is refused before anything starts (dup2 in the child would fail silently and
    /// leave it the parent's stream).
    @Test func aBadDescriptorIsRefused() {
        #expect {
            _ = try ChildProcess("/bin/true", [], standardOutput: .descriptor(-1))
        } throws: { error in "\(error)".contains("Bad file descriptor") }
    }

    /// A signal is sent only to a child still running: once it has ended (and been reaped) `send` says so and kills
    /// nothing — its pid may already belong to another process.
    @Test func sendReachesOnlyARunningChild() throws {
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(sleeper.send(SIGKILL))
        #expect(sleeper.waitUntilExit() == .signal(SIGKILL))
        #expect(!sleeper.send(SIGKILL))
        let quick = try ChildProcess("/bin/true", [])
        // Ended but not yet reaped (a zombie): `send` must reap it and refuse, not signal the pid.
        try #require(Patience.eventuallyBlocking(Patience.minimumSeconds, intervalMilliseconds: 20) { isZombie(quick.pid) })
        #expect(!quick.send(SIGTERM), "send signalled a child that had ended")
        #expect(quick.termination == .exit(0))
    }

    /// Whether `pid` is a zombie (state Z in /proc/PID/stat).
    func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test func aMissingExecutableIsAClearError() {
        #expect {
            _ = try ChildProcess("/nonexistent/trellis-\(UUID().uuidString)", [])
        } throws: { error in
            "\(error)".contains("cannot start /nonexistent/trellis-") && "\(error)".contains("No such file")
        }
    }

    /// A child released while it runs (a node started detached) is reaped once it ends: a zombie would still answer
    /// `kill(pid, 0)`, which is how the CLI and the tests tell a stopped node.
    @Test func aReleasedChildIsReapedWhenItEnds() throws {
        var child: ChildProcess? = try ChildProcess("/bin/sleep", ["0.2"])
        let pid = child!.pid
        #expect(child!.isRunning)
        child = nil
        #expect(Patience.eventuallyBlocking(Patience.minimumSeconds, intervalMilliseconds: 50) { kill(pid, 0) != 0 && errno == ESRCH },
                "the released child is still a process (a zombie) after it ended")
    }
}
