"""Fees of a same-nonce replacement that the sender's balance can pay (see chain.broadcast, "stuck")."""

from __future__ import annotations

from collections.abc import Sequence

from vaultexec.chain.gas import FeeQuote, bump_fees, fetch_fees, fit_replacement_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.model.transaction import BlockchainTransaction


def max_cost(tx: BlockchainTransaction, max_price: int) -> int:
    """The most `tx` can cost its sender at `max_price` wei per gas: gas limit x price + value (wei)."""
    return int(tx.gas_limit or 0) * max_price + int((tx.details or {}).get("value", 0))


def spendable_balances(client: RPCClient, replacing: Sequence[BlockchainTransaction],
                       live: Sequence[BlockchainTransaction]) -> dict[str, int]:
    """Per sender of `replacing`: its balance (one batched request) minus the worst-case cost of its other
    unmined `live` transactions, which a node counts against the same balance."""
    senders = sorted({str(tx.from_address) for tx in replacing})
    replies = client.batch([("eth_getBalance", [s, "latest"]) for s in senders])
    budgets = {s: int(r.value(), 16) for s, r in zip(senders, replies, strict=True)}
    skip = {id(tx) for tx in replacing}
    for tx in live:
        sender = str(tx.from_address)
        if sender in budgets and id(tx) not in skip and tx.block_number is None:
            budgets[sender] -= max_cost(tx, tx.get_planned_gas_price())
    return budgets


def replacement_fees(tx: BlockchainTransaction, market: FeeQuote, budget: int) -> FeeQuote | None:
    """Bumped fees for replacing `tx`, capped to what `budget` wei pays; None when even the least bump a
    node accepts is beyond it (replacing would only be refused for insufficient funds)."""
    previous = FeeQuote(tx.max_fee_per_gas, tx.max_priority_fee_per_gas, tx.gas_price)
    value = int((tx.details or {}).get("value", 0))
    return fit_replacement_fees(previous, bump_fees(previous, market), budget, int(tx.gas_limit or 0), value)


def plan_replacements(client: RPCClient, txs: Sequence[BlockchainTransaction], live: Sequence[BlockchainTransaction],
                      chain_id: int) -> list[tuple[BlockchainTransaction, FeeQuote | None, int]]:
    """For each of `txs` in nonce order: the fees to replace it with (None: its sender cannot pay even the
    least bump) and the wei its sender had left for it. Two batched requests: market fees, balances."""
    market = fetch_fees(client, chain_id)
    budgets = spendable_balances(client, txs, live)
    planned = []
    for tx in sorted(txs, key=lambda t: t.nonce or 0):
        sender = str(tx.from_address)
        left = budgets[sender]
        fees = replacement_fees(tx, market, left)
        if fees is not None:
            budgets[sender] -= max_cost(tx, fees.max_price)
        planned.append((tx, fees, left))
    return planned
