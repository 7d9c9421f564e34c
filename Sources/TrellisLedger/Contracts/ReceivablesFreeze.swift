// ReceivablesFreeze.swift — `asset.freeze` / `asset.unfreeze`: a regulator stops or releases one certificate piece
// or one green credit block.
//
// A frozen certificate piece has status frozen and remembers the status to restore (mark_overdue updates that
// memory); a frozen credit block keeps its status and carries `frozen = true`, so supply reconciliation still
// adds up. Frozen assets cannot move, be financed, accepted, settled, retired, locked or cancelled.
import TrellisCodec

extension ReceivablesContract {
    func freeze(_ p: AssetFreezePayload, _ context: ExecutionContext, _ state: StateOverlay) throws -> [String] {
        switch p.assetType {
        case .certificate:
            let store = ReceivablesStore(state: state)
            let previous = try store.certificate(p.assetID)
            switch previous.status {
            case .frozen: throw TxRejection("already_frozen", "certificate \(p.assetID) is already frozen")
            case .consumed, .settled, .rejected:
                throw TxRejection("certificate_not_active", "certificate \(p.assetID) is \(previous.status.rawValue); there is nothing to freeze")
            case .pendingAccept, .active, .financed, .pledged, .overdue: break
            }
            var cert = previous
            cert.frozenFrom = previous.status
            cert.status = .frozen
            try cert.record("asset.freeze", context)
            store.save(cert, previous: previous)
        case .creditBlock:
            let store = GreenAssetsStore(state: state)
            let previous = try store.block(p.assetID)
            guard !previous.frozen else { throw TxRejection("already_frozen", "credit block \(p.assetID) is already frozen") }
            guard previous.status == .active || previous.status == .locked || previous.status == .buffer else {
                throw TxRejection("block_not_active", "credit block \(p.assetID) is \(previous.status.rawValue); there is nothing to freeze")
            }
            var block = previous
            block.frozen = true
            try block.record("asset.freeze", context)
            store.save(block, previous: previous)
        }
        return [p.assetID]
    }

    func unfreeze(_ p: AssetFreezePayload, _ context: ExecutionContext, _ state: StateOverlay) throws -> [String] {
        switch p.assetType {
        case .certificate:
            let store = ReceivablesStore(state: state)
            let previous = try store.certificate(p.assetID)
            guard previous.status == .frozen, let restored = previous.frozenFrom else {
                throw TxRejection("not_frozen", "certificate \(p.assetID) is \(previous.status.rawValue), not frozen")
            }
            var cert = previous
            cert.status = restored
            cert.frozenFrom = nil
            try cert.record("asset.unfreeze", context)
            store.save(cert, previous: previous)
        case .creditBlock:
            let store = GreenAssetsStore(state: state)
            let previous = try store.block(p.assetID)
            guard previous.frozen else { throw TxRejection("not_frozen", "credit block \(p.assetID) is not frozen") }
            var block = previous
            block.frozen = false
            try block.record("asset.unfreeze", context)
            store.save(block, previous: previous)
        }
        return [p.assetID]
    }
}
