"""The engine: plan (diff mapped requests with the ledger) and execute (paced, idempotent)."""
