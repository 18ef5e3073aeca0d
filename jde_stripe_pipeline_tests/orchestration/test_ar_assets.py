"""`JDE_INVOICE_SOURCE=ar_invoice` through the real Dagster assets: the posted invoices of a day sync as
drafts, and `billing_reconciliation` writes the month-end table a billing team opens, with no difference."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import dagster as dg

from jde_stripe_pipeline.jde.julian import julian_to_date
from jde_stripe_pipeline_tests.orchestration.conftest import (
    SYNC_ASSETS,
    Pipeline,
    check_outcomes,
    metadata_values,
)


def test_an_ar_day_syncs_and_its_month_end_csv_shows_no_difference(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    posted = [row for row in pipeline.world.sandbox.rows("F03B11") if row["POST"] == "D"]
    days = Counter(julian_to_date(row["UPMJ"]) for row in posted)
    day = max((d for d in days if d is not None), key=lambda d: (days[d], d))
    settings = pipeline.settings(JDE_INVOICE_SOURCE="ar_invoice")
    result = dg.materialize(
        SYNC_ASSETS, partition_key=day.isoformat(), instance=instance, resources=pipeline.resources(settings)
    )
    assert result.success
    assert check_outcomes(result)["stripe_matches_jde"] is True
    reconciliation = metadata_values(result, "billing_reconciliation")
    assert reconciliation["month_end_differences"] == 0
    path = Path(reconciliation["month_end_csv"])
    assert path.name == f"billing_{day.isoformat()}.csv"
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    documents = {f"{r['DCT']} {r['DOC']} {r['KCO']}" for r in posted if julian_to_date(r["UPMJ"]) == day}
    assert documents <= {row["jde_document"] for row in rows}
    assert [row for row in rows if row["mismatches"]] == []
    assert all(row["stripe_id"] for row in rows if row["kind"] == "invoice")
    assert "| " in str(reconciliation["month_end_table"])
