"""AIS settings from values (secrets masked) and invoice source profiles as data."""

from pathlib import Path

import pytest

from jde_stripe_pipeline.jde.errors import AisConfigError
from jde_stripe_pipeline.jde.profiles import PROFILES, PURCHASE_ORDER, SALES_ORDER, invoice_profile
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.tables import ColumnType

VALUES: dict[str, object] = {
    "url": "https://ais.example.com:9300/",
    "username": "JDE",
    "password": "s3cret-Pa55",
    "environment": "JDV920",
    "timezone": "America/Chicago",
}
"""The login as the credentials resolve it plus the zone of the settings root (`runtime.ais_settings`)."""


def test_values_with_defaults() -> None:
    settings = AisSettings.from_values(**VALUES)
    assert settings.url == "https://ais.example.com:9300"
    assert settings.role == "*ALL"
    assert settings.device_name == "jde-stripe-pipeline"
    assert settings.invoice_source == "purchase_order"
    assert settings.verify is True
    assert settings.zone.key == "America/Chicago"
    full = AisSettings.from_values(
        **VALUES,
        role="FINANCE",
        device_name="connector-1",
        ca_bundle="/etc/ssl/jde.pem",
        invoice_source="sales_order",
    )
    assert (full.role, full.device_name, full.invoice_source) == ("FINANCE", "connector-1", "sales_order")
    assert full.ca_bundle == Path("/etc/ssl/jde.pem")
    assert full.verify == "/etc/ssl/jde.pem"


@pytest.mark.parametrize(
    ("field", "variable"),
    [("url", "JDE_AIS_URL"), ("username", "JDE_AIS_USERNAME"), ("password", "JDE_AIS_PASSWORD")],
)
def test_missing_value_is_named_by_its_variable(field: str, variable: str) -> None:
    values = {k: v for k, v in VALUES.items() if k != field}
    with pytest.raises(AisConfigError, match=variable):
        AisSettings.from_values(**values)


def test_bad_values_are_named_and_never_echo_the_password() -> None:
    with pytest.raises(AisConfigError, match="JDE_TIMEZONE") as caught:
        AisSettings.from_values(**{**VALUES, "timezone": "Mars/Olympus"})
    assert "s3cret" not in str(caught.value)
    with pytest.raises(AisConfigError, match="JDE_INVOICE_SOURCE"):
        AisSettings.from_values(**{**VALUES, "invoice_source": "ledger"})
    with pytest.raises(AisConfigError, match="JDE_AIS_URL"):
        AisSettings.from_values(**{**VALUES, "url": "ais.example.com"})


def test_password_is_masked_everywhere_but_its_value() -> None:
    settings = AisSettings.from_values(
        url="http://127.0.0.1:1", username="JDE", password="s3cret-Pa55", environment="JDV920", timezone="UTC"
    )
    for text in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert "s3cret" not in text
    assert settings.password.get_secret_value() == "s3cret-Pa55"


def test_settings_are_frozen() -> None:
    settings = AisSettings.from_values(**VALUES)
    with pytest.raises(ValueError):
        settings.url = "http://elsewhere"  # type: ignore[misc]


def test_two_profiles_one_shape() -> None:
    assert set(PROFILES) == {"purchase_order", "sales_order", "ar_invoice"}
    assert (PURCHASE_ORDER.header_table, PURCHASE_ORDER.detail_table) == ("F4301", "F4311")
    assert (SALES_ORDER.header_table, SALES_ORDER.detail_table) == ("F4201", "F4211")
    assert PURCHASE_ORDER.line.unit_price == "PRRC"
    assert SALES_ORDER.line.unit_price == "UPRC"
    assert type(PURCHASE_ORDER) is type(SALES_ORDER)
    assert invoice_profile("sales_order") is SALES_ORDER
    with pytest.raises(ValueError, match="unknown invoice source"):
        invoice_profile("ledger")


def test_profile_table_specs_are_derived_from_roles() -> None:
    header, detail = PURCHASE_ORDER.tables
    assert header.name == "F4301"
    assert header.key == ("KCOO", "DOCO", "DCTO", "SFXO")
    assert (header.date_column, header.time_column) == ("UPMJ", "TDAY")
    assert header.columns["OTOT"] is ColumnType.DECIMAL
    assert header.columns["TRDJ"] is ColumnType.DATE
    assert detail.key == ("KCOO", "DOCO", "DCTO", "SFXO", "LNID")
    assert detail.columns["PRRC"] is ColumnType.DECIMAL
    assert "UPRC" not in detail.columns
    assert SALES_ORDER.detail_spec.columns["UPRC"] is ColumnType.DECIMAL
    assert set(detail.columns) == {
        "KCOO",
        "DOCO",
        "DCTO",
        "SFXO",
        "LNID",
        "LITM",
        "DSC1",
        "DSC2",
        "UORG",
        "UOM",
        "PRRC",
        "AEXP",
        "LTTR",
        "NXTR",
        "CRCD",
        "UPMJ",
        "TDAY",
    }


def test_a_profile_lists_every_table_it_reads() -> None:
    assert [spec.name for spec in PURCHASE_ORDER.reads] == ["F4301", "F4311", "F0101", "F0116"]
    assert [spec.name for spec in SALES_ORDER.reads] == ["F4201", "F4211", "F0101", "F0116"]
    ship_to = SALES_ORDER.ship_to_spec
    assert ship_to.name == "F4201" and ship_to.key == SALES_ORDER.header_spec.key
    assert set(ship_to.columns) == {"KCOO", "DOCO", "DCTO", "SFXO", "AN8", "SHAN", "TRDJ", "UPMJ", "TDAY"}
    assert all(SALES_ORDER.header_spec.columns[alias] is kind for alias, kind in ship_to.columns.items())
