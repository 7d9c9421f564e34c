// RocksChainStore+Commit.swift — the commit's page encoding (store format 7, docs/LEDGER.md "Storage of the tree"):
// which page rows a commit removes and writes and which new pages it keeps decoded for the caches (`treeChanges`),
// from the positions the tree update recorded (`pageChanges`) or, for an update that recorded none, from the stored
// and the committed tree walked side by side (`walkedPageChanges`, `TreeDiff`); a debug build walks every recorded
// commit too and refuses it when the two disagree (`crossCheck`). The commit's write itself: RocksChainStore.swift.
import Foundation
import TrellisCrypto
import TrellisStore

extension RocksChainStore {
    /// A state read is a RocksDB `Get` (thousands of instructions): a block's overlay on this store keeps what it read
    /// (`ChainStore.stateReadsAreWorthMemoizing`).
    public var stateReadsAreWorthMemoizing: Bool { true }

    /// The page rows a commit removes and adds, and what it keeps in memory of them (`treeChanges`).
    struct PageRows {
        let nodes: ColumnFamily
        let upperDepth: Int
        var newPages: [NewPage] = []
        /// Upper positions that lose their page (kept in memory only: format 7 stores no row above depth 16).
        var emptied: [(depth: Int, path: TreePath)] = []
        var written = 0, deleted = 0
        var rowsByLevel = [Int](repeating: 0, count: CommitPhases.pageLevels)
        var bytesByLevel = [Int](repeating: 0, count: CommitPhases.pageLevels)
        /// Which new pages below the upper tree are decoded for the rotating cache: those at most `newPageCacheDepth`
        /// deep, at most as many as it keeps (`remember` keeps no more of one commit's): the last ones.
        let newPageCacheDepth: Int
        let skipped: Int
        var cachableSeen = 0

        init(nodes: ColumnFamily, upperDepth: Int, newPageCacheDepth: Int, cachable: Int, cachePages: Int) {
            self.nodes = nodes
            self.upperDepth = upperDepth
            self.newPageCacheDepth = newPageCacheDepth
            skipped = cachable - min(cachable, cachePages)
            newPages.reserveCapacity(cachable - skipped)
        }

        /// The position lost its page and holds none.
        mutating func remove(depth: Int, path: TreePath, into batch: inout WriteBatch) {
            if depth <= upperDepth {
                emptied.append((depth, path))
            } else {
                batch.delete(nodes, key: RocksChainStore.pageKey(depth: depth, path: path))
                deleted += 1
            }
        }

        /// Whether the new page at `depth` is decoded (call once per new page, in order).
        mutating func decodes(depth: Int) -> Bool {
            if depth <= upperDepth { return true }
            guard depth <= newPageCacheDepth else { return false }
            defer { cachableSeen += 1 }
            return cachableSeen >= skipped
        }

        /// The position holds the page `encoder` just encoded (`page`: its decoded form, when decoded). An upper page is
        /// kept in memory only (format 7): the rows at depth 16 give it back at open.
        mutating func add(depth: Int, path: TreePath, encoder: PageEncoder, page: DecodedPage?, into batch: inout WriteBatch) {
            if let page {
                // Debug builds check every page a commit builds for the cache (upper pages included) against its own
                // bytes decoded: the next blocks read the built page, not its row, and the next commit copies its
                // unchanged members into new rows, so a builder fault would make this node's tree differ from a
                // restarted one's (review 22, F1). Release builds skip the decode (it re-hashes every member).
                assert((try? DecodedPage.decode(encoder.bytes, label: .hash(page.root)))?.sameMembers(as: page) == true,
                       "the page a commit built at depth \(depth) differs from its bytes decoded")
                newPages.append(NewPage(page: page, depth: depth, path: path))
            }
            guard depth > upperDepth else { return }
            batch.put(nodes, key: RocksChainStore.pageKey(depth: depth, path: path), value: encoder.bytesCopy)
            rowsByLevel[depth / TreePage.levels] += 1
            bytesByLevel[depth / TreePage.levels] += encoder.bytes.count
            written += 1
        }
    }

    /// What `treeChanges` returns: the buckets whose summary changed (in bucket order) with their new summaries, the new
    /// pages decoded (each upper one, `upperPageDepth`, which is not written; of the other pages at most
    /// `cachedNewPageDepth` deep, the last as many as the cache keeps), the upper positions that lose their page, how
    /// many pages it writes (with the rows and bytes it puts by page depth), when the positions were known, and whether
    /// they came from the update's record (false: from the walk).
    typealias TreeChanges = (summaries: [(bucket: UInt8, summary: BucketSummary)], newPages: [NewPage], emptied: [(depth: Int, path: TreePath)],
                                     pages: (written: Int, deleted: Int, rowsByLevel: [Int], bytesByLevel: [Int]), walked: ContinuousClock.Instant,
                                     fromPositions: Bool)

    /// Adds to `batch` the page rows `commit` removes and adds. The changed positions come from the tree update
    /// (`BlockCommit.treePositions`: recorded as it built the new nodes, TreePositionChanges.swift) when it was applied
    /// to the tree this store holds; otherwise from walking the stored tree (the last committed height's) side by side
    /// with the committed one (TreeDiff.swift). Both give the same rows. A debug build also walks every commit that has
    /// positions and refuses the commit when the two disagree (`crossCheck`).
    /// (Not inlined: profiles measure the commit's tree work as this function, `--toggle-collect='*treeChanges*'`.)
    @inline(never)
    func treeChanges(_ commit: BlockCommit, into batch: inout WriteBatch) throws(ChainStoreError) -> TreeChanges {
        let oldRoot: Hash
        if commit.height == 0 {
            oldRoot = .zero
        } else {
            guard let root = try stateRoot(atHeight: commit.height - 1) else {
                throw .corrupt(what: "tree", reason: "the state root of height \(commit.height - 1), which the commit of \(commit.height) replaces, is missing")
            }
            oldRoot = root
        }
        do throws(StateError) {
            if let positions = commit.treePositions, positions.baseRoot == oldRoot, positions.root == commit.stateRoot,
               positions.halves.count == commit.treeNodes.count {
                #if DEBUG
                try crossCheck(commit, positions: positions, oldRoot: oldRoot)
                #endif
                return try pageChanges(commit, positions: positions, into: &batch)
            }
            return try walkedPageChanges(commit, oldRoot: oldRoot, into: &batch)
        } catch {
            throw .corrupt(what: "tree", reason: error.description)
        }
    }

    #if DEBUG
    /// Debug builds: the page changes and bucket summaries `positions` records are the ones the walk of the stored and the
    /// committed tree finds (`TreeDiff`, the fallback's), else the commit is refused before anything is written — a
    /// recording fault the reference checks of `pageChanges` cannot see (a page change or summary left out, or one too
    /// many) stops the tests that commit through RocksDB instead of leaving a row that is not the tree's (review N2).
    func crossCheck(_ commit: BlockCommit, positions: TreePositionChanges, oldRoot: Hash) throws(StateError) {
        let diff = try walkedDiff(commit, oldRoot: oldRoot)
        if let mismatch = positions.mismatch(with: diff, newNodes: commit.treeNodes) {
            throw .corruptValue(key: "tree update of height \(commit.height)", reason: "its recorded page changes are not the walk's: \(mismatch)")
        }
    }
    #endif

    /// `treeChanges` from the positions the update recorded: each changed page is encoded from the update's new nodes
    /// (by reference: a created node, a carried leaf, or a node of the page it replaces at the same position), read in
    /// place; nothing is walked from the root or searched by hash.
    func pageChanges(_ commit: BlockCommit, positions: TreePositionChanges, into batch: inout WriteBatch) throws(StateError) -> TreeChanges {
        let walked = ContinuousClock.now
        let upperDepth = Self.upperPageDepth
        let cachable = newPageCacheDepth > upperDepth ? positions.pages.count { $0.added != TreePositionChanges.Reference.none && $0.depth > upperDepth && $0.depth <= newPageCacheDepth } : 0
        var rows = PageRows(nodes: nodes, upperDepth: upperDepth, newPageCacheDepth: newPageCacheDepth, cachable: cachable, cachePages: pageCachePages)
        var summaries: [(bucket: UInt8, summary: BucketSummary)] = []
        summaries.reserveCapacity(positions.summaries.count)
        try commit.treeNodes.withUnsafeBufferPointer { (records) throws(StateError) in
            try positions.halves.withUnsafeBufferPointer { (halves) throws(StateError) in
                try positions.carried.withUnsafeBufferPointer { (carried) throws(StateError) in
                    let update = UpdateNodes(records: records, halves: halves, carried: carried)
                    // A changed tree has a new root page (or, emptied, none): the one the commit names.
                    if commit.stateRoot != positions.baseRoot {
                        let rootPage = positions.pages.first { $0.depth == 0 }
                        let rootHash = rootPage.map { $0.added == TreePositionChanges.Reference.none ? Hash.zero : update.hash($0.added) }
                        guard rootHash == commit.stateRoot else {
                            throw TreeDiff.corrupt(commit.stateRoot, "the update's recorded root page is not the committed root")
                        }
                    }
                    for summary in positions.summaries { summaries.append((summary.bucket, try update.summary(summary.node))) }
                    // A position that held a page and holds none loses its row; one that holds a page gets its new page
                    // written over the old one (one put, no delete). Each position is recorded once.
                    for change in positions.pages where change.added == TreePositionChanges.Reference.none {
                        rows.remove(depth: change.depth, path: change.path, into: &batch)
                    }
                    var encoder = PageEncoder()
                    for change in positions.pages where change.added != TreePositionChanges.Reference.none {
                        // The members this page keeps unchanged are in the page it replaces (the stored page at its position).
                        var replaced: DecodedPage? = nil
                        if change.removed != .zero {
                            guard let stored = try page(change.removed, depth: change.depth, path: change.path) else {
                                throw TreeDiff.corrupt(change.removed, "a page the commit replaces is missing")
                            }
                            replaced = stored
                        }
                        let page = try encoder.encode(change.added, of: update, replacing: replaced, decoded: rows.decodes(depth: change.depth))
                        rows.add(depth: change.depth, path: change.path, encoder: encoder, page: page, into: &batch)
                    }
                }
            }
        }
        return (summaries, rows.newPages, rows.emptied, (rows.written, rows.deleted, rows.rowsByLevel, rows.bytesByLevel), walked, true)
    }

    /// The stored tree (`oldRoot`, the last committed height's) and `commit`'s walked side by side (`TreeDiff`): the
    /// fallback's page changes, and what a debug build's `crossCheck` compares the recorded positions with.
    func walkedDiff(_ commit: BlockCommit, oldRoot: Hash) throws(StateError) -> TreeDiff {
        var diff = TreeDiff(created: CreatedNodes(commit.treeNodes), summaryDepth: TreeBucket.depth, leafRowDepth: Self.storedPageDepth) { [unowned self] (hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) in
            try self.treeNode(hash, depth: depth, page: page, path: path)
        }
        try diff.walk(old: oldRoot == .zero ? .empty : TreeDiff.OldSide(kind: .stored(oldRoot), page: .zero),
                      new: commit.stateRoot == .zero ? .empty : .node(commit.stateRoot), depth: 0, position: .root)
        return diff
    }

    /// `treeChanges` from the stored and the committed tree walked side by side (`TreeDiff`): for a commit whose
    /// update recorded no positions, or recorded them for another tree.
    func walkedPageChanges(_ commit: BlockCommit, oldRoot: Hash, into batch: inout WriteBatch) throws(StateError) -> TreeChanges {
        let diff = try walkedDiff(commit, oldRoot: oldRoot)
        let upperDepth = Self.upperPageDepth
        let walked = ContinuousClock.now
        // A position that held a page and holds none now loses its row; a position that holds a page gets its new
        // page written over the old one (one put, no delete). Each position is one change of the walk, so no row is
        // both deleted and written.
        let cachable = diff.pageChanges.count { $0.addedRow != nil && $0.depth > upperDepth && $0.depth <= newPageCacheDepth }
        var rows = PageRows(nodes: nodes, upperDepth: upperDepth, newPageCacheDepth: newPageCacheDepth, cachable: cachable, cachePages: pageCachePages)
        for change in diff.pageChanges where change.removedRow != nil && change.addedRow == nil {
            rows.remove(depth: change.depth, path: change.path, into: &batch)
        }
        var encoder = PageEncoder()
        var members = diff.pageMembers
        for change in diff.pageChanges {
            let removed = change.removedRow
            guard let added = change.addedRow else { continue }
            // The members this page keeps unchanged are in the page it replaces (the stored page at its position).
            if let removed {
                guard let stored = try page(removed, depth: change.depth, path: change.path) else { throw TreeDiff.corrupt(removed, "a page the commit replaces is missing") }
                members.replacing(stored)
            } else {
                members.replacing(nil)
            }
            let page = try encoder.encode(rootHash: added.hash, root: added.node, decoded: rows.decodes(depth: change.depth), members: members)
            rows.add(depth: change.depth, path: change.path, encoder: encoder, page: page, into: &batch)
        }
        return (diff.summaries, rows.newPages, rows.emptied, (rows.written, rows.deleted, rows.rowsByLevel, rows.bytesByLevel), walked, false)
    }
}
