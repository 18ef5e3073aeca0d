"""The one Dagster `Definitions` object of this code location."""

import dagster as dg

defs = dg.Definitions()
