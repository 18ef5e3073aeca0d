"""Data service BROWSE/COUNT: every operator, match types, complex queries, columns, order, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.store import from_julian
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import DEVICE, browse, condition, decode, grid, login

Row = dict[str, Any]


def _keys(rows: list[Row]) -> set[tuple[str, int, Decimal]]:
    return {(r["KCOO"], r["DOCO"], r["LNID"]) for r in rows}


def _grid_keys(rowset: list[Row]) -> set[tuple[str, int, Decimal]]:
    return {(r["F4311_KCOO"], r["F4311_DOCO"], r["F4311_LNID"]) for r in rowset}


def _day(julian: int) -> dt.date | None:
    return from_julian(julian)


OPERATOR_CASES: list[tuple[str, tuple[str, ...], Callable[[Row], bool]]] = [
    ("EQUAL", ("CRCD", "EUR"), lambda r: r["CRCD"] == "EUR"),
    ("NOT_EQUAL", ("CRCD", "USD"), lambda r: r["CRCD"] != "USD"),
    ("LESS", ("AEXP", "0"), lambda r: r["AEXP"] < 0),
    ("LESS_EQUAL", ("UORG", "2"), lambda r: r["UORG"] <= 2),
    ("GREATER", ("AEXP", "1000.5"), lambda r: r["AEXP"] > Decimal("1000.5")),
    ("GREATER_EQUAL", ("UPMJ", "11/10/2026"), lambda r: _day(r["UPMJ"]) >= dt.date(2026, 11, 10)),
    (
        "BETWEEN",
        ("UPMJ", "11/05/2026", "11/12/2026"),
        lambda r: dt.date(2026, 11, 5) <= _day(r["UPMJ"]) <= dt.date(2026, 11, 12),
    ),
    ("LIST", ("CRCD", "JPY", "KWD"), lambda r: r["CRCD"] in ("JPY", "KWD")),
    ("STR_START_WITH", ("LITM", "2"), lambda r: r["LITM"].startswith("2")),
    ("STR_END_WITH", ("DSC1", "pump"), lambda r: r["DSC1"].endswith("pump")),
    ("STR_CONTAIN", ("DSC1", "solvent"), lambda r: "solvent" in r["DSC1"]),
    ("STR_BLANK", ("DSC2",), lambda r: r["DSC2"] == ""),
    ("STR_NOT_BLANK", ("LTTR",), lambda r: r["LTTR"] != ""),
]


@pytest.mark.parametrize(
    ("operator", "args", "predicate"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES]
)
def test_every_operator_selects_what_it_says(
    server: LoopbackServer,
    sandbox: AisSandbox,
    operator: str,
    args: tuple[str, ...],
    predicate: Callable[[Row], bool],
) -> None:
    alias, *values = args
    expected = _keys([r for r in sandbox.rows("F4311") if predicate(r)])
    assert expected, f"the seed must give {operator} something to find"
    answer = browse(
        server.url,
        login(server.url),
        "F4311",
        maxPageSize="No Max",
        query={"matchType": "MATCH_ALL", "condition": [condition(f"F4311.{alias}", operator, *values)]},
    )
    assert _grid_keys(grid(answer, "F4311")["rowset"]) == expected


def test_string_operators_are_case_sensitive(server: LoopbackServer) -> None:
    answer = browse(
        server.url,
        login(server.url),
        "F4311",
        query={"condition": [condition("F4311.DSC1", "STR_CONTAIN", "PUMP")]},
    )
    assert grid(answer, "F4311")["rowset"] == []


def test_match_any_and_complex_query(server: LoopbackServer, sandbox: AisSandbox) -> None:
    token = login(server.url)
    rows = sandbox.rows("F4311")
    any_query = {
        "matchType": "MATCH_ANY",
        "condition": [condition("F4311.CRCD", "EQUAL", "JPY"), condition("F4311.LTTR", "EQUAL", "980")],
    }
    answer = browse(server.url, token, "F4311", maxPageSize="No Max", query=any_query)
    assert _grid_keys(grid(answer, "F4311")["rowset"]) == _keys(
        [r for r in rows if r["CRCD"] == "JPY" or r["LTTR"] == "980"]
    )
    # (CRCD = USD AND AEXP > 500) OR (CRCD = KWD)
    nested = {
        "matchType": "MATCH_ALL",
        "condition": [condition("F4311.CRCD", "EQUAL", "USD"), condition("F4311.AEXP", "GREATER", "500")],
        "complexQuery": [
            {
                "andOr": "OR",
                "query": {"matchType": "MATCH_ALL", "condition": [condition("F4311.CRCD", "EQUAL", "KWD")]},
            }
        ],
    }
    answer = browse(server.url, token, "F4311", maxPageSize="No Max", query=nested)
    expected = [r for r in rows if (r["CRCD"] == "USD" and r["AEXP"] > 500) or r["CRCD"] == "KWD"]
    assert _grid_keys(grid(answer, "F4311")["rowset"]) == _keys(expected)


def test_return_control_ids_select_and_order_columns(server: LoopbackServer, sandbox: AisSandbox) -> None:
    token = login(server.url)
    data = grid(browse(server.url, token, "F0101", returnControlIDs="F0101.ALPH|F0101.AN8"), "F0101")
    assert list(data["columns"]) == ["F0101_ALPH", "F0101_AN8"]
    assert data["columns"]["F0101_AN8"] == "Address Number"
    assert all(list(row) == ["F0101_ALPH", "F0101_AN8"] for row in data["rowset"])
    everything = grid(browse(server.url, token, "F0101"), "F0101")
    assert list(everything["columns"]) == [f"F0101_{a}" for a in sandbox.rows("F0101")[0]]


def test_grid_values_are_formatted_like_ais(server: LoopbackServer, sandbox: AisSandbox) -> None:
    """Dates yyyyMMdd, times ints, strings trimmed, exact decimals at the currency's scale."""
    token = login(server.url)
    data = grid(browse(server.url, token, "F4311", maxPageSize="No Max"), "F4311")
    stored = {(r["KCOO"], r["DOCO"], r["LNID"]): r for r in sandbox.rows("F4311")}
    decimals = {"USD": -2, "EUR": -2, "GBP": -2, "CAD": -2, "JPY": 0, "KWD": -3}
    for row in data["rowset"]:
        source = stored[(row["F4311_KCOO"], row["F4311_DOCO"], row["F4311_LNID"])]
        assert row["F4311_UPMJ"] == from_julian(source["UPMJ"]).strftime("%Y%m%d")  # type: ignore[union-attr]
        assert isinstance(row["F4311_TDAY"], int)
        assert row["F4311_AEXP"] == source["AEXP"]
        assert Decimal(row["F4311_AEXP"]).as_tuple().exponent == decimals[row["F4311_CRCD"]]
        assert Decimal(row["F4311_LNID"]).as_tuple().exponent == -3
    addresses = grid(browse(server.url, token, "F0116", maxPageSize="No Max"), "F0116")["rowset"]
    assert any(r["F0116_EFTB"] == "" for r in addresses), "a blank effective date comes back as ''"


def test_order_by_then_key(server: LoopbackServer) -> None:
    token = login(server.url)
    order = {"orderBy": [{"column": "F0101.UPMJ", "direction": "DESC"}]}
    rowset = grid(browse(server.url, token, "F0101", aggregation=order), "F0101")["rowset"]
    pairs = [(r["F0101_UPMJ"], -r["F0101_AN8"]) for r in rowset]
    assert pairs == sorted(pairs, reverse=True)


def test_max_page_size_cuts_without_next_page_processing(server: LoopbackServer, sandbox: AisSandbox) -> None:
    answer = browse(server.url, login(server.url), "F0101", maxPageSize="5")
    body = decode(answer)
    data = body["fs_DATABROWSE_F0101"]["data"]["gridData"]
    assert len(data["rowset"]) == 5
    assert data["summary"] == {"records": 5, "moreRecords": True}
    assert body["links"] == []
    assert body["currentApp"] == "DATABROWSE_F0101"


def test_count(server: LoopbackServer, sandbox: AisSandbox) -> None:
    answer = browse(
        server.url,
        login(server.url),
        "F03012",
        dataServiceType="COUNT",
        query={"condition": [condition("F03012.CO", "EQUAL", "00200")]},
    )
    assert answer.status_code == 200
    count = answer.json()["fs_DATABROWSE_F03012"]["data"]["totalCount"]
    assert count == len([r for r in sandbox.rows("F03012") if r["CO"] == "00200"]) > 0


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"targetName": "F9999"}, "F9999"),
        ({"targetType": "view", "targetName": "V0101"}, "view"),
        ({"returnControlIDs": "F0101.NOPE"}, "F0101.NOPE"),
        ({"query": {"condition": [condition("F0101.AN8", "LIKE", "1")]}}, "LIKE"),
        ({"query": {"condition": [condition("F0101.UPMJ", "EQUAL", "2026-11-01")]}}, "2026-11-01"),
        ({"query": {"condition": [condition("F0101.AN8", "BETWEEN", "1")]}}, "BETWEEN"),
        ({"query": {"condition": [condition("F0101.AN8", "EQUAL", "abc")]}}, "abc"),
        ({"aggregation": {"orderBy": [{"column": "F0101.AN8", "direction": "UP"}]}}, "direction"),
        ({"dataServiceType": "AGGREGATION"}, "AGGREGATION"),
        ({"maxPageSize": "lots"}, "maxPageSize"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    server: LoopbackServer, fields: dict[str, Any], fragment: str
) -> None:
    answer = browse(server.url, login(server.url), "F0101", **fields)
    assert answer.status_code == 400, answer.text
    assert fragment in answer.json()["message"]
    assert answer.json()["status"] == "ERROR"


def test_invalid_json_is_400_and_wrong_content_type_is_415(server: LoopbackServer) -> None:
    url = f"{server.url}/jderest/v2/dataservice"
    answer = requests.post(url, data="{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 400 and "Invalid JSON" in answer.json()["message"]
    form = requests.post(url, data={"token": "x", "deviceName": DEVICE}, timeout=10)
    assert form.status_code == 415
    text = requests.post(url, data='{"a": 1}', headers={"Content-Type": "text/plain"}, timeout=10)
    assert text.status_code == 415


def test_blank_character_fields_come_back_as_one_space(server: LoopbackServer, sandbox: AisSandbox) -> None:
    """Real AIS answers a blank string column as " ", never "" (the store keeps it trimmed)."""
    token = login(server.url)
    books = grid(browse(server.url, token, "F0101", maxPageSize="No Max"), "F0101")["rowset"]
    stored = {r["AN8"]: r for r in sandbox.rows("F0101")}
    blank_tax = [r for r in books if stored[r["F0101_AN8"]]["TAX"] == ""]
    assert blank_tax and all(r["F0101_TAX"] == " " for r in blank_tax)
    assert not any(value == "" for row in books for value in row.values())
    named = [r for r in books if stored[r["F0101_AN8"]]["ALPH"]]
    assert all(r["F0101_ALPH"] == stored[r["F0101_AN8"]]["ALPH"] for r in named), "others stay trimmed"
    blank_query = {"condition": [condition("F0101.TAX", "STR_BLANK")]}
    found = grid(browse(server.url, token, "F0101", maxPageSize="No Max", query=blank_query), "F0101")
    assert {r["F0101_AN8"] for r in found["rowset"]} == {r["F0101_AN8"] for r in blank_tax}


def test_data_responses_carry_stack_state_and_rid(server: LoopbackServer) -> None:
    body = decode(browse(server.url, login(server.url), "F0101", maxPageSize="2"))
    assert isinstance(body["stackId"], int) and isinstance(body["stateId"], int) and body["rid"]


@pytest.mark.parametrize("output_type", ["VERSION1", "VERSION2"])
def test_version_output_types_answer_cells(
    server: LoopbackServer, sandbox: AisSandbox, output_type: str
) -> None:
    fields = {"outputType": output_type, "returnControlIDs": "F0116.AN8|F0116.EFTB|F0116.ADD2"}
    token = login(server.url)
    rowset = grid(browse(server.url, token, "F0116", maxPageSize="No Max", **fields), "F0116")["rowset"]
    flat = grid(
        browse(server.url, token, "F0116", maxPageSize="No Max", **{**fields, "outputType": "GRID_DATA"}),
        "F0116",
    )
    assert len(rowset) == len(flat["rowset"]) == len(sandbox.rows("F0116"))
    for index, (row, plain) in enumerate(zip(rowset, flat["rowset"], strict=True)):
        assert row["rowIndex"] == index and row["MOExist"] is False
        for name in ("F0116_AN8", "F0116_EFTB", "F0116_ADD2"):
            assert row[name]["internalValue"] == plain[name]
        assert row["F0116_AN8"]["value"] == str(plain["F0116_AN8"])
        if plain["F0116_EFTB"].strip():
            assert row["F0116_EFTB"]["value"] == dt.datetime.strptime(plain["F0116_EFTB"], "%Y%m%d").strftime(
                "%m/%d/%Y"
            )
        assert ("title" in row["F0116_AN8"]) is (output_type == "VERSION1")


def test_paged_version2_keeps_its_output_type(server: LoopbackServer, sandbox: AisSandbox) -> None:
    token = login(server.url)
    body = decode(
        browse(
            server.url, token, "F0101", maxPageSize="5", enableNextPageProcessing=True, outputType="VERSION2"
        )
    )
    link = body["links"][0]["href"]
    assert "outputType=VERSION2" in link
    following = decode(requests.get(link, headers={"jde-AIS-Auth-Device": DEVICE}, timeout=10))
    row = following["fs_DATABROWSE_F0101"]["data"]["gridData"]["rowset"][0]
    assert set(row["F0101_AN8"]) == {"id", "internalValue", "value"}
    assert (following["stateId"], following["rid"]) == (body["stateId"], body["rid"])


def test_aggregation_sums_exactly_per_group(server: LoopbackServer, sandbox: AisSandbox) -> None:
    aggregation = {
        "aggregations": [
            {"aggregation": "SUM", "column": "F4311.AEXP"},
            {"aggregation": "COUNT", "column": "F4311.LNID"},
            {"aggregation": "MAX", "column": "F4311.UPMJ"},
        ],
        "groupBy": [{"column": "F4311.CRCD"}],
        "orderBy": [{"column": "F4311.CRCD", "direction": "DESC"}],
    }
    query = {"condition": [condition("F4311.AEXP", "GREATER", "0")]}
    answer = browse(
        server.url,
        login(server.url),
        "F4311",
        dataServiceType="AGGREGATION",
        aggregation=aggregation,
        query=query,
    )
    assert answer.status_code == 200, answer.text
    output = decode(answer)["ds_F4311"]["output"]
    rows = [r for r in sandbox.rows("F4311") if r["AEXP"] > 0]
    currencies = sorted({r["CRCD"] for r in rows}, reverse=True)
    assert [entry["groupBy"] for entry in output] == [{"F4311.CRCD": c} for c in currencies]
    for entry, currency in zip(output, currencies, strict=True):
        mine = [r for r in rows if r["CRCD"] == currency]
        assert entry["F4311.AEXP_SUM"] == sum((r["AEXP"] for r in mine), Decimal(0))
        assert not isinstance(entry["F4311.AEXP_SUM"], float)
        assert entry["F4311.LNID_COUNT"] == len(mine)
        latest = from_julian(max(r["UPMJ"] for r in mine))
        assert latest is not None and entry["F4311.UPMJ_MAX"] == latest.strftime("%Y%m%d")


def test_aggregation_without_groups_is_one_entry(server: LoopbackServer, sandbox: AisSandbox) -> None:
    aggregation = {"aggregations": [{"aggregation": "COUNT_DISTINCT", "column": "F0101.AT1"}]}
    answer = browse(
        server.url, login(server.url), "F0101", dataServiceType="AGGREGATION", aggregation=aggregation
    )
    assert decode(answer)["ds_F0101"]["output"] == [
        {"F0101.AT1_COUNT_DISTINCT": len({r["AT1"] for r in sandbox.rows("F0101")})}
    ]


@pytest.mark.parametrize(
    ("aggregation", "fragment"),
    [
        ({"aggregations": []}, "aggregations"),
        ({"aggregations": [{"aggregation": "MEDIAN", "column": "F4311.AEXP"}]}, "MEDIAN"),
        ({"aggregations": [{"aggregation": "SUM", "column": "F4311.DSC1"}]}, "F4311.DSC1"),
        ({"aggregations": [{"aggregation": "SUM", "column": "F4311.AEXP"}], "having": []}, "having"),
        (
            {
                "aggregations": [{"aggregation": "SUM", "column": "F4311.AEXP"}],
                "orderBy": [{"column": "F4311.AEXP", "direction": "ASC"}],
            },
            "groupBy",
        ),
    ],
)
def test_bad_aggregations_are_400(server: LoopbackServer, aggregation: dict[str, Any], fragment: str) -> None:
    answer = browse(
        server.url, login(server.url), "F4311", dataServiceType="AGGREGATION", aggregation=aggregation
    )
    assert answer.status_code == 400 and fragment in answer.json()["message"], answer.text


def test_default_config_answers_before_login(server: LoopbackServer) -> None:
    answer = requests.get(f"{server.url}/jderest/defaultconfig", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["defaultEnvironment"] == "JDV920" and answer.json()["resultSetTimeout"] == "60000"
