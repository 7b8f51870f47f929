"""Build a ready executor from its parts (RPC URL, key, vault, store): one way for the CLI, the demo, the
pytest fixtures and adapters.

    parts = connect_parts(rpc_url, private_key, vault_address, "sqlite:///trades.db")
    executor, planner = parts.executor([pair])
    done = executor.execute_trades([make_trade(next_trade_id(parts.store), pair, True, Decimal(1000), ...)])
    parts.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from vaultexec.chain.gas import FeePolicy
from vaultexec.chain.rpc import RetryPolicy, RPCClient, connect_web3
from vaultexec.chain.rpc_url import redact_url
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import Deployment
from vaultexec.errors import BadInputError
from vaultexec.execution.confirmed import ConfirmedPlanner
from vaultexec.execution.executor import ExecutorConfig, VaultExecutionModel, default_tracker_config
from vaultexec.execution.routing import VaultRouting
from vaultexec.execution.routing_direct import Venue
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.model.run_state import RunState, utc_now
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.store import ExecutionStore, open_store
from vaultexec.store.chainbinding import bind_store_to_chain

__all__ = ["UNQUOTED", "ExecutorParts", "bind_store", "build_executor", "connect_parts", "genesis_hash", "make_trade",
           "next_trade_id"]

#: Stand-in for the side routing fills from its quote (buy: quantity; sell: reserve) before planning.
UNQUOTED = Decimal(1)


def next_trade_id(store: ExecutionStore) -> int:
    """One above the highest stored id (1 for an empty store); reads ids only, never a stored record."""
    highest = store.max_trade_id()
    return 1 if highest is None else highest + 1


def make_trade(trade_id: int, pair: TradingPairIdentifier, buy: bool, amount: Decimal,
               slippage: Decimal) -> TradeExecution:
    """A planned trade: a buy spends `amount` of quote, a sell sells `amount` of base; `slippage` is a
    fraction (0.005 = 0.5 %). The other side and the prices are placeholders until routing quotes it."""
    return TradeExecution(
        trade_id=trade_id, position_id=trade_id, trade_type=TradeType.rebalance, pair=pair,
        opened_at=utc_now(), planned_quantity=UNQUOTED if buy else -amount,
        planned_reserve=amount if buy else UNQUOTED, planned_price=UNQUOTED, reserve_currency=pair.quote,
        slippage_tolerance=slippage)


def build_executor(client: RPCClient, web3: Web3, vault: str, wallet: HotWallet, store: ExecutionStore,
                   pairs: Sequence[TradingPairIdentifier], run_state: RunState | None = None,
                   timeout: int | None = None,
                   deployment: Deployment | None = None,
                   venue: Venue = Venue.AUTO,
                   fee_policy: FeePolicy | None = None) -> tuple[VaultExecutionModel, ConfirmedPlanner]:
    """The executor and its planner (`planner.routing` plans a trade to show it, `planner.confirm(plan)` holds
    the trade to that plan); `timeout` (seconds) bounds the wait for each transaction; `deployment` gives
    routers and quoters no registered deployment knows; `venue` the direct path, the router path or auto;
    `fee_policy` the tip floor / fee cap / legacy pricing (None: the chain's registered policy)."""
    routing = VaultRouting(web3, vault, wallet.address, list(pairs), client=client, deployment=deployment,
                           venue=venue)
    planner = ConfirmedPlanner(routing)
    tracker = None
    if timeout is not None:
        tracker = replace(default_tracker_config(wallet.chain_id), timeout=float(timeout))
    model = VaultExecutionModel(client, vault, planner, wallet, store, run_state or RunState(),
                                ExecutorConfig(tracker=tracker, fee_policy=fee_policy))
    return model, planner


@dataclass
class ExecutorParts:
    """What an executor is made of: the node, the hot wallet, the vault and the store (all open)."""

    client: RPCClient
    web3: Web3
    vault: str
    wallet: HotWallet
    store: ExecutionStore

    @property
    def chain_id(self) -> int:
        return self.wallet.chain_id

    def executor(self, pairs: Sequence[TradingPairIdentifier], run_state: RunState | None = None,
                 timeout: int | None = None,
                 deployment: Deployment | None = None,
                 venue: Venue = Venue.AUTO) -> tuple[VaultExecutionModel, ConfirmedPlanner]:
        """A new executor for `pairs` on these parts (see `build_executor`)."""
        return build_executor(self.client, self.web3, self.vault, self.wallet, self.store, pairs, run_state,
                              timeout, deployment, venue)

    def close(self) -> None:
        """Close the store and the node connection (the caller's store too, when it passed one in)."""
        self.store.close()
        self.client.close()


def genesis_hash(client: RPCClient) -> str:
    """Hash of block 0: with the chain id, what tells a restarted local chain from the one before."""
    block = client.call("eth_getBlockByNumber", ["0x0", False])
    return str(block["hash"])


def bind_store(store: ExecutionStore, client: RPCClient, chain_id: int, where: str) -> None:
    """Record the node's chain in the store on first use; refuse a store of another chain (store.chainbinding)."""
    bind_store_to_chain(store, chain_id, genesis_hash(client), where)


def connect_parts(rpc_url: str | RPCClient, key: str | LocalAccount, vault: str, store: str | ExecutionStore,
                  retry: RetryPolicy | None = None) -> ExecutorParts:
    """Connect to the node, load the key (a 0x-hex private key or an account), open the store (a URL such as
    sqlite:///trades.db or redis://host:6379/0, or an open store) for `vault`; the store is bound to the
    node's chain (refused if it holds another chain's trades)."""
    if not Web3.is_address(vault):
        raise BadInputError(f"Vault {vault!r} is not an address (0x + 40 hex digits).")
    vault = Web3.to_checksum_address(vault)
    client = rpc_url if isinstance(rpc_url, RPCClient) else RPCClient(rpc_url, retry=retry)
    try:
        web3 = connect_web3(client)
        account: LocalAccount = Account.from_key(key) if isinstance(key, str) else key
        wallet = HotWallet(account, int(client.call("eth_chainId"), 16))
        opened = open_store(store, vault) if isinstance(store, str) else store
    except BaseException:
        client.close()
        raise
    try:
        where = "given" if not isinstance(store, str) else store if store.startswith("sqlite:") else redact_url(store)
        bind_store(opened, client, wallet.chain_id, where)
    except BaseException:
        client.close()
        if isinstance(store, str):
            opened.close()
        raise
    return ExecutorParts(client, web3, vault, wallet, opened)
