// Placeholder so the package resolves in the ledger worktree; the real TrellisStoreTests live on main.
