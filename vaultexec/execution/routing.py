"""Routing: planned trades -> quoted, bounded, simulated vault transactions (the executor-facing plugin).

Per planning round, four JSON-RPC requests in two HTTP round trips whatever the number of trades:
1. one round trip: `eth_getBlockByNumber(latest)` + one `eth_simulateV1` that reads everything the batch
   needs (quotes, pool states for mid prices, the factory's pool of each hop, token decimals, vault
   balances, the vault's guard: paused, asset manager, assets, routers, pools, spend limits);
2. one round trip (batch_checks.py): the vault's loss bound of every plan at the block read in 1
   (loss_bound.py) beside one `eth_simulateV1` running every vault `execute` in order, in the blocks after
   it (pre-flight + gas, see preflight.py).
Nodes without eth_simulateV1 get the same reads as one HTTP batch of eth_call. A router that no registered
deployment knows costs one more read request, once per routing, to learn its factory.

Nothing is written onto the trades until the whole batch passed: a refused batch leaves them as they were.
The parts: routing_input (checks of the trades before any read), routing_reads (the read request and the
checks on what it read), quoting (quote, prices, fees; writing an accepted quote), price_guard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import ClientProvider, RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex import erc20, uniswap_v2, uniswap_v3
from vaultexec.dex.deployments import Deployment, find_deployment_of_router
from vaultexec.dex.reads import BlockHeader, CallRunner, ContractCall
from vaultexec.errors import ConfigurationError, PreflightRefusedError, VaultExecError
from vaultexec.execution.batch_checks import check_batch
from vaultexec.execution.plan import BatchPlan, ExecutionPlan, Route, TradePlan
from vaultexec.execution.preflight import record_failed, refuse_failed
from vaultexec.execution.price_guard import DECISION_NOTE, price_guard
from vaultexec.execution.quoting import commit_quote, expected_out, quote_trade, utcnow, with_quote
from vaultexec.execution.routing_direct import (
    Venue,
    direct_allowed,
    direct_calldata,
    direct_transaction_args,
    parse_venue,
    venue_for,
)
from vaultexec.execution.routing_input import (
    MAX_UINT256,
    keep_unrefused,
    raw_amount_in,
    require_planned,
    require_unique_ids,
    trade_label,
    validate_trade,
)
from vaultexec.execution.routing_reads import (
    Ledger,
    ReadBatch,
    abi1,
    check_route,
    check_vault,
    collect_reads,
    confirm_factories,
    router_kind,
)
from vaultexec.model.addresses import checksum as to_checksum_address
from vaultexec.model.identifiers import ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution
from vaultexec.model.transaction import BlockchainTransaction
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.deploy import RouterKind
from vaultexec.vault.execute import VaultCall, bounds_from_deltas, encode_execute_call
from vaultexec.vault.safe_module import custody_of

logger = logging.getLogger(__name__)

#: Swap deadline: seconds after the latest block's timestamp (routers with a deadline only).
DEFAULT_DEADLINE_SECONDS = 600
#: A caller's last check of a built plan: an error refuses the trade (`plan_batch`'s `accept`).
PlanCheck = Callable[[TradeExecution, TradePlan], VaultExecError | None]
#: Rounds of `plan_batch` (each drops at least one trade); trades still unsettled after that are refused.
MAX_PLAN_ROUNDS = 8


def client_of(web3: Web3) -> RPCClient:
    """The RPCClient behind `web3` (ClientProvider), or a new one on its HTTP endpoint."""
    provider = web3.provider
    if isinstance(provider, ClientProvider):
        return provider.client
    url = getattr(provider, "endpoint_uri", None)
    if not url:
        raise ConfigurationError(f"Cannot find the RPC URL of {provider!r}; pass `client=RPCClient(url)`")
    return RPCClient(str(url))


class VaultRouting:
    """Plans trades of one vault: routes, quotes, bounds, vault calldata, pre-flight simulation and gas.

    `pairs` are the pairs this routing may trade (the routes configuration): each pair's `kind`,
    `exchange_address` (router), pools, fees and `intermediary_pair` define its route. V3 quotes go through
    the QuoterV2 of the registered deployment that owns the router (dex.deployments). Every configured pool
    is checked against the router's factory (`getPair` / `getPool`).
    """

    def __init__(self, web3: Web3, vault_address: str, asset_manager: str,
                 pairs: Sequence[TradingPairIdentifier], client: RPCClient | None = None,
                 deployment: Deployment | None = None, deadline_seconds: int = DEFAULT_DEADLINE_SECONDS,
                 use_simulate: bool | None = None, venue: str | Venue = Venue.AUTO) -> None:
        self.web3 = web3
        #: auto (the direct path where the vault allows it), direct (`executeDirect`, Uniswap V2/V3 pools
        #: only) or router (`execute`: approve + router call).
        self.venue = parse_venue(venue)
        self.client = client or client_of(web3)
        self.vault_address = to_checksum_address(vault_address)
        self.asset_manager = to_checksum_address(asset_manager)
        self.chain_id = int(self.client.call("eth_chainId"), 16)
        self.pairs = list(pairs)
        self.deployment = deployment
        self.deadline_seconds = deadline_seconds
        self.runner = CallRunner(self.client, use_simulate)
        self.vault: Contract = web3.eth.contract(address=self.vault_address,
                                                 abi=load_artifact("Vault")["abi"])
        #: Where the funds are: the vault itself, or the Safe of a Safe module (balances, swap recipients).
        self.custody = custody_of(web3, self.vault_address)
        #: Token decimals never change: read once per routing.
        self._decimals: dict[str, int] = {}
        #: (router, protocol) -> the factory the router itself names (immutable in Uniswap routers): read or
        #: confirmed once per routing, inside the batch's read request when the registry knows the factory.
        self._factories: dict[tuple[str, ExchangeKind], str] = {}
        for pair in self.pairs:
            if pair.chain_id != self.chain_id:
                raise ConfigurationError(
                    f"Pair {pair.get_ticker()} is on chain {pair.chain_id} but vault {self.vault_address} is "
                    f"on chain {self.chain_id}: configure pairs of the vault's chain only")

    # ------------------------------------------------------------------ public API

    def plan_trades(self, trades: Sequence[TradeExecution]) -> ExecutionPlan:
        """Route, quote, bound and pre-flight `trades` (sells first), all or nothing.

        Raises a typed VaultExecError before anything is signed if any trade is refused; the trades are then
        left exactly as they were. Only when the whole batch passes are the quoted output, prices and fees
        written onto the trades (see `TradeQuote`). `plan_batch` drops refused trades instead.
        """
        return self._plan(trades, strict=True).plan

    def plan_batch(self, trades: Sequence[TradeExecution], accept: PlanCheck | None = None) -> BatchPlan:
        """Plan `trades` together; a refused trade drops out with its own reason, the rest is planned again.

        Each round builds the remaining trades' plans in execution order against the running balances and
        pre-flights them in one `eth_simulateV1`, each trade's effects carried into the next. A trade the
        round refuses (a bad amount, the price guard, a zero quote, the running balance, its pre-flight)
        leaves the batch, and the rest is built and simulated again without it, until a round refuses
        nothing: every plan returned passed the pre-flight of exactly the batch returned. The reads are
        made once. Refusals of the whole vault (paused, not its asset manager, an unknown router) raise.
        `accept(trade, plan)` may refuse a built plan (an error to return) before the pre-flight, e.g. one
        worse than the plan the user confirmed: the refusal is then part of the batch's planning too.
        """
        return self._plan(trades, strict=False, accept=accept)

    def _plan(self, trades: Sequence[TradeExecution], strict: bool, accept: PlanCheck | None = None) -> BatchPlan:
        before = self.client.stats.snapshot()
        require_planned(trades)
        refused: dict[int, VaultExecError] = {}
        # validated before sorting: the sort key compares amounts
        valid = [t for t in trades if keep_unrefused(t, self._validate, refused, strict)]
        ordered = sorted(valid, key=lambda t: t.get_execution_sort_position())
        require_unique_ids(ordered)
        routes: dict[int, Route] = {}
        ordered = [t for t in ordered if keep_unrefused(t, lambda t: routes.update({t.trade_id: self._route(t)}),
                                                refused, strict)]
        routes = self._resolve_factories(routes)
        reads, keys, block = self._read_state(ordered, routes)
        check_vault(reads, keys, self.vault_address, self.asset_manager)
        confirm_factories(routes.values(), reads, keys, self._factories)
        ordered = [t for t in ordered if keep_unrefused(t, lambda t: check_route(
            t, routes[t.trade_id], reads, keys, self._decimals, self.vault_address), refused, strict)]
        plans: list[TradePlan] = []
        for _ in range(MAX_PLAN_ROUNDS):
            plans = self._build_plans(ordered, routes, reads, keys, block, refused, strict, accept)
            labels = {t.trade_id: t.get_human_description() for t in ordered}
            loss_refused = check_batch(self.runner, self.vault_address, self.asset_manager, plans, block, labels)
            if loss_refused:  # the vault's oracle loss bound would refuse them: re-plan the rest without them
                if strict:
                    raise next(iter(loss_refused.values()))
                refused.update(loss_refused)
                ordered = [t for t in ordered if t.trade_id not in refused]
                continue
            if strict:
                refuse_failed(plans, labels)
            failed = record_failed(plans, ordered, refused)
            ordered = [t for t in ordered if t.trade_id not in refused]
            if not failed:
                break
        else:
            plans = []
            for trade in ordered:
                refused[trade.trade_id] = PreflightRefusedError(
                    f"{trade_label(trade)}: the batch was still refusing trades after {MAX_PLAN_ROUNDS} rounds of "
                    f"planning; nothing was signed. Plan it again in the next cycle.", [trade.trade_id])
            ordered = []
        by_id = {t.trade_id: t for t in ordered}
        for trade_plan in plans:
            assert trade_plan.quote is not None
            commit_quote(by_id[trade_plan.trade_id], trade_plan.quote)
        used = self.client.stats.since(before)
        plan = ExecutionPlan(self.vault_address, self.asset_manager, self.chain_id, block.number, plans,
                             used.total_requests, used.http_round_trips)
        logger.info("planned %d trade(s) at block %d (%d refused) with %d JSON-RPC request(s) in %d round "
                    "trip(s)", len(plans), plan.block_number, len(refused), plan.rpc_requests,
                    plan.http_round_trips)
        return BatchPlan(plan, refused)

    def setup_trades(self, trades: Sequence[TradeExecution], wallet: HotWallet | None = None) -> ExecutionPlan:
        """Plan `trades`, attach one vault BlockchainTransaction each (signed if `wallet`), mark them started.

        Unsigned transactions carry to/from/data/gas limit in `details`; signing with `wallet` (the asset
        manager's hot wallet) adds nonce, EIP-1559 fees (one batched fee request) and the raw bytes. Trades
        that are not planned any more are refused before anything is planned or signed.
        """
        require_planned(trades)
        if wallet is not None and to_checksum_address(wallet.address) != self.asset_manager:
            raise ConfigurationError(
                f"Wallet {wallet.address} is not the vault's asset manager {self.asset_manager}: the vault "
                f"would refuse its transactions; load the asset manager's key")
        plan = self.plan_trades(trades)
        by_id = {t.trade_id: t for t in trades}
        fees = None
        if wallet is not None:
            fees = fetch_fees(self.client, self.chain_id)
            if wallet.next_nonce is None:
                wallet.sync_nonce(self.client)
        now = utcnow()
        for trade_plan in plan.plans:
            trade = by_id[trade_plan.trade_id]
            tx = self._blockchain_transaction(trade_plan)
            if wallet is not None and fees is not None:
                assert trade_plan.gas_limit is not None
                wallet.sign_blockchain_transaction(tx, "0x" + trade_plan.vault_calldata.hex(),
                                                   trade_plan.gas_limit, fees)
            trade.set_blockchain_transactions([tx])
            trade.mark_started(now)
        return plan

    # ------------------------------------------------------------------ validation and route

    def _validate(self, trade: TradeExecution) -> None:
        """Refuse bad input before any read: amounts, tolerance, price guard, pair, reserve currency."""
        validate_trade(trade, self.pairs, self.chain_id, self.vault_address)
        price_guard(trade)

    def _route(self, trade: TradeExecution) -> Route:
        pair = trade.pair
        buy = trade.is_buy()
        tokens = tuple(a.address for a in pair.get_route_assets(buy))
        hops = pair.get_route_pools(buy)
        router = pair.exchange_address
        deployment = self._deployment_of(router)
        if pair.kind == ExchangeKind.uniswap_v2:
            quoter = router
            if deployment is not None and router == deployment.swap_router02:
                if deployment.v2_router is None:
                    raise ConfigurationError(f"{trade_label(trade)}: deployment {deployment.name} has no V2 router to "
                                             f"quote V2 pairs traded through SwapRouter02")
                quoter = deployment.v2_router
            fees: tuple[int, ...] = tuple(0 for _ in hops)
            registered = deployment.v2_factory if deployment is not None else None
        else:
            if deployment is None or deployment.quoter_v2 is None:
                raise ConfigurationError(
                    f"{trade_label(trade)}: no QuoterV2 known for router {router} on chain {self.chain_id}; "
                    f"register its deployment with register_deployment(...)")
            quoter = deployment.quoter_v2
            fees = tuple(fee for _, fee in hops)
            registered = deployment.v3_factory
        factory = self._factories.get((router, pair.kind), registered)
        return Route(pair.kind, router, RouterKind.NONE, tokens, fees, tuple(p for p, _ in hops), quoter, factory)

    def _deployment_of(self, router: str) -> Deployment | None:
        if self.deployment is not None:
            return self.deployment
        try:
            return find_deployment_of_router(self.chain_id, router)
        except ConfigurationError:
            return None

    def _factory_getter(self, route: Route) -> bytes:
        """The router's call naming the factory of the route's protocol (SwapRouter02 has one per protocol)."""
        deployment = self._deployment_of(route.router)
        if (route.protocol == ExchangeKind.uniswap_v2 and deployment is not None
                and route.router == deployment.swap_router02):
            return uniswap_v2.FACTORY_V2
        return uniswap_v2.FACTORY

    def _resolve_factories(self, routes: dict[int, Route]) -> dict[int, Route]:
        """Fill the factory of routes whose router no registered deployment knows: one extra read request,
        the first time such a router is seen by this routing."""
        unknown = sorted({(r.router, r.protocol) for r in routes.values() if r.factory is None})
        if not unknown:
            return routes
        sample = {(r.router, r.protocol): r for r in routes.values()}
        calls = [ContractCall(router, self._factory_getter(sample[(router, kind)])) for router, kind in unknown]
        results, _ = self.runner.run(calls)
        for (router, kind), result in zip(unknown, results, strict=True):
            if not result.success or len(result.data) < 32:
                raise ConfigurationError(
                    f"Router {router} does not name its {kind.value} factory ({result.error_message or 'no data'}):"
                    f" is it a Uniswap router? Register its deployment with register_deployment(...)")
            self._factories[(router, kind)] = to_checksum_address(abi1("address")(result.data))
        return {tid: replace(r, factory=self._factories[(r.router, r.protocol)]) if r.factory is None else r
                for tid, r in routes.items()}

    # ------------------------------------------------------------------ one read request

    def _read_state(self, trades: Sequence[TradeExecution], routes: dict[int, Route]
                    ) -> tuple[ReadBatch, dict[str, Any], BlockHeader]:
        """Run the batch's one read request; returns its results, their keys and the latest block."""
        unconfirmed = {(r.router, r.protocol): self._factory_getter(r) for r in routes.values()
                       if (r.router, r.protocol) not in self._factories}
        reads, keys = collect_reads(self.vault_address, trades, routes, unconfirmed, self._decimals, self.custody)
        results, (latest,) = self.runner.run(reads.calls, extra=[("eth_getBlockByNumber", ["latest", False])])
        reads.results = results
        block = BlockHeader.from_json(latest)
        for key, value in list(keys.items()):
            if key.startswith("decimals:"):
                self._decimals[key.split(":", 1)[1]] = int(reads.value(value, erc20.decode_uint, "decimals()"))
        return reads, keys, block

    # ------------------------------------------------------------------ build

    def _build_plans(self, trades: Sequence[TradeExecution], routes: dict[int, Route], reads: ReadBatch,
                     keys: dict[str, Any], block: BlockHeader, refused: dict[int, VaultExecError],
                     strict: bool, accept: PlanCheck | None = None) -> list[TradePlan]:
        """One plan per trade in execution order, each spend checked against the running balances first; a
        trade refused here (recorded in `refused`, raised if `strict`) books nothing on the balances."""
        ledger = Ledger(self.vault_address, reads, keys)
        plans = []
        for trade in trades:
            try:
                raw_in = raw_amount_in(trade)
                ledger.check_spend(trade, trade.get_input_asset(), raw_in)
                plan = self._build_plan(trade, routes[trade.trade_id], raw_in, reads, keys, block)
                refusal = accept(trade, plan) if accept is not None else None
                if refusal is not None:
                    raise refusal
            except VaultExecError as exc:
                if strict:
                    raise
                refused[trade.trade_id] = exc
                continue
            ledger.spend(trade, trade.get_input_asset(), raw_in)
            ledger.receive(plan.asset_deltas[1])
            plans.append(plan)
        return plans

    def _build_plan(self, trade: TradeExecution, route: Route, raw_in: int, reads: ReadBatch,
                    keys: dict[str, Any], block: BlockHeader) -> TradePlan:
        """The trade's vault call from a fresh quote; the trade itself is not touched (see `commit_quote`)."""
        kind = router_kind(reads, keys, route)
        route = replace(route, router_kind=kind)
        raw_out = expected_out(trade, route, raw_in, reads, keys)
        quote = quote_trade(trade, route, raw_in, raw_out, reads, keys, self._decimals, block.number)
        deltas = with_quote(trade, quote).calculate_asset_deltas()
        spend, receive = deltas
        assert -spend.raw_amount == raw_in, "spend delta and swap amountIn must be the same number"
        max_spend, min_receive = bounds_from_deltas(deltas)
        allowed = direct_allowed([reads.get(keys[f"direct{trade.trade_id}:{n}"]) for n in range(route.hops)], route)
        if venue_for(self.venue, route, allowed, trade_label(trade), self.vault_address) is Venue.DIRECT:
            expires = block.timestamp + self.deadline_seconds
            direct, calldata = direct_calldata(route, raw_in, receive.raw_amount, expires, max_spend, min_receive)
            return TradePlan(trade.trade_id, route, [], deltas, max_spend, min_receive, calldata, raw_in, raw_out,
                             receive.raw_amount, expires, block.number, quote=quote, venue=Venue.DIRECT.value,
                             direct_route=direct)
        has_deadline = kind in (RouterKind.UNISWAP_V2, RouterKind.UNISWAP_V3_SWAP_ROUTER)
        deadline = block.timestamp + self.deadline_seconds if has_deadline else None
        if route.protocol == ExchangeKind.uniswap_v2:
            swap = uniswap_v2.encode_swap_exact_tokens_for_tokens(raw_in, receive.raw_amount, route.tokens,
                                                                  self.custody, deadline)
        else:
            swap = uniswap_v3.encode_exact_input(raw_in, receive.raw_amount, route.tokens, route.fees,
                                                 self.custody, deadline)
        input_asset = trade.get_input_asset()
        calls = [VaultCall(input_asset.address, erc20.encode_approve(route.router, raw_in),
                           f"approve {raw_in} {input_asset.token_symbol} to {route.router}"),
                 VaultCall(route.router, swap, f"swap on {route.describe()}")]
        calldata = encode_execute_call(calls, max_spend, min_receive)
        return TradePlan(trade.trade_id, route, calls, deltas, max_spend, min_receive, calldata, raw_in,
                         raw_out, receive.raw_amount, deadline, block.number, quote=quote)

    # ------------------------------------------------------------------ transactions

    def _blockchain_transaction(self, plan: TradePlan) -> BlockchainTransaction:
        if plan.direct_route is not None:
            return BlockchainTransaction(
                chain_id=self.chain_id,
                from_address=self.asset_manager,
                contract_address=self.vault_address,
                function_selector="executeDirect",
                transaction_args=direct_transaction_args(plan.direct_route, plan.max_spend, plan.min_receive),
                args=[plan.raw_amount_in, plan.amount_out_min_raw, list(plan.route.tokens), list(plan.route.fees),
                      self.custody, plan.deadline],
                details={"to": self.vault_address, "from": self.asset_manager,
                         "data": "0x" + plan.vault_calldata.hex(), "value": 0, "gas": plan.gas_limit,
                         "venue": plan.venue, "route": plan.route.describe_direct()},
                asset_deltas=list(plan.asset_deltas),
                gas_limit=plan.gas_limit,
            )
        swap = plan.calls[-1]
        return BlockchainTransaction(
            chain_id=self.chain_id,
            from_address=self.asset_manager,
            contract_address=self.vault_address,
            function_selector="execute",
            transaction_args=[
                [[c.target, "0x" + c.data.hex()] for c in plan.calls],
                [[b.asset, str(b.amount)] for b in plan.max_spend],
                [[b.asset, str(b.amount)] for b in plan.min_receive],
            ],
            args=[plan.raw_amount_in, plan.amount_out_min_raw, list(plan.route.tokens), list(plan.route.fees),
                  self.custody, plan.deadline],
            wrapped_function_selector=_swap_function_name(swap.data),
            wrapped_args=[swap.target, "0x" + swap.data.hex()],
            details={"to": self.vault_address, "from": self.asset_manager,
                     "data": "0x" + plan.vault_calldata.hex(), "value": 0, "gas": plan.gas_limit},
            asset_deltas=list(plan.asset_deltas),
            gas_limit=plan.gas_limit,
        )


def _swap_function_name(data: bytes) -> str:
    head = data[:4]
    if head in (uniswap_v2.SWAP_EXACT_TOKENS, uniswap_v2.SWAP_EXACT_TOKENS_ROUTER02):
        return "swapExactTokensForTokens"
    if head in (uniswap_v3.EXACT_INPUT_SINGLE, uniswap_v3.EXACT_INPUT_SINGLE_ROUTER02):
        return "exactInputSingle"
    return "exactInput"


def plan_trade(web3: Web3, vault_address: str, asset_manager: str, trade: TradeExecution,
               pairs: Sequence[TradingPairIdentifier] | None = None, wallet: HotWallet | None = None,
               **options: Any) -> TradePlan:
    """Plan (and with `wallet`, sign) one trade: a plain function for scripts. Returns its TradePlan.

    The trade gets its BlockchainTransaction and is marked started, as with `VaultRouting.setup_trades`.
    """
    routing = VaultRouting(web3, vault_address, asset_manager, pairs or [trade.pair], **options)
    return routing.setup_trades([trade], wallet).plans[0]


#: Names importable from here (MAX_UINT256 and DECISION_NOTE live in routing_input / price_guard).
__all__ = ["DECISION_NOTE", "DEFAULT_DEADLINE_SECONDS", "MAX_UINT256", "VaultRouting", "client_of", "plan_trade"]
