// CommandTreeTests.swift — every command of `trellis` names itself in its configuration, so that starting the tool
// does not cost tens of millions of instructions: swift-argument-parser names each command of the whole tree at every
// start (`Tree(root:)` compares names with aliases), and a command without a `commandName` is named from
// `String(describing: Self.self)`, whose protocol-conformance checks scan the binary's conformance records once per
// type (~1.9 M instructions a command: 46 of them were 87 M of the 159 M instructions `trellis audit verify FILE` ran
// before it opened FILE; docs/PERFORMANCE.md "Command-line start (twenty-first)").
import ArgumentParser
import Testing
@testable import trellis

@Suite struct CommandTreeTests {
    @Test func everyCommandNamesItself() {
        func unnamed(_ command: ParsableCommand.Type, path: String) -> [String] {
            let configuration = command.configuration
            let here = path + " " + (configuration.commandName ?? "<\(command)>")
            return (configuration.commandName == nil ? [here] : []) + configuration.subcommands.flatMap { unnamed($0, path: here) }
        }
        #expect(unnamed(Trellis.self, path: "").isEmpty, "commands named at every start by String(describing:)")
    }
}
