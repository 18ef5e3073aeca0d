"""The encrypted credential store and connection checks."""
