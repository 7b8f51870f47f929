"""Transaction fees and gas limits: EIP-1559 fees from the latest block, legacy gas price, bumps.

Fees are computed once per batch (one batched request) and applied to every transaction in it.

EIP-1559 rule: `max_fee_per_gas = FEE_HEADROOM * base_fee + priority_fee`. The base fee can rise by at
most 12.5 % per block, so a headroom of 2 keeps the transaction includable for at least six full blocks
in a row; the unused part of the max fee is never charged. The priority fee is the node's
`eth_maxPriorityFeePerGas`, raised to the chain's minimum (`MIN_PRIORITY_FEE_WEI`, or a `FeePolicy`'s).
Chains whose latest block has no base fee (or whose policy says legacy) get a legacy `gas_price` from
`eth_gasPrice` (also raised to the minimum).

Fee cap (`FeePolicy.max_fee`): when the fee a transaction needs now (base fee + tip, or the legacy gas
price) is above it, `quote_fees` raises `FeeCapExceededError` -- before anything is signed; otherwise the
max fee is lowered to the cap (headroom is given up before the cap is passed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from vaultexec.chain.rpc import Reply, RPCClient
from vaultexec.errors import FeeCapExceededError

logger = logging.getLogger(__name__)

GWEI = 10**9
FEE_HEADROOM = 2
#: Replacement bump: nodes accept a same-nonce replacement only with >= 10 % higher fees; we use 12.5 %.
REPLACEMENT_BUMP_NUMERATOR = 9
REPLACEMENT_BUMP_DENOMINATOR = 8
#: ... and the least a node accepts (geth's default price bump: 10 % on the max fee and the tip).
REPLACEMENT_MIN_NUMERATOR = 11
REPLACEMENT_MIN_DENOMINATOR = 10
#: Gas limit margin over the pre-flight estimate (state may change between estimate and inclusion).
GAS_LIMIT_MARGIN_NUMERATOR = 6
GAS_LIMIT_MARGIN_DENOMINATOR = 5

#: Smallest priority fee (wei) we offer per chain id: below it validators ignore or reject transactions.
MIN_PRIORITY_FEE_WEI: dict[int, int] = {
    1: GWEI // 10,  # Ethereum: 0.1 gwei gets included in practice
    10: 10**6,  # OP Mainnet: 0.001 gwei
    56: GWEI // 10,  # BNB Chain: 0.1 gwei network minimum
    137: 30 * GWEI,  # Polygon PoS: validators refuse tips under 25-30 gwei
    8453: 10**6,  # Base: 0.001 gwei
    42161: 0,  # Arbitrum: no priority auction
    43114: 10**9,  # Avalanche C-chain: 1 gwei
    80002: 25 * GWEI,  # Polygon Amoy testnet
    31337: 0,  # anvil / hardhat dev chains
}
DEFAULT_MIN_PRIORITY_FEE_WEI = 10**6


@dataclass(frozen=True)
class FeePolicy:
    """One chain's fee rules (wei per gas): the tip floor, an optional cap on the max fee, legacy pricing.

    The registry of per-chain policies is `dex.deployments.fee_policy`; this is the arithmetic's input."""

    min_priority_fee: int = DEFAULT_MIN_PRIORITY_FEE_WEI
    #: The most a transaction may offer per gas (max fee, or legacy gas price); None: no cap.
    max_fee: int | None = None
    #: Price with a legacy `gasPrice` even when the chain's blocks carry a base fee.
    legacy: bool = False

    @classmethod
    def for_chain(cls, chain_id: int) -> FeePolicy:
        """The built-in tip floor of `chain_id`, no cap."""
        return cls(min_priority_fee=min_priority_fee(chain_id))


@dataclass(frozen=True)
class FeeQuote:
    """Fees for one batch, wei per gas. Either the EIP-1559 pair or `gas_price` is set."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None
    #: Base fee of the block the quote was made from (None on legacy chains).
    base_fee: int | None = None
    #: Number of the block the quote was made from, when known (transactions signed with it land after it).
    block_number: int | None = field(default=None, compare=False)

    @property
    def is_eip1559(self) -> bool:
        return self.max_fee_per_gas is not None

    @property
    def max_price(self) -> int:
        """The most this quote lets a transaction pay per gas."""
        return self.max_fee_per_gas if self.max_fee_per_gas is not None else self.gas_price or 0

    def tx_fields(self) -> dict[str, Any]:
        """The fee fields of a transaction dict for eth-account (sets the type)."""
        if self.is_eip1559:
            return {"type": 2, "maxFeePerGas": self.max_fee_per_gas,
                    "maxPriorityFeePerGas": self.max_priority_fee_per_gas}
        return {"gasPrice": self.gas_price}


def min_priority_fee(chain_id: int) -> int:
    return MIN_PRIORITY_FEE_WEI.get(chain_id, DEFAULT_MIN_PRIORITY_FEE_WEI)


def quote_fees(base_fee: int | None, priority_fee: int | None, gas_price: int | None, chain_id: int,
               headroom: int = FEE_HEADROOM, policy: FeePolicy | None = None) -> FeeQuote:
    """Fees from the market figures (pure arithmetic; see the module docstring for the rule and the cap)."""
    policy = policy or FeePolicy.for_chain(chain_id)
    floor = policy.min_priority_fee
    if base_fee is None or policy.legacy:
        if gas_price is None:
            raise ValueError("a legacy chain needs a gas price")
        price = max(gas_price, floor)
        _check_cap(price, policy, chain_id, f"gas price {_gwei(price)}")
        return FeeQuote(gas_price=price)
    priority = max(priority_fee or 0, floor)
    _check_cap(base_fee + priority, policy, chain_id, f"base fee {_gwei(base_fee)} + tip {_gwei(priority)}")
    max_fee = headroom * base_fee + priority
    if policy.max_fee is not None:
        max_fee = min(max_fee, policy.max_fee)
    return FeeQuote(max_fee_per_gas=max_fee, max_priority_fee_per_gas=priority, base_fee=base_fee)


def _check_cap(needed: int, policy: FeePolicy, chain_id: int, what: str) -> None:
    if policy.max_fee is not None and needed > policy.max_fee:
        raise FeeCapExceededError(
            f"Chain {chain_id} needs {_gwei(needed)} per gas now ({what}), above the fee cap of "
            f"{_gwei(policy.max_fee)}: nothing was signed. Wait for lower fees, or raise the cap "
            "(FeePolicy.max_fee: ExecutorConfig(fee_policy=...) or dex.deployments.register_fee_policy).",
            needed, policy.max_fee)


def _gwei(wei: int) -> str:
    return f"{wei / GWEI:.9g} gwei"


def cap_replacement_fees(fees: FeeQuote, policy: FeePolicy | None) -> FeeQuote:
    """`fees` (a replacement's bump) lowered to the policy's cap, tip too (whether that is still a bump
    a node accepts is the caller's check)."""
    if policy is None or policy.max_fee is None or fees.max_price <= policy.max_fee:
        return fees
    cap = policy.max_fee
    if not fees.is_eip1559:
        return FeeQuote(gas_price=cap)
    assert fees.max_priority_fee_per_gas is not None
    return FeeQuote(max_fee_per_gas=cap, max_priority_fee_per_gas=min(fees.max_priority_fee_per_gas, cap),
                    base_fee=fees.base_fee)


def fetch_fees(client: RPCClient, chain_id: int, headroom: int = FEE_HEADROOM,
               policy: FeePolicy | None = None) -> FeeQuote:
    """Quote fees from the latest block: one batched request (latest block, priority fee); only a chain whose
    latest block has no base fee is asked its legacy gas price (a second request), and a legacy policy only
    that. `FeeCapExceededError` when the policy's cap is below what the chain needs now."""
    policy = policy or FeePolicy.for_chain(chain_id)
    if policy.legacy:
        return quote_fees(None, None, _gas_price(client.batch([("eth_gasPrice", [])])[0]), chain_id, headroom,
                          policy)
    block, priority = client.batch([
        ("eth_getBlockByNumber", ["latest", False]),
        ("eth_maxPriorityFeePerGas", []),
    ])
    base_fee_hex = (block.value() or {}).get("baseFeePerGas")
    priority_fee = int(priority.result, 16) if priority.error is None and priority.result else None
    legacy_price = None if base_fee_hex else _gas_price(client.batch([("eth_gasPrice", [])])[0])
    quote = quote_fees(int(base_fee_hex, 16) if base_fee_hex else None, priority_fee, legacy_price, chain_id,
                       headroom, policy)
    number = (block.result or {}).get("number")
    if isinstance(number, str):
        quote = replace(quote, block_number=int(number, 16))
    logger.debug("fees for chain %d: %s", chain_id, quote)
    return quote


def _gas_price(reply: Reply) -> int | None:
    return int(reply.result, 16) if reply.error is None and reply.result else None


def bump_fees(previous: FeeQuote, market: FeeQuote | None = None) -> FeeQuote:
    """Fees for a same-nonce replacement: at least 12.5 % above `previous` (rounded up), or the market's
    current quote if that is higher. Rounding up keeps the bump above the node's 10 % threshold."""
    def bumped(value: int) -> int:
        return -(-value * REPLACEMENT_BUMP_NUMERATOR // REPLACEMENT_BUMP_DENOMINATOR) + 1

    if previous.is_eip1559:
        assert previous.max_fee_per_gas is not None and previous.max_priority_fee_per_gas is not None
        max_fee = bumped(previous.max_fee_per_gas)
        priority = bumped(previous.max_priority_fee_per_gas)
        if market is not None and market.is_eip1559:
            max_fee = max(max_fee, market.max_fee_per_gas or 0)
            priority = max(priority, market.max_priority_fee_per_gas or 0)
        return FeeQuote(max_fee_per_gas=max(max_fee, priority), max_priority_fee_per_gas=priority,
                        base_fee=market.base_fee if market is not None else previous.base_fee)
    assert previous.gas_price is not None
    price = bumped(previous.gas_price)
    if market is not None:
        price = max(price, market.gas_price or 0)
    return FeeQuote(gas_price=price)


def least_replacement_fees(previous: FeeQuote) -> FeeQuote:
    """The lowest fees a node accepts for a same-nonce replacement of `previous`: +10 %, rounded up."""
    def raised(value: int) -> int:
        return -(-value * REPLACEMENT_MIN_NUMERATOR // REPLACEMENT_MIN_DENOMINATOR)

    if previous.is_eip1559:
        assert previous.max_fee_per_gas is not None and previous.max_priority_fee_per_gas is not None
        return FeeQuote(max_fee_per_gas=raised(previous.max_fee_per_gas),
                        max_priority_fee_per_gas=raised(previous.max_priority_fee_per_gas),
                        base_fee=previous.base_fee)
    assert previous.gas_price is not None
    return FeeQuote(gas_price=raised(previous.gas_price))


def fit_replacement_fees(previous: FeeQuote, bumped: FeeQuote, budget: int, gas_limit: int,
                         value: int = 0) -> FeeQuote | None:
    """`bumped` if `budget` wei pays its worst case (`gas_limit` x max fee + `value`), else the max fee
    lowered to what the budget pays (tip capped to it); None when even `least_replacement_fees(previous)`
    is beyond the budget: a node would refuse that replacement for insufficient funds."""
    if gas_limit <= 0:
        raise ValueError(f"gas limit must be positive, got {gas_limit}")
    affordable = max(0, budget - value) // gas_limit
    if bumped.max_price <= affordable:
        return bumped
    least = least_replacement_fees(previous)
    if least.max_price > affordable:
        return None
    if not bumped.is_eip1559:
        return FeeQuote(gas_price=affordable)
    assert bumped.max_priority_fee_per_gas is not None
    return FeeQuote(max_fee_per_gas=affordable,
                    max_priority_fee_per_gas=min(bumped.max_priority_fee_per_gas, affordable),
                    base_fee=bumped.base_fee)


def gas_limit_from_estimate(estimate: int) -> int:
    """Gas limit for a transaction whose pre-flight estimate is `estimate`: +20 %, rounded up."""
    return -(-estimate * GAS_LIMIT_MARGIN_NUMERATOR // GAS_LIMIT_MARGIN_DENOMINATOR)
