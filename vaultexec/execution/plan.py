"""What routing decided for each trade: the route, the vault calls, the bounds, the gas, the simulation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from vaultexec.chain.revert import DecodedRevert
from vaultexec.errors import VaultExecError
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.identifiers import ExchangeKind
from vaultexec.model.trade import TradePricing
from vaultexec.vault.deploy import RouterKind
from vaultexec.vault.direct import DirectRoute
from vaultexec.vault.execute import AssetBound, VaultCall


@dataclass(frozen=True)
class Route:
    """How one trade swaps: protocol, router (and the ABI the vault knows it by), token path, fee per hop.

    `fees` are V3 fee tiers; V2 hops carry 0 (the vault's key for V2 pairs). `quoter` is the contract
    quoted: the V2 router (getAmountsOut) or QuoterV2. `factory` is the V2/V3 factory the router swaps
    through (None until known); `router_kind` is NONE until the vault's guard has been read.
    """

    protocol: ExchangeKind
    router: str
    router_kind: RouterKind
    tokens: tuple[str, ...]
    fees: tuple[int, ...]
    pools: tuple[str, ...]
    quoter: str
    factory: str | None = None

    @property
    def hops(self) -> int:
        return len(self.fees)

    def describe(self) -> str:
        router = "router" if self.router_kind == RouterKind.NONE else self.router_kind.name
        return f"{self.protocol.value} via {router} {self.router}, {self.hops} hop(s)"

    def describe_direct(self) -> str:
        return f"{self.protocol.value} direct through pool(s) {', '.join(self.pools)}, {self.hops} hop(s)"


@dataclass(frozen=True)
class TradeQuote:
    """What a plan writes onto its trade, only once the whole batch passed every check (a refused batch
    leaves its trades untouched). Prices are reserve per base, amounts human units."""

    #: The quoted output: the buy's `planned_quantity` or the sell's `planned_reserve`.
    amount_out: Decimal
    price: Decimal
    mid_price: Decimal | None
    lp_fees_estimated: Decimal
    fee_tier: Decimal
    pricing: TradePricing
    #: The executor's decision price the price guard judged the quote against (None: guard off).
    decision_price: Decimal | None = None


@dataclass
class SimulationResult:
    """Pre-flight outcome of one vault transaction (`method`: eth_simulateV1 or eth_call+eth_estimateGas)."""

    success: bool
    method: str
    gas_used: int | None = None
    revert: DecodedRevert | None = None


@dataclass
class TradePlan:
    """One trade's vault transaction. Raw units throughout; `vault_calldata` is `execute(...)` with selector."""

    trade_id: int
    route: Route
    calls: list[VaultCall]
    asset_deltas: list[AssetDelta]
    max_spend: list[AssetBound]
    min_receive: list[AssetBound]
    vault_calldata: bytes
    raw_amount_in: int
    expected_out_raw: int
    amount_out_min_raw: int
    deadline: int | None
    quoted_at_block: int
    gas_estimate: int | None = None
    gas_limit: int | None = None
    simulation: SimulationResult | None = None
    quote: TradeQuote | None = None
    #: "router" (`execute`: approve + router swap in `calls`) or "direct" (`executeDirect` through the
    #: pools; `calls` is empty and `direct_route` holds the route).
    venue: str = "router"
    direct_route: DirectRoute | None = None


@dataclass
class ExecutionPlan:
    """A batch: plans in execution order (sells before buys) and what building it cost in JSON-RPC."""

    vault: str
    asset_manager: str
    chain_id: int
    block_number: int
    plans: list[TradePlan] = field(default_factory=list)
    #: JSON-RPC requests / HTTP round trips routing and pre-flight made for this batch.
    rpc_requests: int = 0
    http_round_trips: int = 0

    def get_plan(self, trade_id: int) -> TradePlan:
        for plan in self.plans:
            if plan.trade_id == trade_id:
                return plan
        raise KeyError(f"no plan for trade #{trade_id}")


@dataclass
class BatchPlan:
    """`VaultRouting.plan_batch`'s outcome: the plans of the trades that passed together, and each refused
    trade's own reason (nothing signed for it, no gas spent)."""

    plan: ExecutionPlan
    refused: dict[int, VaultExecError] = field(default_factory=dict)
