"""The Stripe side: one paced, idempotent client and its error classes."""
