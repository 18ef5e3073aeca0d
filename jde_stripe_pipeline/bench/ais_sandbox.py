"""Figures for the AIS sandbox: seeding time and paged read throughput over loopback.

Run: `.venv/bin/python -m jde_stripe_pipeline.bench.ais_sandbox --customers 100000`.
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

import requests

from jde_stripe_pipeline.sandboxes.ais.sandbox import AisSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    sandbox = AisSandbox(seed=1, customers=args.customers, invoices=args.invoices)
    seeded = time.perf_counter() - started
    counts = {t: len(sandbox.rows(t)) for t in ("F03012", "F0101", "F0116", "F4301", "F4311")}
    print(
        f"seeded {args.customers} customers, {args.invoices} PO + {args.invoices} SO "
        f"in {seeded:.1f} s: {counts}"
    )
    try:
        with sandbox.serve() as server:
            login = requests.post(
                f"{server.url}/jderest/v2/tokenrequest",
                json={"username": "JDE", "password": "JDE", "deviceName": "bench", "environment": "JDV920"},
                timeout=30,
            ).json()
            token = login["userInfo"]["token"]
            started = time.perf_counter()
            answer = requests.post(
                f"{server.url}/jderest/v2/dataservice",
                json={
                    "token": token,
                    "deviceName": "bench",
                    "targetName": "F03012",
                    "targetType": "table",
                    "dataServiceType": "BROWSE",
                    "maxPageSize": str(args.page_size),
                    "enableNextPageProcessing": True,
                },
                timeout=60,
            )
            rows = pages = 0
            while True:
                body = json.loads(answer.text, parse_float=Decimal)
                rows += len(body["fs_DATABROWSE_F03012"]["data"]["gridData"]["rowset"])
                pages += 1
                links = [link["href"] for link in body["links"] if link["rel"] == "next"]
                if not links:
                    break
                answer = requests.get(links[0], headers={"jde-AIS-Auth-Device": "bench"}, timeout=60)
            seconds = time.perf_counter() - started
            print(
                f"read F03012: {rows} rows in {pages} pages of {args.page_size} in {seconds:.1f} s "
                f"({rows / seconds:.0f} rows/s)"
            )
    finally:
        sandbox.close()


if __name__ == "__main__":
    main()
