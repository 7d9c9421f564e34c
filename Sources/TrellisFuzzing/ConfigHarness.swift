// ConfigHarness.swift — fuzz harness of `config.toml` (`NodeConfig.parse`: TOMLReader, TOMLValueDecoder and the
// range checks), what `trellis node start` reads before anything else.
//
// Contract: refusals are `NodeConfigError`s naming the problem (typed); nothing traps or aborts, whatever the
// syntax; a configuration that is accepted survives its own writer — `toml()` (what `trellis node init` writes)
// parses back to an equal configuration.
import TrellisNode

enum ConfigHarness {
    static func run(_ data: [UInt8]) throws(FuzzViolation) {
        // `NodeConfig.load` reads the file as UTF-8 and refuses anything else before parsing.
        guard let text = String(validating: data, as: UTF8.self), let config = try? NodeConfig.parse(text) else { return }
        let written = config.toml()
        let reread: NodeConfig
        do { reread = try NodeConfig.parse(written) } catch {
            throw FuzzViolation(.configTOML, "the TOML written for an accepted configuration is refused: \(error)")
        }
        guard reread == config else { throw FuzzViolation(.configTOML, "an accepted configuration changes through toml() and back") }
    }
}
