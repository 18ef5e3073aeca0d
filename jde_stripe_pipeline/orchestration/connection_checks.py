"""`connection_check`: the `jde-stripe check` probes as a Dagster job, so "can it reach my systems?"
is answered in the UI too, with the same messages and hints as the command line."""

import dagster as dg

from jde_stripe_pipeline.credentials.check import run_connection_checks
from jde_stripe_pipeline.orchestration.resources import JdeAisResource, StripeResource


@dg.op(description="Request a JDE token and read one F03012 row; read each Stripe account's balance.")
def check_connections(
    context: dg.OpExecutionContext, jde: JdeAisResource, stripe: StripeResource
) -> dg.Output[None]:
    environment = jde.credentials.source().environment()
    results = run_connection_checks(environment, accounts=stripe.routing().accounts)
    for result in results:
        hint = f" -> {result.hint}" if result.hint else ""
        line = f"{result.name}: {'OK' if result.ok else 'FAILED'} {result.message}{hint}"
        (context.log.info if result.ok else context.log.error)(line)
    metadata: dict[str, dg.RawMetadataValue] = {
        result.name: ("OK " if result.ok else "FAILED ") + result.message for result in results
    }
    failed = [result for result in results if not result.ok]
    if failed:
        raise dg.Failure(
            description="; ".join(f"{r.name}: {r.message}" for r in failed),
            metadata={**metadata, **{f"{r.name} hint": r.hint or "" for r in failed}},
            allow_retries=False,
        )
    return dg.Output(None, metadata=metadata)


@dg.job(description="Check that JDE AIS and Stripe answer with the configured credentials.")
def connection_check() -> None:
    check_connections()
