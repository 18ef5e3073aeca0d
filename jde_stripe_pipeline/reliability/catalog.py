"""Every scenario of the matrix, in the table's order."""

from jde_stripe_pipeline.reliability.matrix import Scenario
from jde_stripe_pipeline.reliability.scenarios_ais import SCENARIOS as AIS
from jde_stripe_pipeline.reliability.scenarios_dagster import SCENARIOS as DAGSTER
from jde_stripe_pipeline.reliability.scenarios_input import SCENARIOS as INPUT
from jde_stripe_pipeline.reliability.scenarios_process import SCENARIOS as PROCESS
from jde_stripe_pipeline.reliability.scenarios_stripe import SCENARIOS as STRIPE

ALL: list[Scenario] = [*AIS, *STRIPE, *PROCESS, *DAGSTER, *INPUT]
BY_NAME: dict[str, Scenario] = {scenario.name: scenario for scenario in ALL}
