"""Settlement: turn landed (or refused) vault transactions into settled trades, from logs only.

Success: the vault's `Executed` event gives the exact raw amounts spent and received; the pools'
`Swap` events (Uniswap V2 and V3) give each hop's input and output, from which the LP fees and a token
tax are derived. Failure: the trade is marked failed with the decoded reason kept on its transaction.

Hops are the `Swap` events of the trade's own route pools only: a swap of another pool in the same
transaction (e.g. a tax token selling its collected tax inside `transfer`) is not the trade's.

LP fee rule (documented, used for `lp_fees_paid`): each hop's fee is what its pool keeps, in its input
token (the route pair's fee tier; a V2 pair without one: 3000). A V2 pair keeps an unrounded
`amount_in * fee_tier / 1e6` (its invariant check charges the fraction, nothing is rounded); a V3 pool
rounds its fee up, `ceil(amount_in * fee_tier / 1e6)` (`SwapMath.computeSwapStep`: the input less the
floor of the input net of fee), so a 1-raw-unit V3 swap really pays all of it. A hop's input is valued at
the trade's own executed rate: the whole input of every hop is worth the trade's executed reserve `R`, so
the fee of hop k in reserve raw units is `fee_k * R / amount_in_k`, kept exact and rounded up only at
`LP_FEE_EXTRA_DIGITS` digits below the reserve's raw unit (a cost is never understated). A V3 swap that
crosses initialized ticks rounds up once per step; that (under one raw unit per crossed tick) is not
counted.

Token tax: the vault received less of the output token than the route's last pool sent out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction
from typing import Any

from eth_utils.crypto import keccak

from vaultexec.chain.broadcast import TransactionTracker
from vaultexec.chain.rpc import RPCClient
from vaultexec.dex.abiread import decode_words as abi_decode
from vaultexec.errors import ReceiptLogsMissingError, SettlementError, TransactionTimeoutError, VaultExecError
from vaultexec.execution.sandwich import PoolAtBlockStart, ReferencePrice, check_sandwiches, first_in_block
from vaultexec.model.identifiers import FEE_DENOMINATOR, ExchangeKind
from vaultexec.model.run_state import RunState, utc_now
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.protocol import ExecutionStore

logger = logging.getLogger(__name__)

EXECUTED_TOPIC = "0x" + keccak(text="Executed(address,address[],uint256[],address[],uint256[])").hex()
V2_SWAP_TOPIC = "0x" + keccak(text="Swap(address,uint256,uint256,uint256,uint256,address)").hex()
V3_SWAP_TOPIC = "0x" + keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)").hex()
_SETTLEMENT_TOPICS = [EXECUTED_TOPIC, V2_SWAP_TOPIC, V3_SWAP_TOPIC]
#: Blocks of one eth_getLogs query: at most this many blocks apart from the previous one of the run...
MAX_LOG_BLOCK_GAP = 4
#: ...and at most this many blocks from the run's first (public nodes also cap ranges).
MAX_LOG_BLOCK_SPAN = 500
#: Uniswap V2's fee, in hundredths of a basis point: for V2 pairs whose identifier has fee 0.
V2_FEE_TIER = 3000
#: Digits below the reserve's raw unit kept in `lp_fees_paid` (a V2 pair's 0.3 % of 1 raw unit is 0.003).
LP_FEE_EXTRA_DIGITS = 18
#: Significant digits of `executed_price` (rounded up on buys, down on sells: never flattering).
PRICE_DIGITS = 36
#: Track-and-settle rounds when receipts vanish between tracking and settlement (reorgs).
MAX_SETTLE_ROUNDS = 3


@dataclass(frozen=True)
class SwapHop:
    """One pool swap seen in a transaction's logs (raw units of the hop's input and output tokens)."""

    pool: str
    kind: ExchangeKind
    amount_in: int
    amount_out: int


@dataclass(frozen=True)
class ExecutionLogs:
    """What one vault transaction did: raw spent/received per asset (lower-case address) and the hops."""

    spent: dict[str, int]
    received: dict[str, int]
    hops: list[SwapHop] = field(default_factory=list)


def _topic0(log: Mapping[str, Any]) -> str:
    topics = log.get("topics") or []
    return str(topics[0]).lower() if topics else ""


def _data(log: Mapping[str, Any]) -> bytes:
    return bytes.fromhex(str(log.get("data", "0x")).removeprefix("0x"))


def parse_execution_logs(logs: Iterable[Mapping[str, Any]], vault: str) -> ExecutionLogs:
    """Read the vault's `Executed` event and the pools' `Swap` events of one transaction, in log order.

    SettlementError when the vault emitted no `Executed` (the call was not a successful vault execute).
    """
    vault = vault.lower()
    executed: ExecutionLogs | None = None
    hops: list[SwapHop] = []
    for log in sorted(logs, key=lambda entry: int(str(entry.get("logIndex", "0x0")), 16)):
        topic = _topic0(log)
        address = str(log["address"]).lower()
        if topic == EXECUTED_TOPIC and address == vault:
            spend_assets, spent, receive_assets, received = abi_decode(
                ["address[]", "uint256[]", "address[]", "uint256[]"], _data(log))
            executed = ExecutionLogs({a.lower(): int(v) for a, v in zip(spend_assets, spent, strict=True)},
                                     {a.lower(): int(v) for a, v in zip(receive_assets, received, strict=True)})
        elif topic == V2_SWAP_TOPIC:
            in0, in1, out0, out1 = abi_decode(["uint256"] * 4, _data(log))
            hops.append(SwapHop(address, ExchangeKind.uniswap_v2, in0 + in1, out0 + out1))
        elif topic == V3_SWAP_TOPIC:
            amount0, amount1 = abi_decode(["int256", "int256"], _data(log)[:64])
            hops.append(SwapHop(address, ExchangeKind.uniswap_v3, max(amount0, amount1, 0),
                                -min(amount0, amount1, 0)))
    if executed is None:
        raise SettlementError(f"no Executed event of vault {vault} in the transaction's logs: it was not a "
                              "successful vault execute; inspect it, then close it by hand "
                              "(repair with force and a note)")
    return ExecutionLogs(executed.spent, executed.received, hops)


def calculate_lp_fee_raw(hops: Sequence[SwapHop], fee_tiers: Sequence[int], executed_reserve_raw: int) -> Fraction:
    """LP fees of all hops in reserve raw units, exact, by the module's rule (V2 unrounded, V3 as the pool
    rounds)."""
    total = Fraction(0)
    for hop, tier in zip(hops, fee_tiers, strict=True):
        if hop.amount_in <= 0:
            continue
        if hop.kind is ExchangeKind.uniswap_v2:
            fee_in_token = Fraction(hop.amount_in * tier, FEE_DENOMINATOR)
        else:
            fee_in_token = Fraction(-(-hop.amount_in * tier // FEE_DENOMINATOR))
        total += fee_in_token * executed_reserve_raw / hop.amount_in
    return total


def lp_fee_decimal(fee_raw: Fraction, decimals: int) -> Decimal:
    """`fee_raw` raw units as a human amount, rounded up at `LP_FEE_EXTRA_DIGITS` digits below a raw unit."""
    units = -(-fee_raw.numerator * 10**LP_FEE_EXTRA_DIGITS // fee_raw.denominator)
    exponent = -(decimals + LP_FEE_EXTRA_DIGITS)
    while units % 10 == 0 and exponent < -decimals:  # no trailing zeros below the raw unit
        units //= 10
        exponent += 1
    return Decimal(units).scaleb(exponent)


def route_hops(trade: TradeExecution, hops: Sequence[SwapHop]) -> list[tuple[SwapHop, int]]:
    """The swaps of the trade's route pools, in log order, each with its pool's fee tier.

    Swaps of other pools are left out (logged): they are not the trade's, and counting them would charge
    their fees to the trade and compare the vault's receipt with another pool's output.
    """
    tiers = {pool.lower(): fee for pool, fee in trade.pair.get_route_pools(trade.is_buy())}
    result = []
    for hop in hops:
        tier = tiers.get(hop.pool)
        if tier is None:
            logger.info("trade %d: swap of pool %s is not on the route; ignored", trade.trade_id, hop.pool)
            continue
        if tier == 0 and hop.kind is ExchangeKind.uniswap_v2:
            tier = V2_FEE_TIER
        result.append((hop, tier))
    return result


def _price(reserve: Decimal, quantity: Decimal, buy: bool) -> Decimal:
    context = Context(prec=PRICE_DIGITS, rounding=ROUND_CEILING if buy else ROUND_FLOOR)
    return context.divide(reserve, abs(quantity))


def _landed_tx(trade: TradeExecution) -> BlockchainTransaction:
    if not trade.blockchain_transactions:
        raise SettlementError(f"trade #{trade.trade_id} has no transaction to settle")
    return trade.blockchain_transactions[-1]


def _ensure_broadcasted(trade: TradeExecution, tx: BlockchainTransaction) -> None:
    if trade.get_status() is TradeStatus.started:
        trade.mark_broadcasted(tx.broadcasted_at or utc_now())


def settle_success(trade: TradeExecution, tx: BlockchainTransaction, logs: Iterable[Mapping[str, Any]],
                   vault: str, native_token_price: Decimal | None = None) -> None:
    """Mark `trade` successful from its transaction's logs (exact raw amounts, see module doc)."""
    parsed = parse_execution_logs(logs, vault)
    base, reserve = trade.pair.base, trade.reserve_currency
    base_key, reserve_key = base.address.lower(), reserve.address.lower()
    if trade.is_buy():
        quantity_raw, reserve_raw = parsed.received.get(base_key), parsed.spent.get(reserve_key)
    else:
        quantity_raw, reserve_raw = parsed.spent.get(base_key), parsed.received.get(reserve_key)
    if quantity_raw is None or reserve_raw is None:
        raise SettlementError(
            f"trade #{trade.trade_id}: the Executed event of {tx.tx_hash} does not move {base.token_symbol} and "
            f"{reserve.token_symbol} (spent {parsed.spent}, received {parsed.received}); inspect it, then close "
            "it by hand (repair with force and a note)")
    if quantity_raw == 0:
        raise SettlementError(
            f"trade #{trade.trade_id}: the Executed event of {tx.tx_hash} moves zero {base.token_symbol} "
            f"(spent {parsed.spent}, received {parsed.received}); no price exists: inspect it, then close "
            "it by hand (repair with force and a note)")
    quantity = base.convert_to_decimal(quantity_raw)
    executed_reserve = reserve.convert_to_decimal(reserve_raw)
    lp_fees = None
    hops = route_hops(trade, parsed.hops)
    if hops:
        fee_raw = calculate_lp_fee_raw([h for h, _ in hops], [tier for _, tier in hops], reserve_raw)
        lp_fees = lp_fee_decimal(fee_raw, reserve.decimals)
        _note_token_tax(trade, parsed, hops[-1][0])
    _ensure_broadcasted(trade, tx)
    trade.mark_success(
        executed_at=tx.included_at or utc_now(),
        executed_price=_price(executed_reserve, quantity, trade.is_buy()),
        executed_quantity=quantity if trade.is_buy() else -quantity,
        executed_reserve=executed_reserve,
        lp_fees=lp_fees,
        native_token_price=native_token_price,
    )


def _note_token_tax(trade: TradeExecution, parsed: ExecutionLogs, last_hop: SwapHop) -> None:
    output = trade.get_output_asset()
    received = parsed.received.get(output.address.lower(), 0)
    if received < last_hop.amount_out:
        tax = last_hop.amount_out - received
        trade.add_note(f"token tax: pool {last_hop.pool} sent {last_hop.amount_out} raw {output.token_symbol}, "
                       f"the vault received {received} ({tax} raw withheld)")
        logger.warning("trade %d: %s token tax of %d raw", trade.trade_id, output.token_symbol, tax)


def settle_failure(trade: TradeExecution, tx: BlockchainTransaction, reason: str | None = None) -> None:
    """Mark `trade` failed; `reason` (else the transaction's decoded revert reason) is kept on the tx."""
    if reason is not None:
        tx.revert_reason = reason
    if tx.revert_reason is None:
        tx.revert_reason = "failed without a decoded reason"
    if tx.block_number is not None or tx.broadcasted_at is not None:
        _ensure_broadcasted(trade, tx)
    if tx.status is not False:  # not mined (refused, nonce consumed): the model's revert lookup misses it
        trade.add_note(f"failed: {tx.revert_reason}")
    trade.mark_failed(tx.included_at or utc_now())


def _block_runs(blocks: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted block numbers grouped into (first, last) runs with gaps of at most `MAX_LOG_BLOCK_GAP` and
    spans of at most `MAX_LOG_BLOCK_SPAN`: a batch mined in a few blocks is one query, and blocks far apart
    (a resume hours later) never pull in every swap of the chain between them."""
    runs: list[tuple[int, int]] = []
    for block in sorted(set(blocks)):
        if runs and block - runs[-1][1] <= MAX_LOG_BLOCK_GAP and block - runs[-1][0] < MAX_LOG_BLOCK_SPAN:
            runs[-1] = (runs[-1][0], block)
        else:
            runs.append((block, block))
    return runs


def fetch_execution_logs(client: RPCClient, txs: Sequence[BlockchainTransaction]) -> dict[str, list[Any]]:
    """Logs (Executed + Swap only) of mined `txs`, by lower-case tx hash, read from the node at settlement
    time (all runs of blocks in one batched request): a transaction whose block was reorged out since it
    was tracked has no logs there, and is tracked again."""
    wanted = {str(tx.tx_hash).lower() for tx in txs if tx.block_number is not None}
    by_hash: dict[str, list[Any]] = {h: [] for h in wanted}
    runs = _block_runs([tx.block_number for tx in txs if tx.block_number is not None])
    calls = [("eth_getLogs", [{"fromBlock": hex(a), "toBlock": hex(b), "topics": [_SETTLEMENT_TOPICS]}])
             for a, b in runs]
    for (first, last), reply in zip(runs, client.batch(calls) if calls else [], strict=True):
        if reply.error is not None:  # e.g. the blocks are gone (reorg): those trades are tracked again
            logger.warning("logs of blocks %d..%d unavailable: %s", first, last, reply.error)
            continue
        for log in reply.result or []:
            tx_hash = str(log.get("transactionHash", "")).lower()
            if tx_hash in by_hash:
                by_hash[tx_hash].append(log)
    return by_hash


_NO_CODE = "nothing was executed"


def _why_no_logs(client: RPCClient, txs: Sequence[BlockchainTransaction]) -> dict[str, str]:
    """For mined transactions without settlement logs whose receipt is still in the block they were tracked in
    (so no reorg): why, by lower-case hash. The called address has no code (nothing ran: the trade fails), or
    it ran and emitted no `Executed` event (a SettlementError: look at the transaction). One batched request;
    a transaction whose receipt is gone or moved is left out (a reorg: tracked again)."""
    if not txs:
        return {}
    calls: list[tuple[str, list[Any]]] = []
    for tx in txs:
        calls += [("eth_getTransactionReceipt", [tx.tx_hash]),
                  ("eth_getCode", [tx.contract_address, hex(int(tx.block_number or 0))])]
    replies = client.batch(calls)
    found: dict[str, str] = {}
    for n, tx in enumerate(txs):
        receipt, code = replies[2 * n], replies[2 * n + 1]
        if receipt.error is not None or not receipt.result or code.error is not None:
            continue
        if str(receipt.result.get("blockHash")) != tx.block_hash:
            continue
        if str(code.result or "0x") in ("0x", ""):
            found[str(tx.tx_hash).lower()] = (
                f"{_NO_CODE}: {tx.tx_hash} succeeded, but {tx.contract_address} has no code at block "
                f"{tx.block_number} (not a vault: check the vault address); only gas was spent")
        else:
            found[str(tx.tx_hash).lower()] = (
                f"{tx.tx_hash} succeeded in block {tx.block_number} (still canonical), but {tx.contract_address} "
                "emitted no Executed event: look at the transaction, then close the trade with repair")
    return found


def settle_trades(client: RPCClient, trades: Sequence[TradeExecution], vault: str, run_state: RunState,
                  native_token_price: Decimal | None = None,
                  vanished: set[int] | None = None, reference: ReferencePrice | None = None,
                  first_in_block: frozenset[str] = frozenset()) -> list[TradeExecution]:
    """Settle every trade whose last transaction is final; each independently (one failure stops none).

    Returns the trades that settled (success or failed). A trade that cannot be settled stays pending,
    with the error in `run_state.last_errors` and a note on the trade; the ids of those whose receipt's
    logs are gone (reorged out) are added to `vanished`.
    """
    final = [t for t in trades if t.blockchain_transactions
             and _landed_tx(t).tx_state in (TxState.confirmed, TxState.failed, TxState.replaced)]
    successes = [_landed_tx(t) for t in final if _landed_tx(t).tx_state is TxState.confirmed]
    logs = fetch_execution_logs(client, successes) if successes else {}
    unlogged = _why_no_logs(client, [tx for tx in successes if not logs.get(str(tx.tx_hash).lower())])
    settled = []
    for trade in final:
        tx = _landed_tx(trade)
        try:
            if tx.tx_state is TxState.confirmed:
                tx_logs = logs.get(str(tx.tx_hash).lower(), [])
                why = unlogged.get(str(tx.tx_hash).lower())
                if not tx_logs and why is not None:
                    if why.startswith(_NO_CODE):
                        settle_failure(trade, tx, why)
                        run_state.record_trade_failure(trade.trade_id, why)
                        settled.append(trade)
                        continue
                    raise SettlementError(why)
                if not tx_logs:
                    raise ReceiptLogsMissingError(
                        f"no logs for {tx.tx_hash} in block {tx.block_number}: the receipt may have been "
                        "reorged out; it will be tracked again")
                settle_success(trade, tx, tx_logs, vault, native_token_price)
                run_state.record_trade_success(trade.trade_id)
            else:
                settle_failure(trade, tx)
                run_state.record_trade_failure(trade.trade_id, str(tx.get_revert_reason()))
            settled.append(trade)
        except VaultExecError as exc:
            if isinstance(exc, ReceiptLogsMissingError) and vanished is not None:
                vanished.add(trade.trade_id)
            logger.error("trade %d cannot be settled: %s", trade.trade_id, exc)
            trade.add_note(f"settlement error: {exc}")
            run_state.record_trade_error(trade.trade_id, str(exc))
    check_sandwiches(settled, reference or PoolAtBlockStart(client, vault, first_in_block))
    return settled


def track_and_settle(client: RPCClient, tracker: TransactionTracker, trades: Sequence[TradeExecution],
                     store: ExecutionStore, vault: str, run_state: RunState,
                     native_token_price: Decimal | None = None,
                     on_tracked: Callable[[Sequence[TradeExecution]], None] | None = None,
                     reference: ReferencePrice | None = None) -> list[TradeExecution]:
    """Track the trades' last transactions until final (or timeout), settle them, store each settled one.

    On a tracking timeout the trades that did become final are still settled; the others stay pending.
    A store failure for one trade is recorded and does not stop the others (resume() settles it again).
    """
    settled: list[TradeExecution] = []
    remaining = list(trades)
    for _ in range(MAX_SETTLE_ROUNDS):
        first = track_round(tracker, remaining)
        if on_tracked is not None:
            on_tracked(remaining)
        result = settle_round(client, remaining, first, vault, run_state, native_token_price, reference)
        store_settled(store, result.settled, run_state)
        settled += result.settled
        remaining = result.vanished
        if not remaining:
            break
        retrack(remaining)
    return settled


def track_round(tracker: TransactionTracker, trades: Sequence[TradeExecution]) -> frozenset[str]:
    """Track the trades' last transactions until final (a timeout is logged: those stay pending); returns the
    hashes the tracker saw first in their block (the sandwich check's shortcut, `sandwich.first_in_block`)."""
    txs = [t.blockchain_transactions[-1] for t in trades if t.blockchain_transactions]
    try:
        tracker.track(txs)
    except TransactionTimeoutError as exc:
        logger.warning("%s", exc)
    return first_in_block(tracker, txs)


@dataclass(frozen=True)
class SettleRound:
    """One round's outcome: the trades settled, and those whose receipt vanished (to be tracked again)."""

    settled: list[TradeExecution]
    vanished: list[TradeExecution]


def settle_round(client: RPCClient, trades: Sequence[TradeExecution], first: frozenset[str], vault: str,
                 run_state: RunState, native_token_price: Decimal | None = None,
                 reference: ReferencePrice | None = None) -> SettleRound:
    """Settle the tracked trades, not storing them (`store_settled`: the executor does, beside the next chunk's
    sends)."""
    vanished: set[int] = set()
    done = settle_trades(client, trades, vault, run_state, native_token_price, vanished, reference, first)
    return SettleRound(done, [t for t in trades if t.is_pending() and t.trade_id in vanished])


def retrack(trades: Sequence[TradeExecution]) -> None:
    """Trades whose receipt vanished before settlement (a reorg?) go back to broadcasted, to be tracked again."""
    logger.warning("receipts of trades %s vanished before settlement (reorg?): tracking them again",
                   [t.trade_id for t in trades])
    for trade in trades:
        trade.blockchain_transactions[-1].tx_state = TxState.broadcasted


def store_settled(store: ExecutionStore, trades: Sequence[TradeExecution], run_state: RunState) -> None:
    """Store settled trades in one batched write; if the batch is refused, trade by trade, so that one
    bad record does not keep the others unstored (a trade not stored is settled again by resume())."""
    if not trades:
        return
    try:
        store.update_many(trades)
        return
    except VaultExecError as exc:
        logger.warning("batched store of %d settled trades refused (%s); storing them one by one",
                       len(trades), exc)
    for trade in trades:
        try:
            store.update(trade)
        except VaultExecError as exc:
            logger.error("trade %d settled but not stored: %s", trade.trade_id, exc)
            run_state.record_trade_error(trade.trade_id, f"settled, not stored: {exc}")
