"""Every bad input of the issue: a typed error naming the trade and the numbers, and nothing signed or sent.

Each refusal goes through `setup_trades` with the asset manager's HotWallet, nonce already synced: a
signature before the refusal would move the wallet's next nonce.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import asset, make_trade, nonce, synced_wallet, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import (
    BadInputError,
    ConfigurationError,
    GuardRefusedError,
    InsufficientBalanceError,
    RouteNotFoundError,
    VaultExecError,
)
from vaultexec.execution import VaultRouting
from vaultexec.model import TradeExecution, TradingPairIdentifier
from vaultexec.testing.world import World


@pytest.fixture()
def pairs(world: World) -> dict[str, TradingPairIdentifier]:
    return world_pairs(world)


@pytest.fixture()
def refuse(web3: Web3, vault: Contract, asset_manager: LocalAccount, pairs: dict[str, TradingPairIdentifier]
           ) -> Iterator[Callable[..., VaultExecError]]:
    """Set up `trade` (or a batch) with the given routing pairs and the asset manager's wallet, expect `error`;
    checks nothing was signed (wallet nonce) or sent (chain nonce)."""
    start = nonce(web3, asset_manager)
    wallet = synced_wallet(web3)
    next_nonce = wallet.next_nonce

    def check(trade: TradeExecution | list[TradeExecution], error: type[VaultExecError], *fragments: str,
              routing_pairs: list[TradingPairIdentifier] | None = None) -> VaultExecError:
        trades = trade if isinstance(trade, list) else [trade]
        routing = VaultRouting(web3, vault.address, asset_manager.address, routing_pairs or list(pairs.values()))
        with pytest.raises(error) as info:
            routing.setup_trades(trades, wallet=wallet)
        message = str(info.value)
        assert any(f"trade #{t.trade_id}" in message for t in trades) or "Vault" in message, message
        for fragment in fragments:
            assert fragment in message, message
        assert all(t.is_planned() and t.blockchain_transactions == [] for t in trades)
        assert wallet.next_nonce == next_nonce, "nothing may be signed"
        return info.value

    yield check
    assert nonce(web3, asset_manager) == start, "a refused trade must send nothing"


def test_unknown_pair(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    trade = make_trade(7, pairs["v3_two_hop"], Decimal(1000))
    refuse(trade, RouteNotFoundError, "not in this routing's configuration", routing_pairs=[pairs["v2"]])


def test_pair_on_other_chain(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    pair = pairs["v2"]
    other = dataclasses.replace(pair, base=dataclasses.replace(pair.base, chain_id=999),
                                quote=dataclasses.replace(pair.quote, chain_id=999))
    refuse(make_trade(1, other, Decimal(1000)), ConfigurationError, "chain 999", "chain 31337")


def test_routing_refuses_pairs_of_other_chain(web3: Web3, vault: Contract, asset_manager: LocalAccount,
                                              pairs: dict[str, TradingPairIdentifier]) -> None:
    pair = pairs["v2"]
    other = dataclasses.replace(pair, base=dataclasses.replace(pair.base, chain_id=999),
                                quote=dataclasses.replace(pair.quote, chain_id=999))
    with pytest.raises(ConfigurationError, match="chain 999"):
        VaultRouting(web3, vault.address, asset_manager.address, [other])


def test_token_not_allowed(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                           vault: Contract, deployer: str, world: World) -> None:
    vault.functions.setAssetAllowed(world.weth.address, False).transact({"from": deployer})
    err = refuse(make_trade(1, pairs["v2_three_way"], Decimal(1000)), GuardRefusedError, "WETH",
                 "setAssetAllowed")
    assert world.weth.address in str(err)


def test_pool_not_allowed(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                          vault: Contract, deployer: str, world: World) -> None:
    vault.functions.setPoolAllowed(world.swap_router.address, world.usdc.address, world.weth.address, 500,
                                   False).transact({"from": deployer})
    refuse(make_trade(1, pairs["v3"], Decimal(1000)), GuardRefusedError, "not allowed on router",
           "fee 500", "setPoolAllowed")


def test_router_not_allowed(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                            vault: Contract, deployer: str, world: World) -> None:
    vault.functions.setRouter(world.uniswap_v2_router.address, 0).transact({"from": deployer})
    refuse(make_trade(1, pairs["v2"], Decimal(1000)), GuardRefusedError, world.uniswap_v2_router.address,
           "setRouter")


def test_balance_too_low(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    refuse(make_trade(1, pairs["v2"], Decimal(2_000_000)), InsufficientBalanceError, "needs 2000000",
           "holds 1000000")


@pytest.mark.parametrize("value", [Decimal(0), Decimal(-5), 1.5], ids=["zero", "negative", "float"])
def test_bad_amounts(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                     value: object) -> None:
    trade = make_trade(1, pairs["v2"], Decimal(1000))
    trade.planned_reserve = value  # type: ignore[assignment]  # mutated after the model's own checks
    refuse(trade, BadInputError, "planned_reserve")


def test_zero_quantity(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    trade = make_trade(1, pairs["v2"], Decimal(1000))
    trade.planned_quantity = Decimal(0)
    refuse(trade, BadInputError, "planned_quantity is zero")


@pytest.mark.parametrize("tolerance", [None, Decimal(1), Decimal("-0.01")], ids=["missing", "one", "negative"])
def test_bad_tolerance(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                       tolerance: Decimal | None) -> None:
    trade = make_trade(1, pairs["v2"], Decimal(1000))
    trade.slippage_tolerance = tolerance
    refuse(trade, BadInputError, "tolerance")


def test_decimals_disagree(refuse: Callable[..., VaultExecError], world: World) -> None:
    pairs = world_pairs(world)
    wrong_weth = dataclasses.replace(asset(world, "WETH"), decimals=6)
    pair = dataclasses.replace(pairs["v2"], base=wrong_weth)
    refuse(make_trade(1, pair, Decimal(1000)), BadInputError, "6 decimals", "says 18", routing_pairs=[pair])


def test_quote_zero(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    trade = make_trade(1, pairs["v2"], Decimal(1), buy=False)
    trade.planned_quantity = Decimal("-0.000000000000000001")  # 1 wei of WETH buys 0 raw USDC
    err = refuse(trade, RouteNotFoundError, "quotes 0 USDC", "no liquidity", "via UNISWAP_V2")
    assert "NONE" not in str(err), "the router's kind is known when the quote is judged"


# ---------------------------------------------------------------- price guard settings (planned_max_slippage)

@pytest.mark.parametrize("max_slippage", [Decimal("-0.5"), Decimal(1), Decimal(5)], ids=["negative", "one", "five"])
@pytest.mark.parametrize("buy", [True, False], ids=["buy", "sell"])
def test_max_slippage_out_of_range(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                                   max_slippage: Decimal, buy: bool) -> None:
    """5 used to be accepted and switched the guard off on sells; -0.5 gave a nonsense refusal."""
    trade = make_trade(1, pairs["v2"], Decimal(1000), buy=buy)
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = max_slippage
    refuse(trade, BadInputError, f"planned_max_slippage {max_slippage} outside [0, 1)")


@pytest.mark.parametrize("field", ["planned_mid_price", "planned_price"])
def test_zero_decision_price(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                             field: str) -> None:
    """A zero reference price used to raise decimal.DivisionByZero."""
    trade = make_trade(1, pairs["v3"], Decimal(1000))
    setattr(trade, field, Decimal(0))
    trade.planned_max_slippage = Decimal("0.01")
    refuse(trade, BadInputError, f"{field} 0 is not a price", "USDC per WETH")


# ---------------------------------------------------------------- amounts that are not numbers or too big

@pytest.mark.parametrize(("field", "buy", "value"), [
    ("planned_reserve", True, Decimal("NaN")),
    ("planned_quantity", False, Decimal("NaN")),
    ("planned_quantity", True, Decimal("Infinity")),
], ids=["reserve-nan", "quantity-nan-sell", "quantity-inf"])
def test_non_finite_amounts_in_a_batch(refuse: Callable[..., VaultExecError],
                                       pairs: dict[str, TradingPairIdentifier], field: str, buy: bool,
                                       value: Decimal) -> None:
    """Checked before the batch is sorted (the sort key compares amounts: decimal.InvalidOperation before)."""
    bad = make_trade(2, pairs["v2"], Decimal(1000), buy=buy)
    setattr(bad, field, value)
    refuse([make_trade(1, pairs["v3"], Decimal(1000), buy=False), bad], BadInputError,
           f"trade #2 (WETH-USDC) {field}: {value} is not a finite number")


def test_string_quantity(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    """A str set after construction used to raise TypeError in the sort key."""
    trade = make_trade(1, pairs["v2"], Decimal(1000))
    trade.planned_quantity = "1"  # type: ignore[assignment]
    refuse([make_trade(2, pairs["v2"], Decimal(1000)), trade], BadInputError, "planned_quantity '1' must be a Decimal")


def test_amount_beyond_uint256(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    """1e72 USDC is 1e78 raw units: eth_abi's ValueOutOfBounds before."""
    trade = make_trade(1, pairs["v3"], Decimal(1000))
    trade.planned_reserve = Decimal("1e72")
    refuse(trade, BadInputError, "more than a uint256 holds")


def test_huge_amount_is_a_balance_problem(refuse: Callable[..., VaultExecError],
                                          pairs: dict[str, TradingPairIdentifier]) -> None:
    """1e71 USDC fits a uint256 but no pool takes it; the vault cannot spend it either: that is the error
    (it was reported as "no liquidity")."""
    trade = make_trade(1, pairs["v3"], Decimal(1000))
    trade.planned_reserve = Decimal("1e71")
    err = refuse(trade, InsufficientBalanceError, "holds 1000000")
    assert "liquidity" not in str(err)


# ---------------------------------------------------------------- the vault's state and the configuration

def test_spend_limit_exceeded(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                              vault: Contract, deployer: str, world: World) -> None:
    vault.functions.setSpendLimit(world.usdc.address, 500 * 10**6, 3600).transact({"from": deployer})
    refuse(make_trade(1, pairs["v2"], Decimal(1000)), GuardRefusedError, "spends 1000.000000 USDC",
           "spend limit allows 500.000000")


def test_spend_limit_counts_the_whole_batch(refuse: Callable[..., VaultExecError],
                                            pairs: dict[str, TradingPairIdentifier], vault: Contract, deployer: str,
                                            world: World) -> None:
    vault.functions.setSpendLimit(world.usdc.address, 1500 * 10**6, 3600).transact({"from": deployer})
    refuse([make_trade(1, pairs["v2"], Decimal(1000)), make_trade(2, pairs["v3"], Decimal(1000))],
           GuardRefusedError, "trade #2", "spend limit allows 500.000000")


def test_vault_paused(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier],
                      vault: Contract, deployer: str) -> None:
    vault.functions.pause().transact({"from": deployer})
    refuse(make_trade(1, pairs["v2"], Decimal(1000)), GuardRefusedError, "is paused", "unpauses")


def test_v3_router_without_quoter(refuse: Callable[..., VaultExecError],
                                  pairs: dict[str, TradingPairIdentifier]) -> None:
    unknown = dataclasses.replace(pairs["v3"], exchange_address="0x" + "12" * 20)
    refuse(make_trade(1, unknown, Decimal(1000)), ConfigurationError, "no QuoterV2 known for router",
           "register_deployment", routing_pairs=[unknown])


def test_duplicate_trade_id(refuse: Callable[..., VaultExecError], pairs: dict[str, TradingPairIdentifier]) -> None:
    refuse([make_trade(1, pairs["v2"], Decimal(1000)), make_trade(1, pairs["v3"], Decimal(500))], BadInputError,
           "holds trade id 1 twice")


def test_routing_asset_manager_is_not_the_vaults(web3: Web3, vault: Contract, asset_manager: LocalAccount,
                                                 deployer: str, pairs: dict[str, TradingPairIdentifier]) -> None:
    trade = make_trade(1, pairs["v2"], Decimal(1000))
    before = trade.to_json()
    routing = VaultRouting(web3, vault.address, deployer, list(pairs.values()))
    with pytest.raises(ConfigurationError, match=f"has asset manager {asset_manager.address}, not {deployer}"):
        routing.setup_trades([trade])
    assert trade.to_json() == before


def test_wallet_is_not_the_asset_manager(web3: Web3, vault: Contract, asset_manager: LocalAccount,
                                         pairs: dict[str, TradingPairIdentifier]) -> None:
    start = nonce(web3, asset_manager)
    stranger = HotWallet.from_key("0x" + "22" * 32, web3.eth.chain_id)
    trade = make_trade(1, pairs["v2"], Decimal(1000))
    before = trade.to_json()
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    with pytest.raises(ConfigurationError, match=f"Wallet {stranger.address} is not the vault's asset manager"):
        routing.setup_trades([trade], wallet=stranger)
    assert trade.to_json() == before and stranger.next_nonce is None
    assert nonce(web3, asset_manager) == start
