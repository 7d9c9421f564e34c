// GreenAssetsCredits.swift — issuing, transferring, retiring, cancelling, locking and unlocking credit blocks.
//
// Serial conservation: issue appends [counter + 1, counter + quantity] to the program and splits it into at most
// an active block and a buffer block; transfer and partial retirement replace one live block by children whose
// ranges partition it exactly; every other kind only changes a block's status. Nothing else creates or destroys
// serials, so a batch's live blocks always partition its range (B1) and serials are never reused (B2).
import TrellisCodec

extension GreenAssetsContract {
    func issue(_ p: CreditsIssuePayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        var verification = try store.verification(p.verificationID)
        if let batch = verification.batchID {
            throw TxRejection("verification_already_used", "verification \(p.verificationID) already backs batch \(batch)")
        }
        guard p.quantity <= verification.quantity else {
            throw TxRejection("quantity_exceeds_verified", "quantity \(p.quantity) exceeds the verified \(verification.quantity)")
        }
        let project = try store.project(verification.projectID)
        var program = try store.program(project.programID)
        _ = try AssetMembers.active(project.proponent, in: store.state, field: "proponent")
        guard program.serialCounter < CreditSerial.maxSerial else {
            throw TxRejection("serial_overflow", "program \(program.programID) has assigned its last serial \(program.serialCounter)")
        }
        let serialStart = program.serialCounter + 1
        let serialEnd = try AssetCheck.serialEnd(start: serialStart, quantity: p.quantity, "credits.issue of program \(program.programID)")
        guard p.bufferQuantity <= p.quantity else {
            throw TxRejection("buffer_exceeds_quantity", "buffer_quantity \(p.bufferQuantity) exceeds quantity \(p.quantity)")
        }
        let batchID = context.derivedID("batch", index: 0)
        guard try store.state.get(GreenAssetsKeys.batch(batchID)) == nil else {
            throw TxRejection("duplicate_id", "batch id \(batchID) already exists")
        }
        let batch = Batch(batchID: batchID, programID: program.programID, projectID: project.projectID, verID: verification.verID, vintage: AssetCalendar.year(of: verification.periodStart), serialStart: serialStart, serialEnd: serialEnd, bufferQuantity: p.bufferQuantity, issuedBy: context.signer.memberID, issuedAt: context.blockTime, height: context.height)
        store.state.write(batch, at: GreenAssetsKeys.batch(batchID))
        store.state.put(GreenAssetsKeys.batchSerial(program: program.programID, start: serialStart), Array(batchID.utf8))
        var created = [batchID]
        // [serialStart, serialEnd] holds p.quantity ≥ bufferQuantity units: the owned block takes the first
        // quantity − buffer of them, the buffer block the last bufferQuantity; both ends lie inside the batch.
        let ownedQuantity = p.quantity - p.bufferQuantity
        if ownedQuantity > 0 {
            var block = CreditBlock(blockID: context.derivedID("cblock", index: 1), batchID: batchID, programID: program.programID, serialStart: serialStart, serialEnd: serialStart + (ownedQuantity - 1), owner: project.proponent, status: .active)
            try block.record("credits.issue", context)
            store.save(block, previous: nil)
            created.append(block.blockID)
        }
        if p.bufferQuantity > 0 {
            var block = CreditBlock(blockID: context.derivedID("cblock", index: 2), batchID: batchID, programID: program.programID, serialStart: serialEnd - (p.bufferQuantity - 1), serialEnd: serialEnd, owner: context.signer.memberID, status: .buffer)
            try block.record("credits.issue", context)
            store.save(block, previous: nil)
            created.append(block.blockID)
        }
        program.serialCounter = serialEnd
        store.state.write(program, at: GreenAssetsKeys.program(program.programID))
        verification.batchID = batchID
        store.state.write(verification, at: GreenAssetsKeys.verification(verification.verID))
        return created
    }

    func transfer(_ p: CreditsTransferPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        let owner = context.signer.memberID
        let previous = try store.movableBlock(p.blockID, owner: owner)
        let total = try AssetCheck.sum(p.outputs.map(\.quantity), "sum of outputs")
        guard total == previous.quantity else {
            throw TxRejection("split_sum_mismatch", "outputs sum to \(total) but block \(p.blockID) holds \(previous.quantity) units [\(previous.serialStart), \(previous.serialEnd)]")
        }
        for output in p.outputs where output.to != owner {
            _ = try AssetMembers.active(output.to, in: store.state, field: "outputs[].to")
        }
        var next = previous.serialStart
        var childIDs: [String] = []
        for (index, output) in p.outputs.enumerated() {
            let childID = context.derivedID("cblock", index: UInt32(index))
            guard try store.state.get(GreenAssetsKeys.block(childID)) == nil else {
                throw TxRejection("duplicate_id", "credit block id \(childID) already exists")
            }
            // The outputs sum to the parent's quantity, so every end is ≤ previous.serialEnd; checked all the same.
            let end = try AssetCheck.serialEnd(start: next, quantity: output.quantity, "outputs[\(index)]")
            var child = CreditBlock(blockID: childID, batchID: previous.batchID, programID: previous.programID, serialStart: next, serialEnd: end, owner: output.to, status: .active, parentID: previous.blockID)
            try child.record("credits.transfer", context)
            store.save(child, previous: nil)
            childIDs.append(childID)
            next = end + 1  // end ≤ CreditSerial.maxSerial
        }
        var spent = previous
        spent.status = .consumed
        spent.children = childIDs
        try spent.record("credits.transfer", context)
        store.save(spent, previous: previous)
        return childIDs
    }

    func retire(_ p: CreditsRetirePayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        let owner = context.signer.memberID
        let retID = context.derivedID("ret", index: 0)
        guard try store.state.get(GreenAssetsKeys.retirement(retID)) == nil else {
            throw TxRejection("duplicate_id", "retirement id \(retID) already exists")
        }
        var nextIndex: UInt32 = 0
        func nextBlockID() throws -> String {
            let id = context.derivedID("cblock", index: nextIndex)
            nextIndex += 1
            guard try store.state.get(GreenAssetsKeys.block(id)) == nil else {
                throw TxRejection("duplicate_id", "credit block id \(id) already exists")
            }
            return id
        }
        var retired: [RetiredRange] = []
        var created: [String] = [retID]
        for range in p.ranges {
            let previous = try store.movableBlock(range.blockID, owner: owner)
            let start = range.serialStart ?? previous.serialStart
            let end = range.serialEnd ?? previous.serialEnd
            guard start >= previous.serialStart, end <= previous.serialEnd else {
                throw TxRejection("range_not_owned", "range [\(start), \(end)] is not inside block \(range.blockID) [\(previous.serialStart), \(previous.serialEnd)] owned by \(owner)")
            }
            let retiredBlockID: String
            if start == previous.serialStart && end == previous.serialEnd {
                var block = previous
                block.status = .retired
                block.retirementID = retID
                try block.record("credits.retire", context)
                store.save(block, previous: previous)
                retiredBlockID = block.blockID
            } else {
                var pieces: [(UInt64, UInt64, BlockStatus)] = []
                if start > previous.serialStart { pieces.append((previous.serialStart, start - 1, .active)) }
                pieces.append((start, end, .retired))
                if end < previous.serialEnd { pieces.append((end + 1, previous.serialEnd, .active)) }
                var childIDs: [String] = []
                var retiredID = ""
                for (pieceStart, pieceEnd, status) in pieces {
                    var child = CreditBlock(blockID: try nextBlockID(), batchID: previous.batchID, programID: previous.programID, serialStart: pieceStart, serialEnd: pieceEnd, owner: owner, status: status, parentID: previous.blockID, retirementID: status == .retired ? retID : nil)
                    try child.record("credits.retire", context)
                    store.save(child, previous: nil)
                    childIDs.append(child.blockID)
                    if status == .retired { retiredID = child.blockID }
                }
                var spent = previous
                spent.status = .consumed
                spent.children = childIDs
                try spent.record("credits.retire", context)
                store.save(spent, previous: previous)
                created += childIDs
                retiredBlockID = retiredID
            }
            let batch = try store.batch(previous.batchID)
            retired.append(RetiredRange(blockID: retiredBlockID, batchID: batch.batchID, projectID: batch.projectID, vintage: batch.vintage, serialStart: start, serialEnd: end, serialText: try store.serialText(batch: batch, start: start, end: end)))
        }
        let retirement = Retirement(retID: retID, ranges: retired, retiredBy: owner, beneficiary: p.beneficiary, purpose: p.purpose, claimPeriodStart: p.claimPeriodStart, claimPeriodEnd: p.claimPeriodEnd, time: context.blockTime, height: context.height, txHash: context.txHash)
        store.state.write(retirement, at: GreenAssetsKeys.retirement(retID))
        store.state.put(GreenAssetsKeys.retirement(beneficiary: p.beneficiary, ret: retID), [])
        return created
    }

    func cancel(_ p: CreditsBlockActionPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        let previous = try store.block(p.blockID)
        try GreenAssetsStore.requireUnfrozen(previous)
        guard previous.status == .active || previous.status == .buffer else {
            throw TxRejection("block_not_active", "credit block \(p.blockID) is \(previous.status.rawValue); only active or buffer blocks can be cancelled")
        }
        let approval = GreenAssetsKeys.cancelApproval(block: p.blockID)
        guard try store.state.get(approval) != nil else {
            throw TxRejection("governance_approval_required", "cancelling \(p.blockID) needs an executed governance approval at \(StateKey.describe(approval))")
        }
        store.state.delete(approval)
        var block = previous
        block.status = .cancelled
        try block.record("credits.cancel", context)
        store.save(block, previous: previous)
        return [p.blockID]
    }

    /// `credits.lock` (active → locked) and `credits.unlock` (locked → active) of a whole, unfrozen block.
    func setLocked(_ locked: Bool, _ p: CreditsBlockActionPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        let previous = try store.block(p.blockID)
        try GreenAssetsStore.requireUnfrozen(previous)
        let (from, to): (BlockStatus, BlockStatus) = locked ? (.active, .locked) : (.locked, .active)
        guard previous.status == from else {
            throw TxRejection(locked ? "block_not_active" : "block_not_locked", "credit block \(p.blockID) is \(previous.status.rawValue); only \(from.rawValue) blocks can be \(locked ? "locked" : "unlocked")")
        }
        var block = previous
        block.status = to
        try block.record(locked ? "credits.lock" : "credits.unlock", context)
        store.save(block, previous: previous)
        return [p.blockID]
    }
}
