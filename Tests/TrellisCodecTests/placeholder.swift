// Placeholder so the package resolves in the ledger worktree; the real TrellisCodecTests live on main.
