"""What routing decided for each trade: the route, the vault calls, the bounds, the gas, the simulation."""

from __future__ import annotations

from dataclasses import dataclass, field

from vaultexec.chain.revert import DecodedRevert
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.identifiers import ExchangeKind
from vaultexec.vault.deploy import RouterKind
from vaultexec.vault.execute import AssetBound, VaultCall


@dataclass(frozen=True)
class Route:
    """How one trade swaps: protocol, router (and the ABI the vault knows it by), token path, fee per hop.

    `fees` are V3 fee tiers; V2 hops carry 0 (the vault's key for V2 pairs). `quoter` is the contract
    quoted: the V2 router (getAmountsOut) or QuoterV2.
    """

    protocol: ExchangeKind
    router: str
    router_kind: RouterKind
    tokens: tuple[str, ...]
    fees: tuple[int, ...]
    pools: tuple[str, ...]
    quoter: str

    @property
    def hops(self) -> int:
        return len(self.fees)

    def describe(self) -> str:
        return f"{self.protocol.value} via {self.router_kind.name} {self.router}, {self.hops} hop(s)"


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
