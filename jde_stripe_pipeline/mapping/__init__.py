"""Pure functions: typed JDE records → the exact Stripe requests. No I/O."""
