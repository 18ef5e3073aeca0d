"""The demo's JDE edits for `--source ar_invoice`, through the AIS sandbox's admin API.

A posted invoice's G/L data cannot change (jde-ar.md §4), so the A/R edits are what a billing team
does: void one synced invoice (its Stripe draft is deleted), correct the remark of another's pay item
(the one field a post leaves editable: its Stripe line's description follows), and rename a customer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from jde_stripe_pipeline.demo.changes import AppliedChanges, DemoChangeError, _rename
from jde_stripe_pipeline.demo.summary import JdeChange
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin

_LEDGER_KEY = ("DOC", "DCT", "KCO", "SFX")


def ledger_key(row: Mapping[str, Any]) -> str:
    """The ledger's key of an A/R document (`JdeDocumentKey.__str__`, SFXO 000)."""
    return f"{row['KCO']}/{row['DOC']}/{row['DCT']}/000"


def make_ar_changes(
    api: AisAdmin, synced_invoices: Collection[str], synced_customers: Collection[str]
) -> AppliedChanges:
    """Void one synced invoice, correct a pay item's remark on another, rename a third party."""
    rows = [r for r in api.rows("F03B11") if r["DCT"] == "RI" and ledger_key(r) in synced_invoices]
    with_lines = {ledger_key(r) for table in ("F42119", "F4211") for r in api.rows(table) if r["DOC"]}
    remarked = sorted((r for r in rows if ledger_key(r) not in with_lines), key=ledger_key)
    voided = sorted((r for r in rows if r not in remarked), key=ledger_key)
    if not remarked or not voided:
        raise DemoChangeError("no synced A/R invoice to void or to correct: seed more invoices")
    target, pay_item = voided[0], remarked[0]
    stamp = 0
    for row in rows:
        if ledger_key(row) == ledger_key(target):
            [stored] = api.upsert(
                "F03B11",
                [
                    {
                        **{k: row[k] for k in _LEDGER_KEY},
                        **dict.fromkeys(("AG", "AAP", "STAM", "ATXA", "ACR", "CTAM", "CTXA"), "0"),
                        "PST": "P",
                        "POST": "",
                        "ISTR": "1",
                        "VOD": "V",
                    }
                ],
            )
            stamp = int(stored["UPMJ"])
    remark = f"{str(pay_item['RMK'])[:20]} (corrected)"
    api.upsert("F03B11", [{**{k: pay_item[k] for k in _LEDGER_KEY}, "RMK": remark}])
    busy = {str(target["AN8"]), str(pay_item["AN8"])}
    names = {str(row["AN8"]): row for row in api.rows("F0101")}
    customer = next((a for a in sorted(synced_customers, key=int) if a not in busy and a in names), None)
    if customer is None:
        raise DemoChangeError("no synced customer left to rename: seed more customers")
    renamed, _ = _rename(api, names[customer])
    changes = (
        JdeChange("invoice", ledger_key(target), "voided in JDE (AG 0, ISTR 1, VOD V): its draft goes"),
        JdeChange(
            "invoice", ledger_key(pay_item), f"pay item {pay_item['SFX']} remark -> {remark!r} (line text)"
        ),
        renamed,
    )
    return AppliedChanges(changes, stamp)
