"""Every bad input of the issue: a typed error naming the trade and the numbers, and nothing sent."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import asset, make_trade, nonce, world_pairs
from web3 import Web3
from web3.contract import Contract

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
    """Plan `trade` with the given routing pairs, expect `error`; checks the asset manager sent nothing."""
    start = nonce(web3, asset_manager)

    def check(trade: TradeExecution, error: type[VaultExecError], *fragments: str,
              routing_pairs: list[TradingPairIdentifier] | None = None) -> VaultExecError:
        routing = VaultRouting(web3, vault.address, asset_manager.address, routing_pairs or list(pairs.values()))
        with pytest.raises(error) as info:
            routing.setup_trades([trade])
        message = str(info.value)
        assert f"trade #{trade.trade_id}" in message or "Vault" in message
        for fragment in fragments:
            assert fragment in message, message
        assert trade.is_planned() and trade.blockchain_transactions == []
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
    refuse(trade, RouteNotFoundError, "quotes 0 USDC", "no liquidity")
