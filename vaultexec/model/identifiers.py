"""Assets and trading pairs, and the one place where human `Decimal` amounts become raw `int` units."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from vaultexec.errors import BadInputError
from vaultexec.model.addresses import checksum
from vaultexec.model.exact import to_decimal
from vaultexec.model.extra import ExecutorExtra
from vaultexec.model.serialisation import OMIT_EMPTY, JsonModel, check_fields

#: ERC-20 `decimals()` is a uint8.
MAX_DECIMALS = 255
#: Uniswap fee tiers are expressed in hundredths of a basis point: 1_000_000 = 100 %.
FEE_DENOMINATOR = 1_000_000


class ExchangeKind(enum.StrEnum):
    """Which protocol a pool speaks."""

    uniswap_v2 = "uniswap_v2"
    uniswap_v3 = "uniswap_v3"


def checksum_address(address: object, what: str) -> str:
    """EIP-55 checksummed form of `address` ("0x" + 40 hex digits).

    All-lowercase or all-uppercase input is checksummed; mixed case must already be correctly checksummed
    (BadInputError otherwise: a wrong checksum usually means a typo, never silently "fixed").
    """
    if not isinstance(address, str):
        raise BadInputError(f"{what}: {address!r:.80} is not an Ethereum address (0x + 40 hex digits)")
    try:
        return str(checksum(address))
    except BadInputError as e:
        raise BadInputError(f"{what}: {e}") from e


def _require_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInputError(f"{what}: expected an int, got {type(value).__name__} {value!r}")
    return value


@dataclass(frozen=True)
class AssetIdentifier(JsonModel):
    """An ERC-20 token on one chain (trade-executor's field names)."""

    chain_id: int
    address: str
    token_symbol: str
    decimals: int
    internal_id: int | None = None
    #: trade-executor fields we do not model (set by `model.compat`); outside eq/hash.
    executor_extra: ExecutorExtra | None = field(default=None, compare=False, repr=False, metadata=OMIT_EMPTY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", checksum_address(self.address, f"{self.token_symbol}.address"))
        check_fields(self)
        self.validate()

    def validate(self) -> None:
        if self.chain_id <= 0:
            raise BadInputError(f"{self.token_symbol}: chain id {self.chain_id} must be positive")
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise BadInputError(f"{self.token_symbol}: decimals {self.decimals} outside 0..{MAX_DECIMALS}")

    def _to_raw_fraction(self, amount: Decimal) -> Fraction:
        value = to_decimal(amount, f"{self.token_symbol} amount")
        return Fraction(value) * int(10**self.decimals)

    def convert_to_raw_floor(self, amount: Decimal) -> int:
        """Raw units of `amount`, rounded toward minus infinity (use for what we spend)."""
        return math.floor(self._to_raw_fraction(amount))

    def convert_to_raw_ceil(self, amount: Decimal) -> int:
        """Raw units of `amount`, rounded toward plus infinity (use for minimum receives)."""
        return math.ceil(self._to_raw_fraction(amount))

    def convert_to_decimal(self, raw: int) -> Decimal:
        """Exact human amount of `raw` units (exponent = -decimals, no context rounding)."""
        raw = _require_int(raw, f"{self.token_symbol} raw amount")
        sign = 1 if raw < 0 else 0
        digits = tuple(int(d) for d in str(abs(raw)))
        return Decimal((sign, digits, -self.decimals))

    def __str__(self) -> str:
        return f"{self.token_symbol} ({self.address} on chain {self.chain_id})"


@dataclass(frozen=True)
class TradingPairIdentifier(JsonModel):
    """A base/quote pair traded on one pool, optionally routed through an intermediary pair.

    `fee` is the pool fee tier in hundredths of a basis point (3000 = 0.3 %), `exchange_address` the
    router. A three-way pair (e.g. WBTC/USDC routed USDC -> WETH -> WBTC) has `pool_address`/`fee` of the
    base/intermediary pool (WBTC/WETH) and `intermediary_pair` = the intermediary/quote pair (WETH/USDC).
    """

    base: AssetIdentifier
    quote: AssetIdentifier
    pool_address: str
    exchange_address: str
    fee: int
    kind: ExchangeKind
    internal_id: int | None = None
    exchange_name: str | None = None
    intermediary_pair: TradingPairIdentifier | None = None
    #: trade-executor fields we do not model (set by `model.compat`); outside eq/hash.
    executor_extra: ExecutorExtra | None = field(default=None, compare=False, repr=False, metadata=OMIT_EMPTY)

    def __post_init__(self) -> None:
        check_fields(self)
        ticker = f"{self.base.token_symbol}/{self.quote.token_symbol}"
        object.__setattr__(self, "pool_address", checksum_address(self.pool_address, f"{ticker} pool"))
        object.__setattr__(self, "exchange_address", checksum_address(self.exchange_address, f"{ticker} exchange"))
        self.validate()

    def validate(self) -> None:
        ticker = f"{self.base.token_symbol}/{self.quote.token_symbol}"
        if not 0 <= self.fee < FEE_DENOMINATOR:
            raise BadInputError(f"{ticker}: fee tier {self.fee} outside 0..{FEE_DENOMINATOR - 1}")
        if self.base.address == self.quote.address:
            raise BadInputError(f"{ticker}: base and quote are the same token {self.base.address}")
        chains = {asset.chain_id for asset in self.get_all_assets()}
        if len(chains) != 1:
            raise BadInputError(f"{ticker}: assets span several chains {sorted(chains)}; one chain only")
        middle = self.intermediary_pair
        if middle is not None:
            if middle.intermediary_pair is not None:
                raise BadInputError(f"{ticker}: routes longer than three tokens are not supported")
            if middle.quote != self.quote:
                raise BadInputError(
                    f"{ticker}: intermediary pair {middle.get_ticker()} must be quoted in "
                    f"{self.quote.token_symbol}, the pair's quote"
                )
            if middle.base.address in (self.base.address, self.quote.address):
                raise BadInputError(f"{ticker}: intermediary token {middle.base.token_symbol} repeats")

    @property
    def chain_id(self) -> int:
        return self.base.chain_id

    def get_all_assets(self) -> list[AssetIdentifier]:
        """Base, quote and the intermediary token if any."""
        assets = [self.base, self.quote]
        if self.intermediary_pair is not None:
            assets.append(self.intermediary_pair.base)
        return assets

    def get_ticker(self) -> str:
        """E.g. "WETH-USDC", or "WBTC-WETH-USDC" for a three-way route."""
        if self.intermediary_pair is None:
            return f"{self.base.token_symbol}-{self.quote.token_symbol}"
        middle = self.intermediary_pair.base.token_symbol
        return f"{self.base.token_symbol}-{middle}-{self.quote.token_symbol}"

    def get_fee_fraction(self) -> Decimal:
        """This pool's fee as a fraction (3000 -> 0.003); exact."""
        return Decimal(self.fee) / FEE_DENOMINATOR

    def is_three_way(self) -> bool:
        return self.intermediary_pair is not None

    def get_intermediary_asset(self) -> AssetIdentifier | None:
        return None if self.intermediary_pair is None else self.intermediary_pair.base

    def get_route_assets(self, buy: bool) -> list[AssetIdentifier]:
        """Token path in swap order: buy = quote -> [intermediary] -> base, sell the reverse."""
        middle = self.get_intermediary_asset()
        path = [self.quote, *([middle] if middle is not None else []), self.base]
        return path if buy else path[::-1]

    def get_route_pools(self, buy: bool) -> list[tuple[str, int]]:
        """(pool address, fee tier) per hop in swap order."""
        hops = [(self.pool_address, self.fee)]
        if self.intermediary_pair is not None:
            hops.insert(0, (self.intermediary_pair.pool_address, self.intermediary_pair.fee))
        return hops if buy else hops[::-1]

    def __str__(self) -> str:
        return f"<{self.get_ticker()} {self.kind.value} pool {self.pool_address} fee {self.fee}>"
