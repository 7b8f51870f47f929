"""The price check of a settled trade as recorded in its notes: written by the sandwich check at settlement,
read back by `vaultexec status` and the CSV export (pure data, no I/O).

One note line per checked trade. Two comparisons, kept apart on purpose:

- against the **start of the block** (the trade's own route quoted at `block - 1`): what the trade lost
  beyond what the state before its block promised. Fee and price impact are in both prices, so a clean
  trade shows ~0; this difference, above the threshold, is what flags a sandwich (`loss`, reserve units).
- against the **vault's oracle** (its feeds / TWAPs at `block - 1`): executed vs oracle in bps and in value.
  It is never 0 (the pool fee, the impact and the pool's own deviation from the oracle are in it), so it is
  recorded and reported, not used to flag. Its price of the reserve values the loss in USD (`loss_usd`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from vaultexec.model.safetext import escape_text

#: Start of the note of a trade whose executed price is worse than the start-of-block reference by more than
#: the threshold.
SANDWICH_NOTE = "sandwich suspected"
#: Start of the note of a checked trade that was not flagged.
PRICE_CHECK_NOTE = "price check"


@dataclass(frozen=True)
class OracleDifference:
    """The trade against the vault's oracle at `block - 1`: `bps` > 0 when it executed worse than the oracle;
    `reserve` and `usd` the same difference in reserve units and in the oracle's valuation unit (USD);
    `price` the oracle's price (reserve per base); `loss_usd` the start-of-block loss valued at the oracle."""

    price: Decimal
    bps: Decimal
    reserve: Decimal
    usd: Decimal
    loss_usd: Decimal


@dataclass(frozen=True)
class PriceCheckRecord:
    """One trade's price check (module doc); `adverse` is a fraction, `loss` in reserve units (> 0: lost)."""

    flagged: bool
    executed: Decimal
    reference: Decimal
    source: str
    adverse: Decimal
    loss: Decimal
    symbol: str
    threshold: Decimal
    oracle: OracleDifference | None = None

    def note(self) -> str:
        """The note line (the reserve symbol escaped: chain text, kept on one line and unable to forge a part)."""
        symbol = note_symbol(self.symbol)
        text = (f"executed price {plain(self.executed, 8)} vs {plain(self.reference, 8)} ({self.source}): "
                f"{_fixed(self.adverse * 100, 4)} % worse, {plain(self.loss, 8)} {symbol}")
        oracle = self.oracle
        if self.flagged:
            valued = f" ({_fixed(oracle.loss_usd, 2)} USD at the vault's oracle)" if oracle is not None else ""
            text = f"{SANDWICH_NOTE}: {text} lost{valued} (threshold {(self.threshold * 100).normalize():f} %)"
        else:
            text = f"{PRICE_CHECK_NOTE}: {text}"
        if oracle is not None:
            text += (f"; vault oracle price {plain(oracle.price, 8)}: {_fixed(oracle.bps, 2)} bps worse than the "
                     f"oracle ({plain(oracle.reserve, 8)} {symbol}, {_fixed(oracle.usd, 2)} USD)")
        return text


def plain(value: Decimal, digits: int) -> str:
    """`value` to `digits` significant digits in fixed-point notation (no exponent, no "-0")."""
    if not value:
        return "0"
    rounded = Decimal(f"{value:.{digits}g}")
    text = f"{rounded.normalize():f}" if rounded == rounded.to_integral_value() else f"{rounded:f}"
    return text.removeprefix("-") if Decimal(text) == 0 else text


def _fixed(value: Decimal, places: int) -> str:
    """`value` with `places` decimals; a value that rounds to zero is "0.00..", never "-0.00.."."""
    text = f"{value:.{places}f}"
    return text.removeprefix("-") if Decimal(text) == 0 else text


def note_symbol(symbol: str) -> str:
    """A token symbol as a note holds it: `escape_text`, and `;` `(` `)` (the note's separators) as escapes."""
    return escape_text(symbol).replace(";", "\\x3b").replace("(", "\\x28").replace(")", "\\x29")


_NUMBER = r"-?[0-9][0-9.]*(?:[eE][+-]?[0-9]+)?"
_NOTE = re.compile(
    rf"(?P<kind>{SANDWICH_NOTE}|{PRICE_CHECK_NOTE}): executed price (?P<executed>{_NUMBER}) vs "
    rf"(?P<reference>{_NUMBER}) \((?P<source>[^)]*)\): (?P<adverse>{_NUMBER}) % worse, (?P<loss>{_NUMBER}) "
    rf"(?P<symbol>[^;()]+?)(?: lost(?: \((?P<loss_usd>{_NUMBER}) USD at the vault's oracle\))? "
    rf"\(threshold (?P<threshold>{_NUMBER}) %\))?"
    rf"(?:; vault oracle price (?P<oracle>{_NUMBER}): (?P<bps>{_NUMBER}) bps worse than the oracle "
    rf"\((?P<oracle_reserve>{_NUMBER}) [^;()]+?, (?P<oracle_usd>{_NUMBER}) USD\))?$")


def parse_note(line: str) -> PriceCheckRecord | None:
    """The record of a note line written by `PriceCheckRecord.note` (None for any other line). Numbers are
    as written in the note (rounded for reading: 6-8 significant digits)."""
    match = _NOTE.match(line)
    if match is None:
        return None
    try:
        number = {name: Decimal(value) for name, value in match.groupdict().items()
                  if value is not None and name not in ("kind", "source", "symbol")}
    except InvalidOperation:
        return None
    oracle = None
    if "oracle" in number:
        oracle = OracleDifference(number["oracle"], number["bps"], number["oracle_reserve"], number["oracle_usd"],
                                  number.get("loss_usd", Decimal(0)))
    return PriceCheckRecord(match["kind"] == SANDWICH_NOTE, number["executed"], number["reference"],
                            match["source"], number["adverse"] / 100, number["loss"], match["symbol"],
                            number.get("threshold", Decimal(0)) / 100, oracle)


def price_checks(notes: str | None) -> list[tuple[str, PriceCheckRecord]]:
    """Every price check recorded in a trade's notes, as (note line, record); the last is the current one."""
    found = ((line, parse_note(line)) for line in (notes or "").splitlines())
    return [(line, record) for line, record in found if record is not None]
