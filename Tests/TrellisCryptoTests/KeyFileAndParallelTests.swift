// KeyFileAndParallelTests.swift — key files are 0600, written crash-safely (temporary file, fsync, link/rename) and
// refused when readable by others or malformed; parallel verification answers exactly like one-by-one verification.
import Foundation
import Testing
@testable import TrellisCrypto

private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-crypto-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

private func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite struct KeyFileTests {
    @Test func writtenWithMode0600AndReadBack() throws {
        let path = temporaryPath("node.key")
        let key = SigningKey.generate()
        try KeyFile.write(key, to: path)
        #expect(try mode(path) == 0o600)
        let loaded = try KeyFile.read(from: path)
        #expect(loaded.publicKey == key.publicKey)
        #expect(loaded.seed == key.seed)
    }

    @Test func refusesToOverwriteUnlessAsked() throws {
        let path = temporaryPath("node.key")
        try KeyFile.write(SigningKey.generate(), to: path)
        #expect(throws: KeyFileError.alreadyExists(path: path)) { try KeyFile.write(SigningKey.generate(), to: path) }
        let second = SigningKey.generate()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try KeyFile.write(second, to: path, overwrite: true)
        #expect(try mode(path) == 0o600)
        #expect(try KeyFile.read(from: path).publicKey == second.publicKey)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660])
    func groupOrWorldReadableIsRefused(permissions: Int) throws {
        let path = temporaryPath("node.key")
        try KeyFile.write(SigningKey.generate(), to: path)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        #expect(throws: KeyFileError.permissionsTooOpen(path: path, mode: UInt32(permissions))) { try KeyFile.read(from: path) }
    }

    @Test func missingFile() {
        #expect(throws: KeyFileError.notFound(path: "/nonexistent/trellis.key")) { try KeyFile.read(from: "/nonexistent/trellis.key") }
    }

    @Test(arguments: [
        "not json",
        "[]",
        "{\"type\":\"other\",\"public_key\":\"00\",\"secret_seed\":\"00\"}",
        "{\"type\":\"trellis-ed25519-v1\",\"public_key\":\"00\"}",
        "{\"type\":\"trellis-ed25519-v1\",\"public_key\":\"zz\",\"secret_seed\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"type\":\"trellis-ed25519-v1\",\"public_key\":\"3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\",\"secret_seed\":\"00\"}",
    ])
    func malformedContentIsRefused(content: String) throws {
        let path = temporaryPath("bad.key")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]))
        #expect(throws: KeyFileError.self) { try KeyFile.read(from: path) }
    }

    @Test func seedThatDoesNotMatchPublicKeyIsRefused() throws {
        let path = temporaryPath("mismatch.key")
        let a = SigningKey.generate(), b = SigningKey.generate()
        let text = "{\"type\":\"trellis-ed25519-v1\",\"public_key\":\"\(b.publicKey.hex)\",\"secret_seed\":\"\(Hex.encode(a.seed))\"}"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        #expect(throws: KeyFileError.publicKeyMismatch(path: path)) { try KeyFile.read(from: path) }
    }

    @Test func oversizedFileIsRefused() throws {
        let path = temporaryPath("big.key")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x20, count: KeyFile.maxFileBytes + 1), attributes: [.posixPermissions: 0o600]))
        #expect(throws: KeyFileError.tooLarge(path: path, bytes: KeyFile.maxFileBytes + 1)) { try KeyFile.read(from: path) }
    }
}

@Suite struct ParallelVerifierTests {
    @Test func matchesSequentialVerificationWithSomeInvalid() throws {
        let keys = (0..<8).map { _ in SigningKey.generate() }
        var checks: [SignatureCheck] = []
        var expected: [Bool] = []
        for i in 0..<1_000 {
            let key = keys[i % keys.count]
            let message = [UInt8](repeating: UInt8(i % 251), count: 40 + i % 7)
            var sig = key.sign(message)
            let valid = i % 13 != 0
            if !valid {
                var bytes = sig.bytes
                bytes[i % 64] ^= 0x10
                sig = try Signature(bytes: bytes)
            }
            checks.append(SignatureCheck(publicKey: key.publicKey, signature: sig, message: message))
            expected.append(valid)
        }
        #expect(ParallelVerifier.verify(checks, concurrency: 4) == expected)
        #expect(ParallelVerifier.verify(checks, concurrency: 1) == expected)
        #expect(!ParallelVerifier.verifyAll(checks))
        #expect(ParallelVerifier.verifyAll(checks.enumerated().filter { expected[$0.offset] }.map(\.element)))
        #expect(ParallelVerifier.verify([]) == [])
    }
}

/// Key files and token files share `PrivateFile`: both are written 0600 (also over a wider file when a key is
/// overwritten), refused when group or others may read them, when they are not regular files or too
/// large — each with its own words, as before they shared it.
@Suite struct PrivateFileTests {
    @Test func tokenFilesAreWrittenWithMode0600AndReadBack() throws {
        let path = temporaryPath("metrics.token")
        let token = TokenFile.generate()
        try TokenFile.write(token, to: path)
        #expect(try mode(path) == 0o600)
        #expect(try TokenFile.read(from: path) == token)
    }

    @Test func anExistingTokenFileIsKept() throws {
        let path = temporaryPath("metrics.token")
        try TokenFile.write(TokenFile.generate(), to: path)
        #expect(throws: TokenFileError.io(path: path, operation: "create", errno: EEXIST)) { try TokenFile.write(TokenFile.generate(), to: path) }
        #expect(TokenFileError.io(path: path, operation: "create", errno: EEXIST).description == "token file \(path): create failed: File exists")
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o602])
    func groupOrWorldBitsAreRefusedForBoth(permissions: Int) throws {
        let key = temporaryPath("node.key"), token = temporaryPath("metrics.token")
        try KeyFile.write(SigningKey.generate(), to: key)
        try TokenFile.write(TokenFile.generate(), to: token)
        for path in [key, token] { try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path) }
        #expect(throws: KeyFileError.permissionsTooOpen(path: key, mode: UInt32(permissions))) { try KeyFile.read(from: key) }
        #expect(throws: TokenFileError.permissionsTooOpen(path: token, mode: UInt32(permissions))) { try TokenFile.read(from: token) }
        let octal = String(permissions, radix: 8)
        #expect(KeyFileError.permissionsTooOpen(path: key, mode: UInt32(permissions)).description
                == "key file \(key) has mode \(octal); private keys must not be readable by group or others (run: chmod 600 \(key))")
        #expect(TokenFileError.permissionsTooOpen(path: token, mode: UInt32(permissions)).description
                == "token file \(token) has mode \(octal); a secret token must not be readable by group or others (run: chmod 600 \(token))")
    }

    @Test func aDirectoryIsNotARegularFile() throws {
        let directory = temporaryPath("dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        #expect(throws: KeyFileError.malformed(path: directory, reason: "not a regular file")) { try KeyFile.read(from: directory) }
        #expect(throws: TokenFileError.malformed(path: directory, reason: "not a regular file")) { try TokenFile.read(from: directory) }
    }

    @Test func oversizedAndMissingTokenFiles() throws {
        let path = temporaryPath("big.token")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x61, count: TokenFile.maxFileBytes + 1), attributes: [.posixPermissions: 0o600]))
        #expect(throws: TokenFileError.malformed(path: path, reason: "more than \(TokenFile.maxFileBytes) bytes")) { try TokenFile.read(from: path) }
        #expect(throws: TokenFileError.notFound(path: "/nonexistent/metrics.token")) { try TokenFile.read(from: "/nonexistent/metrics.token") }
        #expect(throws: TokenFileError.io(path: "/nonexistent/metrics.token", operation: "create", errno: ENOENT)) { try TokenFile.write("x", to: "/nonexistent/metrics.token") }
        #expect(throws: KeyFileError.io(path: "/nonexistent/node.key", operation: "create", errno: ENOENT)) { try KeyFile.write(SigningKey.generate(), to: "/nonexistent/node.key") }
    }
}

/// A private file takes its name only once it holds every byte, synced (temporary file, fsync, link or rename,
/// fsync of the directory): a crash before that leaves nothing at the path, or the previous file whole. The
/// crash is simulated by failing in `beforePublishing`, the last moment before the name changes.
@Suite struct PrivateFileCrashSafetyTests {
    struct SimulatedCrash: Error {}

    private func entries(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    private func inode(_ path: String) -> UInt64 {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    @Test func aCrashBeforeANewKeyIsPublishedLeavesNoFileAtThePath() throws {
        let path = temporaryPath("node.key")
        let directory = (path as NSString).deletingLastPathComponent
        let secret = Array("{\"secret_seed\":\"\(String(repeating: "ab", count: 32))\"}\n".utf8)
        var seen: String?
        #expect(throws: PrivateFile.Failure.io(operation: "simulated crash", errno: EIO)) {
            try PrivateFile.write(secret, to: path, overwrite: false) { temporary throws(PrivateFile.Failure) in
                seen = temporary
                // At the last moment before publication: the key path does not exist yet, and the temporary file
                // beside it already holds every byte with mode 0600.
                #expect(!FileManager.default.fileExists(atPath: path))
                #expect((temporary as NSString).deletingLastPathComponent == directory)
                #expect((try? mode(temporary)) == 0o600)
                #expect(FileManager.default.contents(atPath: temporary).map(Array.init) == secret)
                throw .io(operation: "simulated crash", errno: EIO)
            }
        }
        #expect(seen != nil)
        #expect(!FileManager.default.fileExists(atPath: path), "a failed write left a file at the key path")
        #expect(try entries(directory) == [], "the temporary file was left behind")
        // The same write without the crash publishes the whole file, and nothing else stays in the directory.
        try PrivateFile.write(secret, to: path, overwrite: false)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == secret)
        #expect(try mode(path) == 0o600)
        #expect(try entries(directory) == ["node.key"])
    }

    @Test func aCrashWhileOverwritingKeepsThePreviousKeyWhole() throws {
        let path = temporaryPath("node.key")
        let directory = (path as NSString).deletingLastPathComponent
        let old = SigningKey.generate(), new = SigningKey.generate()
        try KeyFile.write(old, to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let oldInode = inode(path)
        #expect(throws: PrivateFile.Failure.io(operation: "simulated crash", errno: EIO)) {
            try PrivateFile.write(Array("partial".utf8), to: path, overwrite: true) { _ throws(PrivateFile.Failure) in
                #expect(self.inode(path) == oldInode, "the old key was touched before the new one was complete")
                throw .io(operation: "simulated crash", errno: EIO)
            }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try KeyFile.read(from: path).publicKey == old.publicKey, "the previous key did not survive")
        #expect(try entries(directory) == ["node.key"])
        // A real overwrite replaces the file (a new inode, never the old one truncated and rewritten) with mode 0600.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try KeyFile.write(new, to: path, overwrite: true)
        #expect(inode(path) != oldInode, "the key was rewritten in place")
        #expect(try mode(path) == 0o600)
        #expect(try KeyFile.read(from: path).publicKey == new.publicKey)
        #expect(try entries(directory) == ["node.key"])
    }

    /// What a crash leaves beside a key (`.<name>.tmp-XXXXXX`, holding a secret) is removed by the next write of that
    /// name — only files of exactly that pattern, regular, untouched for a minute: not another name's, not another
    /// shape, not a directory, not one a write running now could own.
    @Test func theNextWriteRemovesOnlyItsOwnCrashLeftovers() throws {
        let path = temporaryPath("node.key")
        let directory = (path as NSString).deletingLastPathComponent
        func file(_ name: String, minutesOld: Int) {
            let at = "\(directory)/\(name)"
            #expect(FileManager.default.createFile(atPath: at, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600]))
            try? FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: Double(-60 * minutesOld))], ofItemAtPath: at)
        }
        file(".node.key.tmp-Ab3xY9", minutesOld: 60)  // a crashed write of this key: removed
        file(".node.key.tmp-Qr7ZZ0", minutesOld: 5)  // also
        file(".node.key.tmp-fresh1", minutesOld: 0)  // could be a write running now: kept
        file(".other.key.tmp-Ab3xY9", minutesOld: 60)  // another name's: kept
        file(".node.key.tmp-Ab3", minutesOld: 60)  // not mkstemp's shape: kept
        file(".node.key.tmp-Ab3xY9.bak", minutesOld: 60)
        file("node.key.tmp-Ab3xY9", minutesOld: 60)
        try FileManager.default.createDirectory(atPath: "\(directory)/.node.key.tmp-DIRDIR", withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: "\(directory)/.node.key.tmp-DIRDIR")
        let key = SigningKey.generate()
        try KeyFile.write(key, to: path)
        #expect(try KeyFile.read(from: path).publicKey == key.publicKey)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == [
            ".node.key.tmp-Ab3", ".node.key.tmp-Ab3xY9.bak", ".node.key.tmp-DIRDIR", ".node.key.tmp-fresh1", ".other.key.tmp-Ab3xY9",
            "node.key", "node.key.tmp-Ab3xY9",
        ])
        // A token file's write cleans its own name the same way (the shared PrivateFile).
        let token = (directory as NSString).appendingPathComponent("metrics.token")
        file(".metrics.token.tmp-000000", minutesOld: 2)
        try TokenFile.write(TokenFile.generate(), to: token)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/.metrics.token.tmp-000000"))
        #expect(FileManager.default.fileExists(atPath: "\(directory)/.other.key.tmp-Ab3xY9"))
    }

    @Test func refusingAnExistingFileLeavesItAndNoTemporary() throws {
        let path = temporaryPath("metrics.token")
        let directory = (path as NSString).deletingLastPathComponent
        let first = TokenFile.generate()
        try TokenFile.write(first, to: path)
        #expect(throws: PrivateFile.Failure.alreadyExists) { try PrivateFile.write(Array("other\n".utf8), to: path, overwrite: false) }
        #expect(try TokenFile.read(from: path) == first)
        #expect(try entries(directory) == ["metrics.token"])
        // A directory in the way of an overwrite: an error naming the step, and no temporary left.
        let blocked = directory + "/sub"
        try FileManager.default.createDirectory(atPath: blocked + "/inner", withIntermediateDirectories: true)
        #expect(throws: PrivateFile.Failure.self) { try PrivateFile.write(Array("x".utf8), to: blocked, overwrite: true) }
        #expect(try entries(directory) == ["metrics.token", "sub"])
    }

    @Test func concurrentExclusiveWritersExactlyOneWins() throws {
        let path = temporaryPath("node.key")
        let directory = (path as NSString).deletingLastPathComponent
        let keys = (0..<8).map { _ in SigningKey.generate() }
        final class Wins: @unchecked Sendable {
            let lock = NSLock()
            var count = 0
        }
        let wins = Wins()
        // Threads of their own (file I/O stays off the cooperative pool), all racing for the one name.
        DispatchQueue.concurrentPerform(iterations: keys.count) { i in
            if (try? KeyFile.write(keys[i], to: path)) != nil { wins.lock.withLock { wins.count += 1 } }
        }
        #expect(wins.count == 1)
        let stored = try KeyFile.read(from: path).publicKey
        #expect(keys.contains { $0.publicKey == stored })
        #expect(try entries(directory) == ["node.key"])
    }

    @Test func theDirectoryOfAPath() {
        for (path, directory, name) in [("node.key", ".", "node.key"), ("/node.key", "/", "node.key"), ("home/keys/node.key", "home/keys", "node.key")] {
            let split = PrivateFile.split(path)
            #expect(split.directory == directory && split.name == name, "\(path)")
        }
    }
}
