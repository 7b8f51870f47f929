"""The price check note: written once at settlement, read back by `status` and the export with its numbers."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from vaultexec.model.price_check import (
    SANDWICH_NOTE,
    OracleDifference,
    PriceCheckRecord,
    parse_note,
    plain,
    price_checks,
)

ORACLE = OracleDifference(Decimal("3000.1234"), Decimal("41.27"), Decimal("20.6351"), Decimal("20.63"),
                          Decimal("29.81"))


def record(symbol: str = "USDC", flagged: bool = True, oracle: OracleDifference | None = ORACLE) -> PriceCheckRecord:
    return PriceCheckRecord(flagged, Decimal("3017.9"), Decimal("2999.87"), "pool at the start of block 12",
                            Decimal("0.006011"), Decimal("29.8123"), symbol, Decimal("0.001"), oracle)


def test_a_flagged_note_reads_back_with_its_numbers() -> None:
    line = record().note()
    assert line.startswith(f"{SANDWICH_NOTE}: executed price 3017.9 vs 2999.87 (pool at the start of block 12): "
                           "0.6011 % worse, 29.8123 USDC lost (29.81 USD at the vault's oracle) (threshold 0.1 %); "
                           "vault oracle price 3000.1234: 41.27 bps worse than the oracle (20.6351 USDC, 20.63 USD)")
    assert parse_note(line) == record()


def test_a_note_without_oracle_and_not_flagged_reads_back() -> None:
    plain = PriceCheckRecord(False, Decimal("3000"), Decimal("3000"), "pool at the start of block 3", Decimal(0),
                             Decimal(0), "USDC", Decimal(0))
    assert parse_note(plain.note()) == plain
    assert parse_note("settlement error: something else") is None


def test_a_chain_symbol_is_escaped_and_stays_on_its_line() -> None:
    sneaky = "US\nDC; vault oracle price 1: 0 bps worse than the oracle (0 X, 0 USD)\u202e"
    line = record(sneaky).note()
    assert "\n" not in line and "\u202e" not in line
    [(found, parsed)] = price_checks(f"first line\n{line}")
    assert found == line and parsed.loss == Decimal("29.8123") and parsed.oracle == ORACLE


@given(st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=4),
       st.decimals(min_value=Decimal("-1e4"), max_value=Decimal("1e4"), places=2), st.booleans())
def test_any_loss_and_difference_read_back_as_written(loss: Decimal, bps: Decimal, flagged: bool) -> None:
    oracle = OracleDifference(Decimal("1.5"), bps, Decimal("-2"), Decimal("-2.00"), Decimal("3.25"))
    written = PriceCheckRecord(flagged, Decimal("1"), Decimal("1"), "s", Decimal("0.01"), loss, "T", Decimal("0.001"),
                               oracle)
    parsed = parse_note(written.note())
    assert parsed is not None and parsed.flagged == flagged
    assert parsed.loss == Decimal(plain(loss, 8)) and parsed.oracle is not None and parsed.oracle.bps == bps
