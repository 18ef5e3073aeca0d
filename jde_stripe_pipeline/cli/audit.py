"""`jde-stripe audit` and `jde-stripe replay`: the ledger's history and re-sending failures by partition."""

from __future__ import annotations

from collections.abc import Sequence

import click

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, UNROUTED
from jde_stripe_pipeline.cli.settings import state_url_option
from jde_stripe_pipeline.ledger import AuditEntry, Ledger, LedgerError, ObjectType, QuarantineEntry

_COLUMNS = ("when (UTC)", "run", "partition", "action", "outcome", "stripe id", "try", "reason")


def history_rows(entries: Sequence[AuditEntry]) -> list[tuple[str, ...]]:
    return [
        (
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.run_id,
            entry.partition_key or "-",
            entry.action,
            entry.outcome,
            entry.stripe_id or "-",
            str(entry.attempt),
            entry.reason or "",
        )
        for entry in entries
    ]


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def format_history(
    identifier: str, entries: Sequence[AuditEntry], quarantine: Sequence[QuarantineEntry]
) -> str:
    """The audit story of one record, grouped per record and Stripe account (a Stripe id may have had
    several owners; a customer billed by two companies has a story in each account)."""
    if not entries and not quarantine:
        return f"No history for {identifier!r}: neither a JDE key nor a Stripe id the ledger has seen."
    blocks: list[str] = []
    records = sorted(
        {(e.account, e.object_type, e.record_key) for e in entries}
        | {(q.account, q.object_type, q.record_key) for q in quarantine}
    )
    for account, object_type, record_key in records:
        record = (account, object_type, record_key)
        own = [e for e in entries if (e.account, e.object_type, e.record_key) == record]
        block = [f"{object_type} {record_key}{_in_account(account)}: {len(own)} audit row(s)"]
        if own:
            block.append(render_table(_COLUMNS, history_rows(own)))
        for entry in (q for q in quarantine if (q.account, q.object_type, q.record_key) == record):
            state = "open" if entry.resolved_at is None else f"resolved by run {entry.resolved_by_run_id}"
            block.append(
                f"quarantine ({state}): {entry.field}: {entry.reason} — seen {entry.count}x, "
                f"last in run {entry.run_id} partition {entry.partition_key or '-'}"
            )
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def _in_account(account: str) -> str:
    if account == DEFAULT_ACCOUNT:
        return ""
    return " (no Stripe account: company not routed)" if account == UNROUTED else f" (account {account})"


@click.command("audit")
@click.argument("identifier")
@click.option(
    "--account",
    default=None,
    help="Only this Stripe account's history (a name of JDE_STRIPE_ACCOUNTS); default: every account.",
)
@state_url_option
def audit(identifier: str, account: str | None, state_url: str | None) -> None:
    """Print the audit history of a record, by JDE key (AN8 or KCOO/DOCO/DCTO/SFXO) or any Stripe id."""
    every = account is None
    try:
        with Ledger.open(state_url or None) as opened:
            ledger = opened if every else opened.for_account(str(account))
            entries = ledger.history(identifier, every_account=every)
            records: set[tuple[ObjectType, str]] = {(e.object_type, e.record_key) for e in entries}
            if (mapped := ledger.mapping_by_stripe_id(identifier, every_account=every)) is not None:
                records.add((mapped.object_type, mapped.jde_key))
            # A JDE key may only ever have been quarantined, with no audit row naming its kind.
            records |= {("customer", identifier), ("invoice", identifier)}
            quarantine = [
                q
                for kind, key in sorted(records)
                for q in ledger.quarantine_history(kind, key, every_account=every)
            ]
    except LedgerError as error:
        raise click.ClickException(str(error)) from None
    click.echo(format_history(identifier, entries, quarantine))
