"""The one Dagster `Definitions` object of this code location, built from the environment.

What is read here shapes the definitions themselves (the zone and first day of the partitions, the
billing cron, the invoice profile, the mapping and pacing settings), parsed once by the settings
root; a missing or bad value is the code location's load error, one line naming the variable.
Secrets (the JDE login, the Stripe key, the ledger URL) are resolved when a step runs, never here.
"""

import os

from jde_stripe_pipeline.orchestration.definitions import build_definitions
from jde_stripe_pipeline.settings import Settings

defs = build_definitions(Settings.from_env(os.environ))
