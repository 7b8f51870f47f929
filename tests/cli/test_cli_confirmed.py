"""The plan the user confirms is the bound of what is sent, and a refusal after the confirmation reports its
own error and exit code (nothing was sent), in `vaultexec trade` and in scripts/trade_one_pair.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import VAULTEXEC, CliResult, assert_one_line_error, clean_env, nonce
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.cli.confirmed import ConfirmedPlanner, failure_reason, raise_if_refused, worse_than_confirmed
from vaultexec.cli.markets import MarketRequest, MarketResolver
from vaultexec.cli.trading import build_executor, make_trade
from vaultexec.dex.deployments import register_world
from vaultexec.errors import PriceMovedError, VaultExecError
from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradingPairIdentifier
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.transaction import BlockchainTransaction
from vaultexec.store import open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World

BUY_V2 = ["trade", "WETH/USDC", "buy", "1000", "--venue", "v2"]
SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
USDC = AssetIdentifier(31337, "0x" + "11" * 20, "USDC", 6)
WETH = AssetIdentifier(31337, "0x" + "22" * 20, "WETH", 18)
PAIR = TradingPairIdentifier(WETH, USDC, "0x" + "33" * 20, "0x" + "44" * 20, 0, ExchangeKind.uniswap_v2)


def swap_on_v2(world: World, sell: str, buy: str, whole_units: int) -> None:
    """Someone swaps `whole_units` of `sell` for `buy` on the V2 pool, moving its price."""
    trader = world.web3.eth.accounts[3]
    raw = whole_units * 10 ** world.decimals(sell)
    world.fund(sell, trader, raw)
    token = world.usdc if sell == "USDC" else world.weth
    token.functions.approve(world.uniswap_v2_router.address, raw).transact({"from": trader})
    path = [token.address, (world.weth if buy == "WETH" else world.usdc).address]
    world.uniswap_v2_router.functions.swapExactTokensForTokens(raw, 1, path, trader, 2**63).transact(
        {"from": trader})


def weth_up(world: World) -> None:
    """WETH ~+2 % on the V2 pool: a buy of WETH now gets less than confirmed (within the world vault's 5 %
    oracle loss cap, so the confirmed-plan bound is what refuses it)."""
    swap_on_v2(world, "USDC", "WETH", 25_000)


# --------------------------------------------------------------------------- the bound itself


def deltas(spend: int, receive: int) -> list[AssetDelta]:
    return [AssetDelta(USDC, -spend), AssetDelta(WETH, receive)]


def test_equal_or_better_fresh_plan_passes_worse_is_refused() -> None:
    trade = make_trade(1, PAIR, True, Decimal(1000), Decimal("0.005"))
    confirmed = deltas(1000 * 10**6, 330 * 10**15)
    assert worse_than_confirmed(trade, deltas(1000 * 10**6, 330 * 10**15), confirmed) is None
    assert worse_than_confirmed(trade, deltas(1000 * 10**6, 331 * 10**15), confirmed) is None
    less = worse_than_confirmed(trade, deltas(1000 * 10**6, 330 * 10**15 - 1), confirmed)
    assert isinstance(less, PriceMovedError)
    assert ("at least 0.329999999999999999 WETH, the confirmed plan up to 1000.000000 USDC for at least "
            "0.330000000000000000 WETH") in str(less)
    assert isinstance(worse_than_confirmed(trade, deltas(1000 * 10**6 + 1, 340 * 10**15), confirmed),
                      PriceMovedError)


def test_failure_reason_never_prints_none() -> None:
    trade = make_trade(1, PAIR, True, Decimal(1000), Decimal("0.005"))
    assert failure_reason(trade) == "no reason recorded"
    trade.add_note("not sent: the vault is paused")
    assert failure_reason(trade) == "not sent: the vault is paused"
    trade.blockchain_transactions = [BlockchainTransaction(revert_reason="Vault is paused")]
    assert failure_reason(trade) == "Vault is paused"


# --------------------------------------------------------------------------- the executor, in process


def executor(anvil: AnvilInstance, world: World, vault: Contract, manager: LocalAccount,
             tmp_path: Path) -> tuple[Callable[[], TradeExecution], ConfirmedPlanner, Decimal]:
    """A V2 WETH/USDC buy planned and confirmed as `vaultexec trade` does; returns (execute it, the planner,
    the confirmed minimum receive)."""
    register_world(world.addresses)
    client = RPCClient(anvil.url)
    web3 = connect_web3(client)
    pair = MarketResolver(web3, world.chain_id, world.addresses.tokens).pair(MarketRequest("WETH", "USDC", "v2"))
    store = open_store(f"sqlite:///{tmp_path}/s.db", vault.address)
    model, planner = build_executor(client, web3, vault.address, HotWallet(manager, world.chain_id), store, [pair])
    trade = make_trade(1, pair, True, Decimal(1000), Decimal("0.005"))
    shown = planner.routing.plan_trades([trade]).plans[0]
    planner.confirm(shown)
    return lambda: model.execute_trades([trade])[0], planner, pair.base.convert_to_decimal(shown.amount_out_min_raw)


def test_requote_worse_than_confirmed_is_refused_and_nothing_sent(anvil: AnvilInstance, web3: Web3, world: World,
                                                                  vault: Contract, asset_manager: LocalAccount,
                                                                  tmp_path: Path) -> None:
    execute, planner, _ = executor(anvil, world, vault, asset_manager, tmp_path)
    weth_up(world)  # the pool moves while the prompt waits
    usdc_before = world.usdc.functions.balanceOf(vault.address).call()
    done = execute()
    assert done.is_failed() and not any(tx.tx_hash for tx in done.blockchain_transactions)
    with pytest.raises(PriceMovedError, match="the pool moved since the plan was confirmed"):
        raise_if_refused(done, planner.refusals)
    assert nonce(web3, asset_manager.address) == 0
    assert world.usdc.functions.balanceOf(vault.address).call() == usdc_before


def test_requote_better_than_confirmed_is_sent(anvil: AnvilInstance, world: World, vault: Contract,
                                               asset_manager: LocalAccount, tmp_path: Path) -> None:
    execute, planner, confirmed_min = executor(anvil, world, vault, asset_manager, tmp_path)
    swap_on_v2(world, "WETH", "USDC", 10)  # WETH cheaper: the buy gets more than confirmed
    done = execute()
    assert done.is_success(), done
    assert planner.refusals == {}
    assert done.executed_quantity is not None and done.executed_quantity > confirmed_min


# --------------------------------------------------------------------------- the real command and script


def answer_prompt(args: list[str], env: dict[str, str] | None, prompt_on_stderr: bool,
                  meanwhile: Callable[[], object]) -> CliResult:
    """Run `args`, wait for its [y/N] prompt, run `meanwhile` (the world changes), then answer yes."""
    process = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stream = process.stderr if prompt_on_stderr else process.stdout
    assert stream is not None
    seen = ""
    while "[y/N]" not in seen:
        char = stream.read(1)
        assert char, f"no prompt; output so far: {seen}"
        seen += char
    meanwhile()
    stdout, stderr = process.communicate("y\n", timeout=120)
    if prompt_on_stderr:
        stderr = seen + stderr
    else:
        stdout = seen + stdout
    return CliResult(process.returncode, stdout, stderr)


def test_trade_refuses_a_requote_worse_than_the_confirmed_plan(cli_env: dict[str, str], world_config: Path,
                                                               web3: Web3, world: World, vault: Contract,
                                                               asset_manager: LocalAccount, store_url: str) -> None:
    args = [VAULTEXEC, *BUY_V2, "--config", str(world_config)]
    result = answer_prompt(args, clean_env(cli_env), True, lambda: weth_up(world))
    assert_one_line_error(result, 14, "error (price moved)", "the pool moved since the plan was confirmed")
    assert "failed:" not in result.stderr
    assert nonce(web3, asset_manager.address) == 0
    stored = open_store(store_url, vault.address).load(1)
    assert stored.is_failed() and "not sent:" in (stored.notes or "")


def test_trade_refused_after_confirmation_exits_with_the_refusal(cli_env: dict[str, str], world_config: Path,
                                                                 web3: Web3, vault: Contract, deployer: str,
                                                                 asset_manager: LocalAccount) -> None:
    args = [VAULTEXEC, *BUY_V2, "--config", str(world_config)]
    pause = lambda: vault.functions.pause().transact({"from": deployer})  # noqa: E731
    result = answer_prompt(args, clean_env(cli_env), True, pause)
    assert_one_line_error(result, 6, "error (guard refused)", "is paused")
    assert "failed: None" not in result.output
    assert nonce(web3, asset_manager.address) == 0


def script_args(anvil: AnvilInstance, world: World, vault: Contract, store_url: str) -> list[str]:
    return [sys.executable, str(SCRIPTS / "trade_one_pair.py"), "--rpc-url", anvil.url, "--vault", vault.address,
            "--base", world.weth.address, "--quote", world.usdc.address, "--router",
            world.uniswap_v2_router.address, "--pool", world.v2_pair("USDC", "WETH"), "--kind", "uniswap_v2",
            "--fee", "0", "--buy", "1000", "--store", store_url]


@pytest.mark.parametrize("change", ["price", "pause"])
def test_trade_one_pair_holds_the_confirmed_plan(anvil: AnvilInstance, world: World, vault: Contract, deployer: str,
                                                 asset_manager: LocalAccount, web3: Web3, tmp_path: Path,
                                                 change: str) -> None:
    env = clean_env({"VAULTEXEC_PRIVATE_KEY": ASSET_MANAGER_KEY})  # the session's lease directory kept
    changes = {"price": (lambda: weth_up(world), 14, "the pool moved since the plan was confirmed"),
               "pause": (lambda: vault.functions.pause().transact({"from": deployer}), 6, "is paused")}
    meanwhile, code, needle = changes[change]
    result = answer_prompt(script_args(anvil, world, vault, f"sqlite:///{tmp_path}/s.db"), env, False, meanwhile)
    assert result.code == code, result.output
    assert "Traceback" not in result.output and "revert reason" not in result.stderr
    assert needle in result.stderr.strip().splitlines()[-1]
    assert nonce(web3, asset_manager.address) == 0


def test_a_trade_that_was_sent_is_reported_as_failed_on_chain() -> None:
    trade = make_trade(1, PAIR, True, Decimal(1000), Decimal("0.005"))
    refusals = {1: VaultExecError("an earlier refusal")}
    raise_if_refused(trade, refusals)  # planned, not failed: nothing to raise
    assert trade.opened_at is not None
    trade.mark_started(trade.opened_at)
    trade.set_blockchain_transactions([BlockchainTransaction(tx_hash="0x" + "ab" * 32, status=False)])
    trade.mark_failed(trade.opened_at)
    raise_if_refused(trade, refusals)  # it was sent: the caller reports the failure on chain (exit 12)
    trade.blockchain_transactions[0].tx_hash = None
    with pytest.raises(VaultExecError, match="an earlier refusal"):
        raise_if_refused(trade, refusals)
