// Placeholder so the package resolves in the ledger worktree; the real TrellisCryptoTests live on main.
