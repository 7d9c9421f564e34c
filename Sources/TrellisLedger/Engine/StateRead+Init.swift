// StateRead+Init.swift — a public way to build a read, for services that assemble reads (and test doubles of them).
import TrellisCrypto

extension StateRead {
    public static func assembled(key: [UInt8], value: [UInt8]?, height: UInt64, stateRoot: Hash, proof: StateProof?) -> StateRead {
        StateRead(key: key, value: value, height: height, stateRoot: stateRoot, proof: proof)
    }
}
