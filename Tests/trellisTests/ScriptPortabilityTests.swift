// ScriptPortabilityTests.swift — the shell scripts in Scripts/ run under bash 3.2 (macOS's /bin/bash) as well as a
// current bash: with `set -u`, `"${name[@]}"` of an empty array is an unbound-variable error before bash 4.4, so
// every array passed as words is expanded as `${name[@]+"${name[@]}"}` (empty → nothing, else each element as one
// word), also where the array cannot be empty: the rule is checked by text, not by a run. (`${name[*]}` inside a
// message is used only for arrays checked non-empty just before; `${#name[@]}`, a count, is fine in every bash.)
import Foundation
import Testing

@Suite struct ScriptPortabilityTests {
    /// Every `"${name[@]}"` / `${name[@]}` expansion in `text` that is not the guarded `${name[@]+"${name[@]}"}` (nor
    /// inside one), as "line: text".
    static func unguardedArrayExpansions(in text: String) -> [String] {
        var found: [String] = []
        let expansion = try! Regex(#"\$\{([A-Za-z_][A-Za-z0-9_]*)\[@\]([^}]*)\}"#)
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.trimmingCharacters(in: .whitespaces)
            if code.hasPrefix("#") { continue }
            for match in line.matches(of: expansion) {
                let name = match.output[1].substring ?? "", rest = match.output[2].substring ?? ""
                // The guard matches as one expansion up to its inner `}`: `${name[@]+"${name[@]` + `}`.
                if rest == "+\"${\(name)[@]" { continue }
                found.append("\(number + 1): \(code)")
            }
        }
        return found
    }

    @Test func theCheckSeesBothForms() {
        #expect(Self.unguardedArrayExpansions(in: #"run "${limits[@]}" -x"#).count == 1)
        #expect(Self.unguardedArrayExpansions(in: #"for p in ${packages[@]}; do"#).count == 1)
        #expect(Self.unguardedArrayExpansions(in: #"a "${x[@]}" ${y[@]+"${y[@]}"} "${y[@]}""#).count == 2, "x, and y's second (unguarded) use")
        #expect(Self.unguardedArrayExpansions(in: #"run ${limits[@]+"${limits[@]}"} -x"#).isEmpty)
        #expect(Self.unguardedArrayExpansions(in: #"if [ ${#missing[@]} -eq 0 ]; then"#).isEmpty)
        #expect(Self.unguardedArrayExpansions(in: #"# a comment: "${limits[@]}""#).isEmpty)
    }

    @Test func everyArrayInTheScriptsIsExpandedSafelyWhenEmpty() throws {
        let directory = CLI.repositoryRoot + "/Scripts"
        let scripts = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sh") }.sorted()
        #expect(scripts.contains("fuzz.sh") && scripts.count >= 5, "\(scripts)")
        for script in scripts {
            let text = try String(contentsOfFile: directory + "/" + script, encoding: .utf8)
            let found = Self.unguardedArrayExpansions(in: text)
            #expect(found.isEmpty, "Scripts/\(script): an empty array here fails under set -u in bash < 4.4; write ${name[@]+\"${name[@]}\"}: \(found)")
        }
    }
}
