"""JDE edits through the AIS sandbox's admin API (each stamps the rows it writes, as JDE would)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline_tests.sync.conftest import World


def _lines(world: World, key: str) -> list[dict[str, Any]]:
    kcoo, doco, dcto, sfxo = key.split("/")
    return [
        row
        for row in world.sandbox.rows("F4311")
        if (row["KCOO"], str(row["DOCO"]), row["DCTO"], row["SFXO"]) == (kcoo, doco, dcto, sfxo)
    ]


def _billable_lines(world: World, key: str) -> list[dict[str, Any]]:
    """Lines Stripe bills, by line number: editing a cancelled (980) line changes nothing Stripe shows."""
    lines = [row for row in _lines(world, key) if row.get("LTTR") != "980"]
    return sorted(lines, key=lambda r: Decimal(r["LNID"]))


def _key_fields(key: str) -> dict[str, Any]:
    kcoo, doco, dcto, sfxo = key.split("/")
    return {"KCOO": kcoo, "DOCO": int(doco), "DCTO": dcto, "SFXO": sfxo}


def reprice_first_line(world: World, key: str) -> None:
    line = _billable_lines(world, key)[0]
    world.upsert("F4311", [{**_key_fields(key), "LNID": line["LNID"], "AEXP": line["AEXP"] + 1}])


def add_line(world: World, key: str) -> None:
    lines = sorted(_lines(world, key), key=lambda r: Decimal(r["LNID"]))
    last = lines[-1]
    new = {alias: value for alias, value in last.items() if alias not in ("UPMJ", "TDAY")}
    new.update({"LNID": Decimal(last["LNID"]) + 1, "AEXP": Decimal(7), "DSC1": "Added in JDE", "LTTR": "400"})
    world.upsert("F4311", [new])


def remove_last_line(world: World, key: str) -> None:
    lines = _billable_lines(world, key)
    assert len(lines) > 1
    world.delete_rows("F4311", {**_key_fields(key), "LNID": lines[-1]["LNID"]})
    world.upsert("F4301", [_key_fields(key)])  # deleting a line leaves no stamp: touch the header


def cancel_every_line(world: World, key: str) -> None:
    rows = [{**_key_fields(key), "LNID": line["LNID"], "LTTR": "980"} for line in _lines(world, key)]
    world.upsert("F4311", rows)


def change_invoices(world: World, keys: Sequence[str]) -> None:
    """Re-price, add and remove lines, in turn."""
    for index, key in enumerate(keys):
        kind = index % 3
        if kind == 2 and len(_billable_lines(world, key)) < 2:
            kind = 0
        (reprice_first_line, add_line, remove_last_line)[kind](world, key)
