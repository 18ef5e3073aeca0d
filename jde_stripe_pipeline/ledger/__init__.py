"""State and audit: the mapping JDE key → Stripe id, the append-only audit log, the quarantine."""
