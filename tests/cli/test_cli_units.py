"""The CLI's pure parts: input parsing, rounding of spend limits, secret redaction, exit codes, display."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultexec import errors
from vaultexec.cli.failures import EXIT_CODES, exit_code_for, redact_secrets
from vaultexec.cli.session import check_env_var_name
from vaultexec.cli.tables import DISPLAY_DIGITS, short_number
from vaultexec.cli.trading import parse_slippage_percent
from vaultexec.cli.vaultconfig import ConfigRequest, RawSpendLimit, config_from_mapping, resolve_config

USDC = "0x" + "11" * 20

human_amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10) ** 12, places=12,
                            allow_nan=False, allow_infinity=False)


@given(amount=human_amounts, decimals=st.integers(0, 24))
def test_spend_limit_is_rounded_down_never_up(amount: Decimal, decimals: int) -> None:
    request = ConfigRequest(tokens={"USDC": USDC}, spend_limits=[RawSpendLimit("USDC", amount, 60)])
    exact = amount.scaleb(decimals)
    if exact < 1:
        with pytest.raises(errors.BadInputError, match="must both be positive"):
            resolve_config(request, lambda _: decimals)
        return
    (limit,) = resolve_config(request, lambda _: decimals).spend_limits
    assert limit.capacity <= exact < limit.capacity + 1


@given(percent=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("49.99"), places=4))
def test_slippage_percent_becomes_an_exact_fraction(percent: Decimal) -> None:
    assert parse_slippage_percent(f"{percent}%") == percent / 100 == parse_slippage_percent(str(percent))


@pytest.mark.parametrize("text", ["0", "-1", "50", "abc", "inf", "1e999999"])
def test_slippage_refused(text: str) -> None:
    with pytest.raises(errors.BadInputError):
        parse_slippage_percent(text)


@given(value=st.decimals(min_value=Decimal("1e-18"), max_value=Decimal("1e15"), allow_nan=False,
                         allow_infinity=False))
def test_short_number_keeps_the_leading_digits(value: Decimal) -> None:
    shown = Decimal(short_number(str(value)))
    assert abs(shown - value) <= abs(value) * Decimal(10) ** (1 - DISPLAY_DIGITS)


@given(key=st.binary(min_size=32, max_size=32))
def test_redaction_removes_a_key_in_any_spelling(key: bytes) -> None:
    hex_key = key.hex()
    text = f"a 0x{hex_key} b {hex_key.upper()} c"
    cleaned = redact_secrets(text, ["0x" + hex_key])
    assert hex_key not in cleaned.lower()
    assert cleaned.startswith("a ") and cleaned.endswith(" c")


def test_env_var_name_check_never_echoes_the_value() -> None:
    key = "0x" + "ab" * 32
    with pytest.raises(errors.BadInputError) as raised:
        check_env_var_name(key, "--private-key-env")
    assert "ab" * 32 not in str(raised.value)
    assert check_env_var_name("MY_KEY_2", "--private-key-env") == "MY_KEY_2"


def test_every_error_class_has_its_documented_exit_code() -> None:
    for cls, code, _ in EXIT_CODES:
        assert exit_code_for(cls.__new__(cls)) == code
    assert exit_code_for(errors.PreflightRefusedError("x", [1])) == 8
    assert exit_code_for(errors.NodeRejectedError("x", "eth_call", -32000, "m")) == 4
    assert exit_code_for(errors.StoreTransitionError("x")) == 10
    assert exit_code_for(RuntimeError("bug")) == 1


def test_config_mapping_rejects_unknown_keys_and_floats() -> None:
    with pytest.raises(errors.BadInputError, match="unknown keys"):
        config_from_mapping({"asets": []}, "cfg")
    with pytest.raises(errors.BadInputError, match="no floats"):
        config_from_mapping({"spend_limits": [{"asset": "USDC", "capacity": 0.1, "refill_period": 1}]}, "cfg")
