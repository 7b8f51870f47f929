"""Fee policy arithmetic: tip floor, fee cap (clamp or refusal), legacy pricing, capped replacements, registry."""

from __future__ import annotations

import pytest

from vaultexec.chain.gas import GWEI, FeePolicy, FeeQuote, quote_fees
from vaultexec.chain.replacement import replacement_fees
from vaultexec.dex.deployments import MAX_FEE_WEI, POLYGON, fee_policy, register_fee_policy
from vaultexec.errors import FeeCapExceededError
from vaultexec.model.transaction import BlockchainTransaction


def test_the_cap_lowers_the_headroom_before_it_refuses() -> None:
    policy = FeePolicy(min_priority_fee=2 * GWEI, max_fee=25 * GWEI)
    quote = quote_fees(20 * GWEI, GWEI, None, chain_id=1, policy=policy)
    assert quote.max_priority_fee_per_gas == 2 * GWEI  # the floor, above the node's 1 gwei
    assert quote.max_fee_per_gas == 25 * GWEI  # 2 x 20 + 2 = 42 gwei, clamped to the cap
    with pytest.raises(FeeCapExceededError, match=r"24 gwei per gas now \(base fee 22 gwei \+ tip 2 gwei\), "
                                                  r"above the fee cap of 23 gwei: nothing was signed"):
        quote_fees(22 * GWEI, GWEI, None, chain_id=1, policy=FeePolicy(2 * GWEI, max_fee=23 * GWEI))


def test_legacy_pricing_by_policy_and_its_cap() -> None:
    policy = FeePolicy(min_priority_fee=30 * GWEI, legacy=True, max_fee=100 * GWEI)
    assert quote_fees(5 * GWEI, GWEI, 10 * GWEI, chain_id=137, policy=policy) == FeeQuote(gas_price=30 * GWEI)
    with pytest.raises(FeeCapExceededError):
        quote_fees(None, None, 101 * GWEI, chain_id=137, policy=policy)


def test_a_replacement_never_passes_the_cap() -> None:
    tx = BlockchainTransaction(max_fee_per_gas=40 * GWEI, max_priority_fee_per_gas=2 * GWEI, gas_limit=100_000,
                               details={"value": 0})
    market = FeeQuote(max_fee_per_gas=41 * GWEI, max_priority_fee_per_gas=2 * GWEI, base_fee=19 * GWEI)
    budget = 10**20
    capped = replacement_fees(tx, market, budget, FeePolicy(GWEI, max_fee=44 * GWEI))
    assert capped is not None and capped.max_fee_per_gas == 44 * GWEI  # the 12.5 % bump (45 gwei + 1), capped
    assert replacement_fees(tx, market, budget, FeePolicy(GWEI, max_fee=43 * GWEI)) is None  # < +10 %: no bump
    uncapped = replacement_fees(tx, market, budget)
    assert uncapped is not None and uncapped.max_fee_per_gas == 45 * GWEI + 1


def test_registry_defaults_and_overrides() -> None:
    polygon = fee_policy(POLYGON)
    assert polygon.min_priority_fee == 30 * GWEI and polygon.max_fee == MAX_FEE_WEI[POLYGON]
    assert fee_policy(POLYGON, max_fee=GWEI).max_fee == GWEI
    assert fee_policy(31337).max_fee is None
    register_fee_policy(999_001, FeePolicy(min_priority_fee=7, max_fee=9, legacy=True))
    assert fee_policy(999_001) == FeePolicy(7, 9, True)
    assert fee_policy(999_001, min_priority_fee=8).min_priority_fee == 8
