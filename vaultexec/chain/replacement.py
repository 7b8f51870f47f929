"""Fees of a same-nonce replacement that the sender's balance can pay (see chain.broadcast, "stuck")."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from vaultexec.chain.gas import (
    FeePolicy,
    FeeQuote,
    bump_fees,
    cap_replacement_fees,
    fetch_fees,
    fit_replacement_fees,
    least_replacement_fees,
)
from vaultexec.chain.rpc import RPCClient
from vaultexec.model.transaction import BlockchainTransaction

logger = logging.getLogger(__name__)


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


def replacement_fees(tx: BlockchainTransaction, market: FeeQuote, budget: int,
                     policy: FeePolicy | None = None) -> FeeQuote | None:
    """Bumped fees for replacing `tx`, capped to what `budget` wei pays and to the policy's fee cap; None
    when even the least bump a node accepts is beyond either (replacing would only be refused)."""
    previous = FeeQuote(tx.max_fee_per_gas, tx.max_priority_fee_per_gas, tx.gas_price)
    value = int((tx.details or {}).get("value", 0))
    bumped = cap_replacement_fees(bump_fees(previous, market), policy)
    if bumped.max_price < least_replacement_fees(previous).max_price:
        logger.warning("%s (nonce %s): the fee cap %s wei leaves no room for a replacement", tx.tx_hash, tx.nonce,
                       policy.max_fee if policy else None)
        return None
    return fit_replacement_fees(previous, bumped, budget, int(tx.gas_limit or 0), value)


def plan_replacements(client: RPCClient, txs: Sequence[BlockchainTransaction], live: Sequence[BlockchainTransaction],
                      chain_id: int, policy: FeePolicy | None = None
                      ) -> list[tuple[BlockchainTransaction, FeeQuote | None, int]]:
    """For each of `txs` in nonce order: the fees to replace it with (None: its sender cannot pay even the
    least bump, or the fee cap forbids it) and the wei its sender had left for it. Two batched requests:
    market fees (the policy's tip floor, the cap applied to the bump, not to the market), balances."""
    market = fetch_fees(client, chain_id, policy=dataclasses.replace(policy, max_fee=None) if policy else None)
    budgets = spendable_balances(client, txs, live)
    planned = []
    for tx in sorted(txs, key=lambda t: t.nonce or 0):
        sender = str(tx.from_address)
        left = budgets[sender]
        fees = replacement_fees(tx, market, left, policy)
        if fees is not None:
            budgets[sender] -= max_cost(tx, fees.max_price)
        planned.append((tx, fees, left))
    return planned
