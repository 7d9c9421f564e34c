// main.swift — `trellis-fuzz`, the libFuzzer executable of fuzz builds only (TRELLIS_FUZZ=1, Scripts/fuzz.sh).
// The harness is chosen by TRELLIS_FUZZ_TARGET (a `FuzzTarget` raw value); the command line is libFuzzer's (corpus
// directories, -max_total_time, -runs, …). A broken decoder contract stops the process with the violation named,
// which libFuzzer records as a crash input. SwiftPM names an executable's entry point after its module, so this
// file is the program's `main` and hands control to libFuzzer's driver (rather than libFuzzer's own `main`).
import CLibFuzzer
import Foundation
import TrellisFuzzing

let name = ProcessInfo.processInfo.environment["TRELLIS_FUZZ_TARGET"] ?? ""
guard let selected = FuzzTarget(rawValue: name) else {
    let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("trellis-fuzz: set TRELLIS_FUZZ_TARGET to one of: \(known) (got \"\(name)\")\n".utf8))
    exit(2)
}
let target: FuzzTarget = selected

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { start, count in
    let data = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    do {
        try target.run(data)
    } catch {
        fatalError("decoder contract violated: \(error)")
    }
    return 0
})
