// KeysCommandTests.swift — `trellis keys …` behaves for users and scripts: 0600 files, exit codes 0/1/2.
import Foundation
import Testing

@Suite struct KeysCommandTests {
    // RFC 8032 TEST 2.
    let publicKey = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
    let message = "72"
    let signature = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"

    @Test func generateWritesA0600FileAndShowPrintsTheSameKey() throws {
        let dir = CLI.temporaryDirectory()
        let path = dir + "/member.key"
        let generated = try CLI.run(["keys", "generate", "--out", path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let printed = generated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(printed.count == 64)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)

        let shown = try CLI.run(["keys", "show", "--key", path])
        #expect(shown.status == 0)
        #expect(shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == printed)

        let json = try CLI.run(["keys", "show", "--key", path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["public_key"] as? String == printed)
        #expect(!json.stdout.contains("seed"), "the secret never leaves the key file")

        let again = try CLI.run(["keys", "generate", "--out", path])
        #expect(again.status == 2, "an existing --out is bad input")
        #expect(again.stderr.contains("already exists") && again.stderr.contains("--force"))
    }

    @Test func showRefusesAWorldReadableKey() throws {
        let dir = CLI.temporaryDirectory()
        let path = dir + "/open.key"
        #expect(try CLI.run(["keys", "generate", "--out", path]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let shown = try CLI.run(["keys", "show", "--key", path])
        #expect(shown.status == 2)
        #expect(shown.stderr.contains("chmod 600"))
    }

    @Test func verifyAValidSignature() throws {
        let r = try CLI.run(["keys", "verify", "--public-key", publicKey, "--message", message, "--signature", signature])
        #expect(r.status == 0)
        #expect(r.stdout == "valid\n")
    }

    @Test func verifyAnInvalidSignature() throws {
        let r = try CLI.run(["keys", "verify", "--public-key", publicKey, "--message", "73", "--signature", signature])
        #expect(r.status == 1)
        #expect(r.stdout == "invalid\n")
    }

    @Test(arguments: [
        ["--public-key", "zz", "--message", "72", "--signature", "00"],
        ["--public-key", "3d40", "--message", "72", "--signature", "92a0"],
        ["--public-key", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "--message", "7", "--signature",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"],
        ["--public-key", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "--message", "72", "--signature", "92a0"],
    ])
    func verifyMalformedInputExits2(arguments: [String]) throws {
        let r = try CLI.run(["keys", "verify"] + arguments)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("error: "))
        #expect(r.stdout.isEmpty)
    }
}
