"""`JdeDocumentKey`, the one document-key type: its string form, JDE row values, Stripe metadata."""

from decimal import Decimal

import pytest

from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping import InvoiceMappingConfig, InvoiceRequest, map_invoice
from jde_stripe_pipeline_tests.mapping.builders import invoice

KEY = JdeDocumentKey(kcoo="00070", doco=1001, dcto="OP", sfxo="001")


def test_the_string_form_parses_back() -> None:
    assert str(KEY) == "00070/1001/OP/001"
    assert JdeDocumentKey.parse(str(KEY)) == KEY
    assert JdeDocumentKey.parse("00070/1001/OP/000") == JdeDocumentKey(kcoo="00070", doco=1001, dcto="OP")


@pytest.mark.parametrize(
    "text", ["00070/1001/OP", "00070/10x1/OP/000", "10001", "a/1/b/c/d", "00070/-1/OP/000"]
)
def test_a_malformed_string_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="is not KCOO/DOCO/DCTO/SFXO") as raised:
        JdeDocumentKey.parse(text)
    assert repr(text) in str(raised.value)


def test_from_row_values_as_ais_sends_them() -> None:
    aliases = PURCHASE_ORDER.header.key
    row = {"KCOO": "00070 ", "DOCO": Decimal("1001"), "DCTO": "OP", "SFXO": "001"}
    assert JdeDocumentKey.from_row(row, aliases) == KEY
    assert JdeDocumentKey.from_row({**row, "DOCO": 1001}, aliases) == KEY
    assert JdeDocumentKey.values_in(row, aliases) == KEY.sort_key() == ("00070", 1001, "OP", "001")
    assert JdeDocumentKey.of(KEY.sort_key()) == KEY
    for bad in ({"DOCO": Decimal("1001.5")}, {"DOCO": "1001"}, {"DOCO": True}, {"DCTO": None}):
        assert JdeDocumentKey.from_row({**row, **bad}, aliases) is None
        assert JdeDocumentKey.values_in({**row, **bad}, aliases) is None


def test_from_the_metadata_the_mapping_writes() -> None:
    request = map_invoice(invoice(key=KEY), InvoiceMappingConfig())
    assert isinstance(request, InvoiceRequest)
    assert JdeDocumentKey.from_metadata(request.metadata) == KEY
    without_suffix = {k: v for k, v in request.metadata.items() if k != "jde_sfxo"}
    assert JdeDocumentKey.from_metadata(without_suffix) == KEY.model_copy(update={"sfxo": "000"})
    assert JdeDocumentKey.from_metadata({"jde_an8": "10001"}) is None
    assert JdeDocumentKey.from_metadata({**request.metadata, "jde_doco": "10x1"}) is None


def test_keys_sort_by_their_fields() -> None:
    keys = [
        KEY,
        JdeDocumentKey(kcoo="00070", doco=999, dcto="OP"),
        JdeDocumentKey(kcoo="00001", doco=5, dcto="SO"),
    ]
    assert [k.doco for k in sorted(keys, key=JdeDocumentKey.sort_key)] == [5, 999, 1001]
