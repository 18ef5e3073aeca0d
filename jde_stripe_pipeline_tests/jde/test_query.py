"""Query building, date literals in the user's format, and reading GRID_DATA (Decimal, never float)."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from jde_stripe_pipeline.jde.errors import AisProtocolError, AisRequestError
from jde_stripe_pipeline.jde.query import (
    AndOr,
    BrowseRequest,
    ComplexQuery,
    Condition,
    Direction,
    MatchType,
    Operator,
    OrderBy,
    Query,
    after_key,
    browse_body,
    chunked,
    format_date_literal,
    parse_grid_page,
)
from jde_stripe_pipeline.jde.tables import F0101, F03012
from jde_stripe_pipeline.jde.window import UpdateWindow, window_query


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("MM/dd/yyyy", "07/04/1998"),
        ("dd/MM/yyyy", "04/07/1998"),
        ("yyyy-MM-dd", "1998-07-04"),
        ("dd.MM.yy", "04.07.98"),
        ("d/M/yyyy", "4/7/1998"),
        ("yyyy'年'MM'月'dd", "1998年07月04"),
    ],
)
def test_date_literals_follow_the_users_format(pattern: str, expected: str) -> None:
    assert format_date_literal(date(1998, 7, 4), pattern) == expected


@pytest.mark.parametrize("pattern", ["MMM dd, yyyy", "EEE dd/MM/yyyy", ""])
def test_unsupported_date_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        format_date_literal(date(1998, 7, 4), pattern)


def test_every_operator_writes_its_values_as_literals() -> None:
    for operator in Operator:
        if operator in (Operator.STR_BLANK, Operator.STR_NOT_BLANK):
            values: tuple[object, ...] = ()
        elif operator is Operator.BETWEEN:
            values = (date(2026, 11, 1), date(2026, 11, 30))
        elif operator is Operator.LIST:
            values = (1, 2, 3)
        else:
            values = ("AB",)
        body = browse_body(
            BrowseRequest("F0101", ("AN8",), Query(conditions=(Condition("F0101.X", operator, values),))),  # type: ignore[arg-type]
            "dd/MM/yyyy",
        )
        condition = body["query"]["condition"][0]
        assert condition["operator"] == operator.value
        assert len(condition["value"]) == len(values)
        assert all(v["specialValueId"] == "LITERAL" for v in condition["value"])
    between = Condition("F0101.UPMJ", Operator.BETWEEN, (date(2026, 11, 1), date(2026, 11, 30)))
    body = browse_body(BrowseRequest("F0101", ("AN8",), Query(conditions=(between,))), "dd/MM/yyyy")
    assert [v["content"] for v in body["query"]["condition"][0]["value"]] == ["01/11/2026", "30/11/2026"]


def test_condition_value_counts_and_no_floats() -> None:
    with pytest.raises(ValueError):
        Condition("F0101.UPMJ", Operator.BETWEEN, (date(2026, 1, 1),))
    with pytest.raises(ValueError):
        Condition("F0101.ALPH", Operator.STR_BLANK, ("x",))
    with pytest.raises(ValueError):
        Condition("F0101.AN8", Operator.LIST, ())
    with pytest.raises(ValueError):
        Condition("F0101.AN8", Operator.EQUAL, ())
    with pytest.raises(TypeError):
        Condition("F4311.AEXP", Operator.EQUAL, (1.5,))  # type: ignore[arg-type]


def test_browse_body_shape() -> None:
    query = Query(
        conditions=(Condition("F03012.AN8", Operator.LIST, (1001, 1002)),),
        match_type=MatchType.MATCH_ALL,
        complex=(
            ComplexQuery(
                AndOr.AND,
                Query(
                    conditions=(Condition("F03012.AEXP", Operator.GREATER, (Decimal("12.50"),)),),
                    match_type=MatchType.MATCH_ANY,
                ),
            ),
        ),
    )
    request = BrowseRequest(
        "F03012", ("AN8", "CO"), query, order_by=(OrderBy("F03012.AN8", Direction.DESC),), max_page_size=50
    )
    body = browse_body(request, "MM/dd/yyyy")
    assert body == {
        "targetName": "F03012",
        "targetType": "table",
        "dataServiceType": "BROWSE",
        "outputType": "GRID_DATA",
        "returnControlIDs": "F03012.AN8|F03012.CO",
        "maxPageSize": "50",
        "enableNextPageProcessing": True,
        "query": {
            "matchType": "MATCH_ALL",
            "autoFind": True,
            "condition": [
                {
                    "controlId": "F03012.AN8",
                    "operator": "LIST",
                    "value": [
                        {"content": "1001", "specialValueId": "LITERAL"},
                        {"content": "1002", "specialValueId": "LITERAL"},
                    ],
                }
            ],
            "complexQuery": [
                {
                    "andOr": "AND",
                    "query": {
                        "matchType": "MATCH_ANY",
                        "condition": [
                            {
                                "controlId": "F03012.AEXP",
                                "operator": "GREATER",
                                "value": [{"content": "12.50", "specialValueId": "LITERAL"}],
                            }
                        ],
                    },
                }
            ],
        },
        "aggregation": {"orderBy": [{"column": "F03012.AN8", "direction": "DESC"}]},
    }
    json.dumps(body)  # serialisable as is


def test_and_also_keeps_match_any_semantics() -> None:
    any_query = Query(
        conditions=(Condition("F0101.AT1", Operator.EQUAL, ("C",)),), match_type=MatchType.MATCH_ANY
    )
    extra = Condition("F0101.AN8", Operator.GREATER_EQUAL, (5,))
    combined = any_query.and_also(extra)
    assert combined.match_type is MatchType.MATCH_ALL
    assert combined.conditions == (extra,)
    assert combined.complex == (ComplexQuery(AndOr.AND, any_query),)
    all_query = Query(conditions=(Condition("F0101.AT1", Operator.EQUAL, ("C",)),))
    assert all_query.and_also(extra).conditions[-1] == extra


def _conditions(query: Query) -> list[tuple[str, str, list[str]]]:
    body = browse_body(BrowseRequest("F0101", ("AN8",), query), "MM/dd/yyyy")["query"]
    return [
        (c["controlId"], c["operator"], [v["content"] for v in c["value"]]) for c in body.get("condition", [])
    ]


def test_window_of_whole_days_is_two_plain_conditions() -> None:
    query = window_query(F0101, UpdateWindow.days(date(2026, 11, 26), date(2026, 11, 27)))
    assert query.complex == ()
    assert _conditions(query) == [
        ("F0101.UPMJ", "GREATER_EQUAL", ["11/26/2026"]),
        ("F0101.UPMJ", "LESS", ["11/27/2026"]),
    ]


def test_window_edges_use_the_time_column() -> None:
    window = UpdateWindow(datetime(2026, 11, 26, 9, 30, 15), datetime(2026, 11, 28, 8, 0, 0))
    query = window_query(F03012, window)
    assert _conditions(query) == [
        ("F03012.UPMJ", "GREATER_EQUAL", ["11/26/2026"]),
        ("F03012.UPMJ", "LESS_EQUAL", ["11/28/2026"]),
    ]
    start_edge, end_edge = (cq.query for cq in query.complex)
    assert all(cq.and_or is AndOr.AND for cq in query.complex)
    assert start_edge.match_type is MatchType.MATCH_ANY
    assert [(c.operator, c.values) for c in start_edge.conditions] == [
        (Operator.GREATER, (date(2026, 11, 26),)),
        (Operator.GREATER_EQUAL, (93015,)),
    ]
    assert [(c.control_id, c.operator, c.values) for c in end_edge.conditions] == [
        ("F03012.UPMJ", Operator.LESS, (date(2026, 11, 28),)),
        ("F03012.UPMT", Operator.LESS, (80000,)),
    ]


def _evaluate(query: Query, upmj: date, upmt: int) -> bool:
    """An independent evaluator of the window query (conditions, then complex parts ANDed)."""

    def test(condition: Condition) -> bool:
        actual = upmj if condition.control_id.endswith("UPMJ") else upmt
        expected = condition.values[0]
        return {
            Operator.GREATER_EQUAL: actual >= expected,  # type: ignore[operator]
            Operator.GREATER: actual > expected,  # type: ignore[operator]
            Operator.LESS: actual < expected,  # type: ignore[operator]
            Operator.LESS_EQUAL: actual <= expected,  # type: ignore[operator]
        }[condition.operator]

    results = [test(c) for c in query.conditions]
    base = all(results) if query.match_type is MatchType.MATCH_ALL else any(results)
    return base and all(_evaluate(cq.query, upmj, upmt) for cq in query.complex)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 11, 26, 9, 30, 15), datetime(2026, 11, 28, 8, 0, 0)),
        (datetime(2026, 11, 26, 9, 30, 15), datetime(2026, 11, 26, 17, 0, 0)),
        (datetime(2026, 11, 26), datetime(2026, 11, 27)),
        (datetime(2026, 11, 26, 0, 0, 1), datetime(2026, 11, 27, 0, 0, 0, 500000)),
    ],
)
def test_window_query_is_exact_at_the_edges(start: datetime, end: datetime) -> None:
    window = UpdateWindow(start, end)
    query = window_query(F0101, window)
    for day in (
        date(2026, 11, 25),
        date(2026, 11, 26),
        date(2026, 11, 27),
        date(2026, 11, 28),
        date(2026, 11, 29),
    ):
        for hhmmss in (0, 1, 80000, 93014, 93015, 93016, 165959, 170000, 235959):
            stamp = datetime.combine(day, datetime.min.time()).replace(
                hour=hhmmss // 10000, minute=hhmmss // 100 % 100, second=hhmmss % 100
            )
            expected = start <= stamp < end if end.microsecond == 0 else start <= stamp <= end
            assert _evaluate(query, day, hhmmss) == expected, (stamp, window)


def test_window_must_be_naive_and_non_empty() -> None:
    with pytest.raises(ValueError):
        UpdateWindow(datetime(2026, 1, 2), datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        UpdateWindow(datetime(2026, 1, 1).astimezone(), datetime(2026, 1, 2).astimezone())


def _grid(rows: list[dict[str, object]], more: bool, next_href: str | None) -> bytes:
    payload = {
        "fs_DATABROWSE_F4311": {
            "title": "Data Browser - F4311",
            "data": {
                "gridData": {"id": 1, "rowset": rows, "summary": {"records": len(rows), "moreRecords": more}}
            },
            "errors": [],
            "warnings": [],
        },
        "links": [{"rel": "next", "href": next_href}] if next_href else [],
    }
    return json.dumps(payload).encode()


def test_grid_page_numbers_are_decimal_and_keys_are_aliases() -> None:
    raw = (
        b'{"fs_DATABROWSE_F4311":{"data":{"gridData":{"rowset":[{"F4311_DOCO":123,"F4311_AEXP":1234.56,'
        b'"F4311_LNID":1.000,"F4311_UPMJ":"20261126","F4311_TDAY":93015}],"summary":{"moreRecords":false}}},'
        b'"errors":[]},"links":[]}'
    )
    page = parse_grid_page(json.loads(raw, parse_float=Decimal), "F4311")
    assert page.rows == [
        {"DOCO": 123, "AEXP": Decimal("1234.56"), "LNID": Decimal("1.000"), "UPMJ": "20261126", "TDAY": 93015}
    ]
    assert not any(isinstance(v, float) for v in page.rows[0].values())
    assert str(page.rows[0]["LNID"]) == "1.000"
    assert page.next_params is None and not page.more_records


def test_grid_page_next_link_params_drop_the_token() -> None:
    href = (
        "http://ais.example/jderest/v2/dataservice/next?stackId=1&stateId=2&rid=48e4&fullGridId=146"
        "&formOID=F4311&token=SECRET&outputType=GRID_DATA&returnControlIDs=F4311.DOCO|F4311.LNID"
    )
    page = parse_grid_page(json.loads(_grid([], True, href), parse_float=Decimal), "F4311")
    assert page.more_records
    assert page.next_params == {
        "stackId": "1",
        "stateId": "2",
        "rid": "48e4",
        "fullGridId": "146",
        "formOID": "F4311",
        "outputType": "GRID_DATA",
        "returnControlIDs": "F4311.DOCO|F4311.LNID",
    }


def test_grid_page_errors_and_bad_shapes() -> None:
    with pytest.raises(AisRequestError, match="Invalid column"):
        parse_grid_page(
            {"fs_DATABROWSE_F0101": {"errors": [{"message": "Invalid column F0101.XX"}]}}, "F0101"
        )
    with pytest.raises(AisProtocolError):
        parse_grid_page({"something": 1}, "F0101")
    with pytest.raises(AisProtocolError):
        parse_grid_page({"fs_DATABROWSE_F0101": {"data": {}}}, "F0101")


def test_chunked() -> None:
    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunked([], 3) == []
    with pytest.raises(ValueError):
        chunked([1], 0)


def _holds(query: Query, row: dict[str, object]) -> bool:
    """An independent evaluator: conditions by matchType, then complex parts folded left."""

    def test(condition: Condition) -> bool:
        actual, expected = row[condition.control_id.split(".")[1]], condition.values[0]
        return {
            Operator.GREATER_EQUAL: actual >= expected,  # type: ignore[operator]
            Operator.GREATER: actual > expected,  # type: ignore[operator]
            Operator.EQUAL: actual == expected,
        }[condition.operator]

    results = [test(c) for c in query.conditions]
    value = (all(results) if query.match_type is MatchType.MATCH_ALL else any(results)) if results else True
    for cq in query.complex:
        other = _holds(cq.query, row)
        value = (value and other) if cq.and_or is AndOr.AND else (value or other)
    return value


def test_after_key_is_strictly_after_in_key_order() -> None:
    key = ("KCOO", "DOCO", "LNID")
    rows = [
        {"KCOO": kcoo, "DOCO": doco, "LNID": Decimal(lnid)}
        for kcoo in ("00001", "00200")
        for doco in (1001, 1002, 1003)
        for lnid in ("1.000", "2.000", "3.000")
    ]
    for last in rows:
        values = (last["KCOO"], last["DOCO"], last["LNID"])
        query = after_key("F4311", key, values)  # type: ignore[arg-type]
        after = [r for r in rows if _holds(query, r)]
        assert after == [r for r in rows if tuple(r.values()) > values], values
        combined = Query(conditions=(Condition("F4311.DOCO", Operator.EQUAL, (1002,)),)).and_query(query)
        assert [r for r in rows if _holds(combined, r)] == [
            r for r in rows if tuple(r.values()) > values and r["DOCO"] == 1002
        ]


def test_after_key_single_column() -> None:
    assert after_key("F0101", ("AN8",), (5,)) == Query(
        conditions=(Condition("F0101.AN8", Operator.GREATER, (5,)),)
    )
    with pytest.raises(ValueError):
        after_key("F0101", ("AN8", "X"), (5,))
