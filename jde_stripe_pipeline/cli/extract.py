"""`jde-stripe extract customers|invoices`: show what a sync would read from JDE, before syncing.

Reads the settings (zone, profile, ship-to) and the JDE login as a sync does, runs the same extract,
and prints a table (or writes CSV/JSON). Quarantined records go to stderr with key, field and
reason. An AIS failure exits non-zero with the error's own message and no traceback.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import click
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the lock

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.cli.settings import credential_source, load_settings, plain_errors
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import PROFILES, invoice_profile
from jde_stripe_pipeline.jde.read import customer_reads, extract_customers, extract_invoices
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, JdeParty, QuarantinedRecord, ShipToSource
from jde_stripe_pipeline.jde.tables import TableSpec
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.settings import Settings

_WHEN = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@click.group("extract")
def extract_command() -> None:
    """Show the JDE records changed in a window of update stamps (reads only; writes nothing to Stripe)."""


def _window_options(command: Any) -> Any:
    command = click.option(
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to FILE.csv or FILE.json instead of printing a table.",
    )(command)
    command = click.option(
        "--to",
        "end",
        type=_WHEN,
        help="End of the window, exclusive (JDE server time). Default: tomorrow, i.e. through today.",
    )(command)
    return click.option(
        "--from", "start", type=_WHEN, required=True, help="Start of the window, inclusive (JDE server time)."
    )(command)


@extract_command.command("customers")
@_window_options
@click.option("--company", "companies", multiple=True, help="F03012 company (repeatable, in priority order).")
@click.option(
    "--ship-to-source",
    type=click.Choice(get_args(ShipToSource)),
    default=None,
    help="ship_to: also read each customer's ship-to from its sales orders (default: "
    "JDE_STRIPE_SHIP_TO_SOURCE, else customer).",
)
def customers_command(
    start: datetime,
    end: datetime | None,
    output: Path | None,
    companies: tuple[str, ...],
    ship_to_source: ShipToSource | None,
) -> None:
    """Customers whose F03012/F0101/F0116/F01151/F0115 rows changed in [--from, --to)."""
    settings = load_settings()
    ship_to_source = ship_to_source or settings.jde.ship_to_source
    window = _window(start, end, settings)
    _reading(customer_reads(ship_to_source))
    with _session(settings) as session:
        extract = extract_customers(
            session, window, companies=companies or None, ship_to_source=ship_to_source
        )
        records = _report(extract)
        _emit(records, customer_row, output, "customers", window)


@extract_command.command("invoices")
@_window_options
@click.option(
    "--source",
    type=click.Choice(sorted(PROFILES)),
    help="Invoice source profile (default: JDE_INVOICE_SOURCE, else purchase_order).",
)
def invoices_command(start: datetime, end: datetime | None, output: Path | None, source: str | None) -> None:
    """Orders whose header or any line changed in [--from, --to), one row per line."""
    settings = load_settings()
    window = _window(start, end, settings)
    profile = (
        invoice_profile(
            source,
            ar_invoice_types=settings.jde.ar_invoice_types,
            ar_credit_memo_types=settings.jde.ar_credit_memo_types,
        )
        if source
        else settings.jde.profile()
    )
    _reading(profile.reads)
    with _session(settings) as session:
        records = _report(extract_invoices(session, window, profile))
        _emit(records, invoice_rows, output, f"{profile.name} invoices", window)


def _reading(tables: Iterable[TableSpec]) -> None:
    """Name the tables first: a read refused by JDE security then says which grants are needed."""
    names = list(dict.fromkeys(spec.name for spec in tables))
    click.echo(f"Reading {', '.join(names)} through AIS", err=True)


def _window(start: datetime, end: datetime | None, settings: Settings) -> UpdateWindow:
    if end is None:
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        end = datetime.combine(today + timedelta(days=1), time(0))
    try:
        return UpdateWindow(start, end)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--from/--to") from None


@contextlib.contextmanager
def _session(settings: Settings) -> Iterator[AisSession]:
    """An AIS session whose failures become their plain message and a non-zero exit, no traceback."""
    with plain_errors(), runtime.ais_session(settings.jde, credential_source()) as session:
        yield session


def _report(records: Iterable[Any]) -> Iterator[Any]:
    """Good records pass through; quarantined ones are reported on stderr as they come."""
    for record in records:
        if isinstance(record, QuarantinedRecord):
            click.echo(
                f"quarantined {record.kind} {record.record_key}: {record.field}: {record.reason}", err=True
            )
        else:
            yield record


def customer_row(customer: JdeCustomer) -> list[dict[str, Any]]:
    address = customer.address
    return [
        {
            "an8": customer.an8,
            "company": customer.company,
            "name": customer.name,
            "tax_id": customer.tax_id,
            "address": " / ".join(address.lines) if address else None,
            "city": address.city if address else None,
            "state": address.state if address else None,
            "postal_code": address.postal_code if address else None,
            "country": address.country if address else None,
            "email": customer.email,
            "phone": customer.phone,
            "currency": customer.currency,
            "payment_terms": customer.payment_terms,
            "language": customer.language,
            "ship_to": _an8_text(customer.ship_to),
            "ship_to_order": str(customer.ship_to_order) if customer.ship_to_order else None,
            "updated_at": customer.updated_at,
        }
    ]


def _an8_text(party: JdeParty | None) -> str | None:
    """A ship-to AN8 as text: a column with blanks would show integers as 10002.0."""
    return str(party.an8) if party is not None else None


def invoice_rows(invoice: JdeInvoice) -> list[dict[str, Any]]:
    header = {
        "key": str(invoice.key),
        "an8": invoice.an8,
        "ship_to": _an8_text(invoice.ship_to),
        "document_date": invoice.document_date,
        "currency": invoice.currency,
        "total": invoice.total,
        "payment_terms": invoice.payment_terms,
        "updated_at": invoice.updated_at,
    }
    if not invoice.lines:
        return [header]
    return [
        {
            **header,
            "lnid": line.lnid,
            "item": line.item,
            "description": line.description,
            "quantity": line.quantity,
            "uom": line.unit_of_measure,
            "unit_price": line.unit_price,
            "amount": line.amount,
            "status": f"{line.last_status or ''}/{line.next_status or ''}",
        }
        for line in invoice.lines
    ]


def _emit(records: Iterator[Any], flatten: Any, output: Path | None, what: str, window: UpdateWindow) -> None:
    if output is not None and output.suffix.lower() == ".json":
        dumped = [record.model_dump(mode="json") for record in records]
        output.write_text(json.dumps(dumped, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"{len(dumped)} {what} written to {output}", err=True)
        return
    if output is not None and output.suffix.lower() != ".csv":
        raise click.BadParameter("the output file must end in .csv or .json", param_hint="--output")
    count = 0
    rows: list[dict[str, Any]] = []
    for record in records:
        count += 1
        rows.extend(flatten(record))
    frame = pd.DataFrame(rows)
    if output is not None:
        frame.to_csv(output, index=False)
        click.echo(f"{count} {what} written to {output}", err=True)
    elif rows:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250):
            click.echo(frame.to_string(index=False))
        click.echo(f"{count} {what} changed in [{window.start}, {window.end})", err=True)
    else:
        click.echo(f"No {what} changed in [{window.start}, {window.end})", err=True)
