"""The AIS sandbox and the Stripe emulator: real HTTP servers on loopback, the demo's defaults.

Product code kept apart from the engine: the engine never imports this package.
"""
