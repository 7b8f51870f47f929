"""The CLI's pure parts: input parsing, rounding of spend limits, secret redaction, exit codes, display."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from vaultexec import errors
from vaultexec.cli.app import stdout_console
from vaultexec.cli.failures import (
    EXIT_CODES,
    CommandStopped,
    abort_outcome,
    exit_code_for,
    redact_secrets,
    redact_urls,
    report_failure,
    run_script,
    stderr_console,
)
from vaultexec.cli.markets import MarketRequest, check_router_option
from vaultexec.cli.session import check_env_var_name, describe_env_var, looks_like_secret
from vaultexec.cli.tables import DISPLAY_DIGITS, short_number, trades_table
from vaultexec.cli.trading import MAX_UINT256, check_raw_amount, make_trade, parse_slippage_percent
from vaultexec.cli.vaultconfig import (
    ConfigRequest,
    RawSpendLimit,
    config_from_mapping,
    load_config_file,
    resolve_config,
)
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier

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


@pytest.mark.parametrize("name", [
    "ab" * 32,  # a private key without 0x, starting with a letter: a valid identifier
    "0x" + "ab" * 32,
    "KEY_" + "0123456789abcdef" * 2,  # 32 hex digits inside a name
    "A" * 65,  # too long for a variable name
    "hunter2 pass", "pa$$word",
])
def test_env_var_name_refuses_key_material_and_never_echoes_it(name: str) -> None:
    with pytest.raises(errors.BadInputError) as raised:
        check_env_var_name(name, "--private-key-env")
    assert name not in str(raised.value)
    assert looks_like_secret(name)


def test_only_upper_case_variable_names_are_repeated() -> None:
    assert describe_env_var("MY_KEY_2", "--private-key-env") == "MY_KEY_2"
    hidden = describe_env_var("hunter2", "--keystore-password-env")
    assert "hunter2" not in hidden and "--keystore-password-env" in hidden


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("rediss://user:s3cret@host:6380/1?durability=relaxed", "rediss://user:***@host:6380/1?durability=relaxed"),
    ("redis://host:6379/0?password=s3cret&db=1", "redis://host:6379/0?password=***&db=1"),
    ("sqlite:///tmp/store.db", "sqlite:///tmp/store.db"),
    ("https://user:s3cret@rpc.example/v2?apikey=s3cret", "https://user:***@rpc.example/v2?apikey=***"),
])
def test_url_passwords_are_redacted(url: str, shown: str) -> None:
    assert redact_urls(f"store {url!r} failed") == f"store {shown!r} failed"


def test_every_vaultexec_error_class_has_an_exit_code() -> None:
    classes = [cls for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.VaultExecError) and cls is not errors.VaultExecError]
    for cls in classes:
        assert exit_code_for(cls.__new__(cls)) != 1, cls.__name__
    assert exit_code_for(errors.PriceMovedError("moved")) == 14


@pytest.mark.parametrize(("data", "needle"), [
    ({"pools": ["x"]}, "`pools[0]` must be a table"),
    ({"pools": "x"}, "`pools` must be a list of tables"),
    ({"tokens": "x"}, "`tokens` must be a table"),
    ({"tokens": {"USDC": 5}}, "`tokens.USDC` must be a string, not an integer (5)"),
    ({"spend_limits": [1]}, "`spend_limits[0]` must be a table"),
    ({"assets": "USDC"}, "`assets` must be a list of strings"),
    ({"assets": ["USDC", 1]}, "`assets[1]` must be a string"),
    ({"routers": ["0x1"]}, "`routers` must be a table"),
    ({"deployment": {"v3_factory": True}}, "`deployment.v3_factory` must be a string"),
    ({"pools": [{"router": 1, "tokens": ["A", "B"]}]}, "pools[0]: write router"),
    ({"spend_limits": [{"asset": 1, "capacity": "1", "refill_period": 1}]}, "spend_limits[0]: write asset"),
])
def test_config_mapping_checks_the_type_of_every_key(data: dict[str, object], needle: str) -> None:
    with pytest.raises(errors.BadInputError) as raised:
        config_from_mapping(data, "cfg")
    assert needle in str(raised.value)


def test_config_file_that_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text('["USDC"]')
    with pytest.raises(errors.BadInputError, match="must hold a table of settings"):
        load_config_file(path)


USDC_ASSET = AssetIdentifier(1, USDC, "USDC", 6)


@pytest.mark.parametrize(("amount", "needle"), [(Decimal("1e72"), "more than any token can hold"),
                                                (Decimal("1e400"), "more than any token can hold"),
                                                (Decimal("0.0000001"), "less than the token's smallest unit")])
def test_amounts_must_fit_in_raw_units(amount: Decimal, needle: str) -> None:
    with pytest.raises(errors.BadInputError, match=needle):
        check_raw_amount(amount, USDC_ASSET)


def test_largest_raw_amount_is_accepted() -> None:
    top = USDC_ASSET.convert_to_decimal(MAX_UINT256)
    assert check_raw_amount(top, USDC_ASSET) == MAX_UINT256
    with pytest.raises(errors.BadInputError):
        check_raw_amount(USDC_ASSET.convert_to_decimal(MAX_UINT256 + 1), USDC_ASSET)


def test_router_option_must_be_an_address() -> None:
    with pytest.raises(errors.BadInputError, match="--router 'notanaddress' is not an address"):
        check_router_option("notanaddress")
    assert check_router_option(USDC.lower()) == USDC_ASSET.address


def raised_from_keyboard_interrupt() -> click.exceptions.Abort:
    """An Abort as click raises it for Ctrl-C: `raise Abort() from KeyboardInterrupt`."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise click.exceptions.Abort from interrupt
    except click.exceptions.Abort as abort:
        return abort


def test_an_interrupt_is_never_reported_as_nothing_sent() -> None:
    message, code = abort_outcome(raised_from_keyboard_interrupt())
    assert code == 130
    assert "vaultexec resume" in message and "nothing was sent" not in message
    assert abort_outcome(CommandStopped("Aborted: nothing was sent.", 1)) == ("Aborted: nothing was sent.", 1)
    assert abort_outcome(click.exceptions.Abort())[1] == 1


def test_error_output_shows_text_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)  # emoji and markup on: report_failure must not use them
    report_failure(errors.BadInputError("--spend-limit USDC:abc:60 [/x] [bold]"), False, [], console)
    assert buffer.getvalue() == "error (bad input): --spend-limit USDC:abc:60 [/x] [bold]\n"
    stderr_console().print("USDC:abc:60 [/x] :smile:")
    assert capsys.readouterr().err == "USDC:abc:60 [/x] :smile:\n"


def test_tables_show_chain_text_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    usdc, weth = USDC_ASSET, AssetIdentifier(1, "0x" + "22" * 20, "[/W]:abc:", 18)
    pair = TradingPairIdentifier(weth, usdc, "0x" + "33" * 20, "0x" + "44" * 20, 500, ExchangeKind.uniswap_v3)
    trade = make_trade(1, pair, True, Decimal(100), Decimal("0.005"))
    stdout_console().print(trades_table([trade], "t"))
    assert "[/W]:abc:" in capsys.readouterr().out


@pytest.mark.parametrize(("fee", "via_fee", "needle"), [(2**24, None, "--fee: fee 16777216 outside 0..999999"),
                                                        (-1, None, "--fee: fee -1 outside"),
                                                        (500, 2**30, "--via-fee: fee 1073741824 outside")])
def test_fee_tiers_are_checked_when_typed(fee: int, via_fee: int | None, needle: str) -> None:
    with pytest.raises(errors.BadInputError, match=needle):
        MarketRequest("WETH", "USDC", "v3", fee, "WBTC" if via_fee else None, via_fee)


def _broken_script() -> int:
    raise RuntimeError("something vaultexec did not expect")


@pytest.mark.parametrize("verbose", [False, True])
def test_a_script_failure_that_is_not_ours_is_one_line_too(verbose: bool, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["script.py", *(["--verbose"] if verbose else [])])
    with pytest.raises(SystemExit) as stopped:
        run_script(_broken_script)
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == ("error (internal error): RuntimeError: something vaultexec did not "
                                            "expect (a bug in vaultexec? rerun with --verbose for details)")
    assert ("Traceback" in err) is verbose
