"""Routing: planned trades -> quoted, bounded, simulated vault transactions (the executor-facing plugin).

Per batch, at most three JSON-RPC requests in two HTTP round trips whatever the number of trades:
1. one round trip: `eth_getBlockByNumber(latest)` + one `eth_simulateV1` that reads everything the batch
   needs (quotes, pool states for mid prices, token decimals, vault balances, the vault's guard: paused,
   asset manager, assets, routers, pools, spend limits);
2. one `eth_simulateV1` running every vault `execute` in order (pre-flight + gas, see preflight.py).
Nodes without eth_simulateV1 get the same reads as one HTTP batch of eth_call.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from eth_abi.abi import decode, encode
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import ClientProvider, RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex import erc20, uniswap_v2, uniswap_v3
from vaultexec.dex.deployments import Deployment, find_deployment_of_router
from vaultexec.dex.erc20 import selector
from vaultexec.dex.reads import CallResult, CallRunner, ContractCall
from vaultexec.errors import (
    BadInputError,
    ConfigurationError,
    GuardRefusedError,
    InsufficientBalanceError,
    PriceMovedError,
    RouteNotFoundError,
)
from vaultexec.execution.plan import ExecutionPlan, Route, TradePlan
from vaultexec.execution.preflight import refuse_failed, simulate_plans
from vaultexec.model.addresses import checksum as to_checksum_address
from vaultexec.model.deltas import calculate_exact_spend, validate_slippage_tolerance
from vaultexec.model.exact import to_decimal
from vaultexec.model.identifiers import ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradePricing
from vaultexec.model.transaction import BlockchainTransaction
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.deploy import RouterKind
from vaultexec.vault.execute import VaultCall, bounds_from_deltas, encode_execute_call

logger = logging.getLogger(__name__)

#: Swap deadline: seconds after the latest block's timestamp (routers with a deadline only).
DEFAULT_DEADLINE_SECONDS = 600

_PAUSED = selector("paused()")
_ASSET_MANAGER = selector("assetManager()")
_IS_ASSET_ALLOWED = selector("isAssetAllowed(address)")
_ROUTER_KIND = selector("routerKind(address)")
_IS_POOL_ALLOWED = selector("isPoolAllowed(address,address,address,uint24)")
_AVAILABLE_SPEND = selector("availableSpend(address)")

#: The vault's router kind each (protocol, role of the router in its deployment) must have.
_EXPECTED_KINDS: dict[ExchangeKind, tuple[RouterKind, ...]] = {
    ExchangeKind.uniswap_v2: (RouterKind.UNISWAP_V2, RouterKind.UNISWAP_V3_SWAP_ROUTER02),
    ExchangeKind.uniswap_v3: (RouterKind.UNISWAP_V3_SWAP_ROUTER, RouterKind.UNISWAP_V3_SWAP_ROUTER02),
}


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _name(trade: TradeExecution) -> str:
    return f"trade #{trade.trade_id} ({trade.pair.get_ticker()})"


def client_of(web3: Web3) -> RPCClient:
    """The RPCClient behind `web3` (ClientProvider), or a new one on its HTTP endpoint."""
    provider = web3.provider
    if isinstance(provider, ClientProvider):
        return provider.client
    url = getattr(provider, "endpoint_uri", None)
    if not url:
        raise ConfigurationError(f"Cannot find the RPC URL of {provider!r}; pass `client=RPCClient(url)`")
    return RPCClient(str(url))


class _Reads:
    """Collects deduplicated calls for one request and hands each caller its result."""

    def __init__(self) -> None:
        self.calls: list[ContractCall] = []
        self.index: dict[tuple[str, bytes], int] = {}
        self.results: list[CallResult] = []

    def add(self, to: str, data: bytes) -> tuple[str, bytes]:
        key = (to_checksum_address(to), data)
        if key not in self.index:
            self.index[key] = len(self.calls)
            self.calls.append(ContractCall(key[0], data))
        return key

    def get(self, key: tuple[str, bytes]) -> CallResult:
        return self.results[self.index[key]]

    def value(self, key: tuple[str, bytes], decoder: Callable[[bytes], Any], what: str) -> Any:
        result = self.get(key)
        if not result.success or not result.data:
            raise ConfigurationError(f"Reading {what} from {key[0]} failed "
                                     f"({result.error_message or 'no data'}): is it the right contract?")
        return decoder(result.data)


def _abi1(kind: str) -> Callable[[bytes], Any]:
    return lambda data: decode([kind], data)[0]


class VaultRouting:
    """Plans trades of one vault: routes, quotes, bounds, vault calldata, pre-flight simulation and gas.

    `pairs` are the pairs this routing may trade (the routes configuration): each pair's `kind`,
    `exchange_address` (router), pools, fees and `intermediary_pair` define its route. V3 quotes go through
    the QuoterV2 of the registered deployment that owns the router (dex.deployments).
    """

    def __init__(self, web3: Web3, vault_address: str, asset_manager: str,
                 pairs: Sequence[TradingPairIdentifier], client: RPCClient | None = None,
                 deployment: Deployment | None = None, deadline_seconds: int = DEFAULT_DEADLINE_SECONDS,
                 use_simulate: bool | None = None) -> None:
        self.web3 = web3
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
        #: Token decimals never change: read once per routing.
        self._decimals: dict[str, int] = {}
        #: Trade id -> the executor's decision price (reserve per base), taken the first time the trade is
        #: planned: planning overwrites planned_price / planned_mid_price with the pool's, and a re-plan of the
        #: same trade must still be judged against the executor's price.
        self._decision_prices: dict[int, tuple[TradeExecution, Decimal]] = {}
        for pair in self.pairs:
            if pair.chain_id != self.chain_id:
                raise ConfigurationError(
                    f"Pair {pair.get_ticker()} is on chain {pair.chain_id} but vault {self.vault_address} is "
                    f"on chain {self.chain_id}: configure pairs of the vault's chain only")

    # ------------------------------------------------------------------ public API

    def plan_trades(self, trades: Sequence[TradeExecution]) -> ExecutionPlan:
        """Route, quote, bound and pre-flight `trades` (sells first); fills prices and fees on the trades.

        Raises a typed VaultExecError before anything is signed if any trade is refused.
        """
        before = self.client.stats.snapshot()
        ordered = sorted(trades, key=lambda t: t.get_execution_sort_position())
        if len({t.trade_id for t in ordered}) != len(ordered):
            raise BadInputError("the batch holds the same trade id twice; each trade is planned once")
        routes = {t.trade_id: self._validate_and_route(t) for t in ordered}
        reads, keys, block = self._read_state(ordered, routes)
        self._check_vault(reads, keys)
        for trade in ordered:
            self._check_decimals(trade, routes[trade.trade_id], reads, keys)
        plans = [self._build_plan(t, routes[t.trade_id], reads, keys, block) for t in ordered]
        self._check_balances(ordered, plans, reads, keys)
        simulate_plans(self.runner, self.vault_address, self.asset_manager, plans)
        refuse_failed(plans, {t.trade_id: t.get_human_description() for t in ordered})
        used = self.client.stats.since(before)
        plan = ExecutionPlan(self.vault_address, self.asset_manager, self.chain_id, block["number"], plans,
                             used.total_requests, used.http_round_trips)
        logger.info("planned %d trade(s) at block %d with %d JSON-RPC request(s) in %d round trip(s)",
                    len(plans), plan.block_number, plan.rpc_requests, plan.http_round_trips)
        return plan

    def setup_trades(self, trades: Sequence[TradeExecution], wallet: HotWallet | None = None) -> ExecutionPlan:
        """Plan `trades`, attach one vault BlockchainTransaction each (signed if `wallet`), mark them started.

        Unsigned transactions carry to/from/data/gas limit in `details`; signing with `wallet` (the asset
        manager's hot wallet) adds nonce, EIP-1559 fees (one batched fee request) and the raw bytes.
        """
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
        now = _utcnow()
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

    def _validate_and_route(self, trade: TradeExecution) -> Route:
        name = _name(trade)
        pair = trade.pair
        if pair.chain_id != self.chain_id:
            raise ConfigurationError(
                f"{name}: pair is on chain {pair.chain_id} but the vault {self.vault_address} is on chain "
                f"{self.chain_id}; trade it with a routing of that chain's vault")
        if pair not in self.pairs:
            known = ", ".join(p.get_ticker() for p in self.pairs) or "none"
            raise RouteNotFoundError(
                f"{name}: pair {pair} is not in this routing's configuration (configured: {known}); add it "
                f"to the pairs given to VaultRouting")
        for what in ("planned_quantity", "planned_reserve"):
            value = getattr(trade, what)
            if not isinstance(value, Decimal):
                to_decimal(value, f"{name} {what}")  # raises for floats and junk
                raise BadInputError(f"{name}: {what} {value!r} must be a Decimal")
        if trade.planned_quantity == 0:
            raise BadInputError(f"{name}: planned_quantity is zero; buys are positive, sells negative")
        if trade.planned_reserve <= 0:
            raise BadInputError(f"{name}: planned_reserve {trade.planned_reserve} must be positive "
                                f"(the sign of planned_quantity tells buy from sell)")
        try:
            validate_slippage_tolerance(trade.slippage_tolerance)
        except BadInputError as exc:
            raise BadInputError(f"{name}: {exc}") from None
        if trade.reserve_currency != pair.quote:
            raise BadInputError(f"{name}: reserve currency {trade.reserve_currency} is not the pair's quote "
                                f"{pair.quote}")
        middle = pair.intermediary_pair
        if middle is not None and (middle.kind != pair.kind or middle.exchange_address != pair.exchange_address):
            raise RouteNotFoundError(
                f"{name}: both hops of a three-way route must be on one protocol and router; the pair is on "
                f"{pair.kind.value} {pair.exchange_address}, its intermediary on {middle.kind.value} "
                f"{middle.exchange_address}")
        return self._route(trade)

    def _route(self, trade: TradeExecution) -> Route:
        pair = trade.pair
        buy = trade.is_buy()
        tokens = tuple(a.address for a in pair.get_route_assets(buy))
        hops = pair.get_route_pools(buy)
        router = pair.exchange_address
        deployment = self.deployment or self._find_deployment(router)
        if pair.kind == ExchangeKind.uniswap_v2:
            quoter = router
            if deployment is not None and router == deployment.swap_router02:
                if deployment.v2_router is None:
                    raise ConfigurationError(f"{_name(trade)}: deployment {deployment.name} has no V2 router to "
                                             f"quote V2 pairs traded through SwapRouter02")
                quoter = deployment.v2_router
            fees: tuple[int, ...] = tuple(0 for _ in hops)
        else:
            if deployment is None or deployment.quoter_v2 is None:
                raise ConfigurationError(
                    f"{_name(trade)}: no QuoterV2 known for router {router} on chain {self.chain_id}; "
                    f"register its deployment with register_deployment(...)")
            quoter = deployment.quoter_v2
            fees = tuple(fee for _, fee in hops)
        return Route(pair.kind, router, RouterKind.NONE, tokens, fees, tuple(p for p, _ in hops), quoter)

    def _find_deployment(self, router: str) -> Deployment | None:
        try:
            return find_deployment_of_router(self.chain_id, router)
        except ConfigurationError:
            return None

    # ------------------------------------------------------------------ one read request

    def _read_state(self, trades: Sequence[TradeExecution], routes: dict[int, Route]
                    ) -> tuple[_Reads, dict[str, Any], dict[str, int]]:
        reads = _Reads()
        vault = self.vault_address
        keys: dict[str, Any] = {"paused": reads.add(vault, _PAUSED), "manager": reads.add(vault, _ASSET_MANAGER)}
        for trade in trades:
            route = routes[trade.trade_id]
            raw_in = self._raw_amount_in(trade)
            tid = trade.trade_id
            if route.protocol == ExchangeKind.uniswap_v2:
                keys[f"quote{tid}"] = reads.add(route.quoter, uniswap_v2.encode_get_amounts_out(raw_in, route.tokens))
            else:
                keys[f"quote{tid}"] = reads.add(route.quoter,
                                                uniswap_v3.encode_quote(raw_in, route.tokens, route.fees))
            keys[f"kind:{route.router}"] = reads.add(vault, _ROUTER_KIND + encode(["address"], [route.router]))
            for n, pool in enumerate(route.pools):
                state_call = (uniswap_v2.encode_get_reserves() if route.protocol == ExchangeKind.uniswap_v2
                              else uniswap_v3.encode_slot0())
                keys[f"pool{tid}:{n}"] = reads.add(pool, state_call)
                a, b = route.tokens[n], route.tokens[n + 1]
                keys[f"allowed{tid}:{n}"] = reads.add(vault, _IS_POOL_ALLOWED + encode(
                    ["address", "address", "address", "uint24"], [route.router, a, b, route.fees[n]]))
            for token in route.tokens:
                keys[f"asset:{token}"] = reads.add(vault, _IS_ASSET_ALLOWED + encode(["address"], [token]))
                keys[f"balance:{token}"] = reads.add(token, erc20.encode_balance_of(vault))
                if token not in self._decimals:
                    keys[f"decimals:{token}"] = reads.add(token, erc20.encode_decimals())
            keys[f"limit:{route.tokens[0]}"] = reads.add(vault, _AVAILABLE_SPEND + encode(["address"],
                                                                                        [route.tokens[0]]))
        results, (latest,) = self.runner.run(reads.calls, extra=[("eth_getBlockByNumber", ["latest", False])])
        reads.results = results
        block = {"number": int(latest["number"], 16), "timestamp": int(latest["timestamp"], 16)}
        for key, value in list(keys.items()):
            if key.startswith("decimals:"):
                self._decimals[key.split(":", 1)[1]] = int(reads.value(value, erc20.decode_uint, "decimals()"))
        return reads, keys, block

    def _raw_amount_in(self, trade: TradeExecution) -> int:
        """Raw input the vault spends: the same rounding as the model's spend delta (floor)."""
        amount = trade.planned_reserve if trade.is_buy() else -trade.planned_quantity
        try:
            return calculate_exact_spend(amount, trade.get_input_asset())
        except BadInputError as exc:
            raise BadInputError(f"{_name(trade)}: {exc}") from None

    # ------------------------------------------------------------------ checks on what was read

    def _check_vault(self, reads: _Reads, keys: dict[str, Any]) -> None:
        manager = to_checksum_address(reads.value(keys["manager"], _abi1("address"), "assetManager()"))
        if manager != self.asset_manager:
            raise ConfigurationError(
                f"Vault {self.vault_address} has asset manager {manager}, not {self.asset_manager}: the vault "
                f"would refuse every trade; use the vault's asset manager")
        if reads.value(keys["paused"], _abi1("bool"), "paused()"):
            raise GuardRefusedError(f"Vault {self.vault_address} is paused: no trade can execute until its "
                                    f"owner unpauses it")

    def _check_decimals(self, trade: TradeExecution, route: Route, reads: _Reads, keys: dict[str, Any]) -> None:
        for asset in trade.pair.get_all_assets():
            on_chain = self._decimals.get(asset.address)
            if on_chain is not None and on_chain != asset.decimals:
                raise BadInputError(
                    f"{_name(trade)}: {asset.token_symbol} says {asset.decimals} decimals but the token contract "
                    f"{asset.address} says {on_chain}; fix the AssetIdentifier (amounts would be off by "
                    f"10^{abs(on_chain - asset.decimals)})")
        kind = RouterKind(reads.value(keys[f"kind:{route.router}"], _abi1("uint8"), "routerKind()"))
        if kind == RouterKind.NONE:
            raise GuardRefusedError(
                f"{_name(trade)}: router {route.router} is not allowed by vault {self.vault_address}; the owner "
                f"must call setRouter(router, kind) first")
        if kind not in _EXPECTED_KINDS[route.protocol]:
            raise ConfigurationError(
                f"{_name(trade)}: the vault knows router {route.router} as {kind.name}, which cannot trade "
                f"{route.protocol.value} pools; pick a pair on a matching router")
        for token in route.tokens:
            if not reads.value(keys[f"asset:{token}"], _abi1("bool"), "isAssetAllowed()"):
                symbol = next((a.token_symbol for a in trade.pair.get_all_assets() if a.address == token), token)
                raise GuardRefusedError(
                    f"{_name(trade)}: token {symbol} ({token}) is not allowed by vault {self.vault_address}'s "
                    f"guard; the owner must call setAssetAllowed({token}, true)")
        for n in range(route.hops):
            if not reads.value(keys[f"allowed{trade.trade_id}:{n}"], _abi1("bool"), "isPoolAllowed()"):
                raise GuardRefusedError(
                    f"{_name(trade)}: pool {route.pools[n]} ({route.tokens[n]} -> {route.tokens[n + 1]}, fee "
                    f"{route.fees[n]}) is not allowed on router {route.router} by vault {self.vault_address}; "
                    f"the owner must call setPoolAllowed(...)")

    def _check_balances(self, trades: Sequence[TradeExecution], plans: Sequence[TradePlan], reads: _Reads,
                        keys: dict[str, Any]) -> None:
        """Running balances in execution order: a sell's minimum receive may fund a later buy."""
        balances: dict[str, int] = {}
        limits: dict[str, int] = {}

        def load(token: str) -> None:
            if token not in balances:
                balances[token] = reads.value(keys[f"balance:{token}"], erc20.decode_uint, "balanceOf()")

        for trade, plan in zip(trades, plans, strict=True):
            spend, receive = plan.asset_deltas
            token = spend.asset.address
            load(token)
            if token not in limits:
                limits[token] = reads.value(keys[f"limit:{token}"], erc20.decode_uint, "availableSpend()")
            need = -spend.raw_amount
            if need > balances[token]:
                have = spend.asset.convert_to_decimal(balances[token])
                raise InsufficientBalanceError(
                    f"{_name(trade)}: needs {spend.asset.convert_to_decimal(need)} {spend.asset.token_symbol} "
                    f"but vault {self.vault_address} holds {have} for it (after earlier trades of this batch); "
                    f"reduce the trade or fund the vault")
            if need > limits[token]:
                raise GuardRefusedError(
                    f"{_name(trade)}: spends {spend.asset.convert_to_decimal(need)} {spend.asset.token_symbol} "
                    f"but the vault's spend limit allows {spend.asset.convert_to_decimal(limits[token])} now; "
                    f"wait for it to refill or ask the owner to raise it")
            balances[token] -= need
            limits[token] -= need
            load(receive.asset.address)
            balances[receive.asset.address] += receive.raw_amount

    # ------------------------------------------------------------------ build

    def _build_plan(self, trade: TradeExecution, route: Route, reads: _Reads, keys: dict[str, Any],
                    block: dict[str, int]) -> TradePlan:
        name = _name(trade)
        raw_in = self._raw_amount_in(trade)
        quote = reads.get(keys[f"quote{trade.trade_id}"])
        expected_out = 0
        if quote.success and quote.data:
            expected_out = (uniswap_v2.decode_amounts_out(quote.data)[-1]
                            if route.protocol == ExchangeKind.uniswap_v2
                            else uniswap_v3.decode_quote_amount_out(quote.data))
        output = trade.get_output_asset()
        input_asset = trade.get_input_asset()
        if expected_out <= 0:
            reason = "" if quote.success else f" (quote reverted: {quote.error_message or 'no reason'})"
            raise RouteNotFoundError(
                f"{name}: the {route.describe()} quotes 0 {output.token_symbol} for "
                f"{input_asset.convert_to_decimal(raw_in)} {input_asset.token_symbol}{reason}: no liquidity; "
                f"pick another pool or a smaller amount")
        kind = RouterKind(reads.value(keys[f"kind:{route.router}"], _abi1("uint8"), "routerKind()"))
        route = Route(route.protocol, route.router, kind, route.tokens, route.fees, route.pools, route.quoter)
        self._apply_quote(trade, route, raw_in, expected_out, reads, keys, block["number"])
        deltas = trade.calculate_asset_deltas()
        spend, receive = deltas
        assert -spend.raw_amount == raw_in, "spend delta and swap amountIn must be the same number"
        max_spend, min_receive = bounds_from_deltas(deltas)
        has_deadline = kind in (RouterKind.UNISWAP_V2, RouterKind.UNISWAP_V3_SWAP_ROUTER)
        deadline = block["timestamp"] + self.deadline_seconds if has_deadline else None
        if route.protocol == ExchangeKind.uniswap_v2:
            swap = uniswap_v2.encode_swap_exact_tokens_for_tokens(raw_in, receive.raw_amount, route.tokens,
                                                                  self.vault_address, deadline)
        else:
            swap = uniswap_v3.encode_exact_input(raw_in, receive.raw_amount, route.tokens, route.fees,
                                                 self.vault_address, deadline)
        calls = [VaultCall(input_asset.address, erc20.encode_approve(route.router, raw_in),
                           f"approve {raw_in} {input_asset.token_symbol} to {route.router}"),
                 VaultCall(route.router, swap, f"swap on {route.describe()}")]
        calldata = encode_execute_call(calls, max_spend, min_receive)
        return TradePlan(trade.trade_id, route, calls, deltas, max_spend, min_receive, calldata, raw_in,
                         expected_out, receive.raw_amount, deadline, block["number"])

    def _apply_quote(self, trade: TradeExecution, route: Route, raw_in: int, raw_out: int, reads: _Reads,
                     keys: dict[str, Any], block_number: int) -> None:
        """Set the trade's output side, prices and LP fee estimate from the fresh quote (quote per base)."""
        out_amount = trade.get_output_asset().convert_to_decimal(raw_out)
        in_amount = trade.get_input_asset().convert_to_decimal(raw_in)
        _check_price_moved(trade, self._decision_price(trade), out_amount, in_amount)
        if trade.is_buy():
            logger.debug("%s: executor planned %s, quote gives %s", _name(trade), trade.planned_quantity, out_amount)
            trade.planned_quantity = out_amount
            quantity, reserve = out_amount, in_amount
        else:
            trade.planned_reserve = out_amount
            quantity, reserve = in_amount, out_amount
        fee_fractions = [self._fee_fraction(route, trade.pair, n) for n in range(route.hops)]
        with localcontext() as ctx:
            ctx.prec = 40
            trade.planned_price = reserve / quantity
            mid = self._mid_price_out_per_in(trade, route, reads, keys)
            trade.planned_mid_price = (1 / mid if trade.is_buy() else mid) if mid else None
            lp_fees: list[Decimal] = []
            remaining = reserve
            for fraction in fee_fractions:
                lp_fees.append(remaining * fraction)
                remaining -= remaining * fraction
            trade.lp_fees_estimated = sum(lp_fees, Decimal(0))
            trade.fee_tier = 1 - _product(1 - f for f in fee_fractions)
        trade.price_structure = TradePricing(
            price=trade.planned_price, mid_price=trade.planned_mid_price or trade.planned_price, lp_fee=lp_fees,
            pair_fee=fee_fractions, side=trade.is_buy(), read_at=_utcnow(), block_number=block_number,
            token_in=in_amount, token_out=out_amount)

    def _decision_price(self, trade: TradeExecution) -> Decimal:
        """The executor's price as it was when this very trade object was first planned by this routing."""
        known = self._decision_prices.get(trade.trade_id)
        if known is not None and known[0] is trade:
            return known[1]
        price = trade.planned_mid_price if trade.planned_mid_price is not None else trade.planned_price
        self._decision_prices[trade.trade_id] = (trade, price)
        return price

    @staticmethod
    def _fee_fraction(route: Route, pair: TradingPairIdentifier, hop: int) -> Decimal:
        if route.protocol == ExchangeKind.uniswap_v3:
            return Decimal(route.fees[hop]) / 1_000_000
        hop_pairs = [pair] if pair.intermediary_pair is None else [pair, pair.intermediary_pair]
        tier = next((p.fee for p in hop_pairs if p.pool_address == route.pools[hop]), 0)
        return Decimal(tier or uniswap_v2.DEFAULT_V2_FEE) / 1_000_000

    def _mid_price_out_per_in(self, trade: TradeExecution, route: Route, reads: _Reads,
                              keys: dict[str, Any]) -> Decimal | None:
        """Mid price (no fee, no impact) of the whole path, output per input in human units."""
        price = Fraction(1)
        for n in range(route.hops):
            result = reads.get(keys[f"pool{trade.trade_id}:{n}"])
            if not result.success or not result.data:
                return None
            token_in, token_out = route.tokens[n], route.tokens[n + 1]
            in_is_0 = int(token_in, 16) < int(token_out, 16)
            if route.protocol == ExchangeKind.uniswap_v2:
                r0, r1 = uniswap_v2.decode_reserves(result.data)
                if r0 == 0 or r1 == 0:
                    return None
                raw = Fraction(r1, r0) if in_is_0 else Fraction(r0, r1)
            else:
                sqrt_price = uniswap_v3.decode_sqrt_price_x96(result.data)
                if sqrt_price == 0:
                    return None
                token1_per_token0 = Fraction(sqrt_price * sqrt_price, 2**192)
                raw = token1_per_token0 if in_is_0 else 1 / token1_per_token0
            price *= raw * Fraction(10) ** (self._decimals[token_in] - self._decimals[token_out])
        return Decimal(price.numerator) / Decimal(price.denominator)

    # ------------------------------------------------------------------ transactions

    def _blockchain_transaction(self, plan: TradePlan) -> BlockchainTransaction:
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
                  self.vault_address, plan.deadline],
            wrapped_function_selector=_swap_function_name(swap.data),
            wrapped_args=[swap.target, "0x" + swap.data.hex()],
            details={"to": self.vault_address, "from": self.asset_manager,
                     "data": "0x" + plan.vault_calldata.hex(), "value": 0, "gas": plan.gas_limit},
            asset_deltas=list(plan.asset_deltas),
            gas_limit=plan.gas_limit,
        )


def _check_price_moved(trade: TradeExecution, reference: Decimal, out_amount: Decimal,
                       in_amount: Decimal) -> None:
    """Refuse a quote worse than the executor's decision price `reference` by more than `planned_max_slippage`.

    The decision price is the executor's `planned_mid_price` when given, else its `planned_price` (both
    reserve per base), as they were before the trade was first planned. Without `planned_max_slippage`
    there is no check: the slippage tolerance then bounds only the distance from the fresh quote.
    """
    if trade.planned_max_slippage is None:
        return
    max_move = to_decimal(trade.planned_max_slippage, f"{_name(trade)} planned_max_slippage")
    with localcontext() as ctx:
        ctx.prec = 40
        quoted = in_amount / out_amount if trade.is_buy() else out_amount / in_amount
        worst = reference * (1 + max_move) if trade.is_buy() else reference * (1 - max_move)
        moved = (quoted - reference) / reference
    if (trade.is_buy() and quoted > worst) or (trade.is_sell() and quoted < worst):
        raise PriceMovedError(
            f"{_name(trade)}: the pool quotes {quoted:.8g} {trade.pair.quote.token_symbol} per "
            f"{trade.pair.base.token_symbol}, {moved:+.4%} from the decision price {reference:.8g}, beyond "
            f"planned_max_slippage {max_move:.4%}. Nothing was sent; re-decide the trade at the current price "
            f"or check the pool for manipulation.")


def _swap_function_name(data: bytes) -> str:
    head = data[:4]
    if head in (uniswap_v2.SWAP_EXACT_TOKENS, uniswap_v2.SWAP_EXACT_TOKENS_ROUTER02):
        return "swapExactTokensForTokens"
    if head in (uniswap_v3.EXACT_INPUT_SINGLE, uniswap_v3.EXACT_INPUT_SINGLE_ROUTER02):
        return "exactInputSingle"
    return "exactInput"


def _product(values: Any) -> Decimal:
    result = Decimal(1)
    for value in values:
        result *= value
    return result


def plan_trade(web3: Web3, vault_address: str, asset_manager: str, trade: TradeExecution,
               pairs: Sequence[TradingPairIdentifier] | None = None, wallet: HotWallet | None = None,
               **options: Any) -> TradePlan:
    """Plan (and with `wallet`, sign) one trade: a plain function for scripts. Returns its TradePlan.

    The trade gets its BlockchainTransaction and is marked started, as with `VaultRouting.setup_trades`.
    """
    routing = VaultRouting(web3, vault_address, asset_manager, pairs or [trade.pair], **options)
    return routing.setup_trades([trade], wallet).plans[0]


__all__ = ["DEFAULT_DEADLINE_SECONDS", "VaultRouting", "client_of", "plan_trade"]
