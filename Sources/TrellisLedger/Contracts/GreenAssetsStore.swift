// GreenAssetsStore.swift — typed reads and index-maintaining writes of green-asset records over a state overlay.
//
// Every credit block write goes through `save(_:previous:)`, which derives the batch and owner indexes from the
// record itself, so "the live blocks of a batch" (B1) and "the blocks of an owner" can never drift from the blocks.
import TrellisCodec

struct GreenAssetsStore {
    let state: StateOverlay

    func program(_ id: String) throws -> Program {
        try AssetState.existing(Program.self, GreenAssetsKeys.program(id), in: state, "unknown_program", "no program \(id)")
    }

    func project(_ id: String) throws -> Project {
        try AssetState.existing(Project.self, GreenAssetsKeys.project(id), in: state, "unknown_project", "no project \(id)")
    }

    func verification(_ id: String) throws -> Verification {
        try AssetState.existing(Verification.self, GreenAssetsKeys.verification(id), in: state, "unknown_verification", "no verification \(id)")
    }

    /// A batch that a block names; its absence is a corrupt state, not a rejection.
    func batch(_ id: String) throws -> Batch {
        try AssetState.required(Batch.self, GreenAssetsKeys.batch(id), state)
    }

    func block(_ id: String) throws -> CreditBlock {
        try AssetState.existing(CreditBlock.self, GreenAssetsKeys.block(id), in: state, "unknown_block", "no credit block \(id)")
    }

    /// Writes `block` and moves its index entries from what `previous` implied to what `block` implies.
    func save(_ block: CreditBlock, previous: CreditBlock?) {
        if let previous { setIndexes(previous, present: false) }
        setIndexes(block, present: true)
        state.write(block, at: GreenAssetsKeys.block(block.blockID))
    }

    private func setIndexes(_ block: CreditBlock, present: Bool) {
        guard block.status.isLive else { return }
        for key in [GreenAssetsKeys.liveBlock(batch: block.batchID, block: block.blockID), GreenAssetsKeys.block(owner: block.owner, block: block.blockID)] {
            if present { state.put(key, []) } else { state.delete(key) }
        }
    }

    /// A block that the signer owns and may move (transfer, retire): active and not frozen.
    func movableBlock(_ id: String, owner: String) throws -> CreditBlock {
        let block = try block(id)
        guard block.owner == owner else {
            throw TxRejection("not_owner", "credit block \(id) is owned by \(block.owner), not \(owner)")
        }
        try Self.requireUnfrozen(block)
        guard block.status == .active else {
            throw TxRejection("block_not_active", "credit block \(id) is \(block.status.rawValue)")
        }
        return block
    }

    static func requireUnfrozen(_ block: CreditBlock) throws(TxRejection) {
        if block.frozen { throw TxRejection("asset_frozen", "credit block \(block.blockID) is frozen by a regulator") }
    }

    /// The serial text form PROGRAM-UNIT-COUNTRY-PROJECT-VINTAGE-START-END of a range of `batch`.
    func serialText(batch: Batch, start: UInt64, end: UInt64) throws -> String {
        let program = try program(batch.programID)
        let project = try project(batch.projectID)
        return CreditSerial.text(program: program, country: project.country, projectID: project.projectID, vintage: batch.vintage, start: start, end: end)
    }
}
