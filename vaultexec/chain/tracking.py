"""The broadcast tracker's knobs and counters, and its private state of each nonce between polls
(see chain.broadcast, which exports `TrackerConfig`, `TrackerStats` and `Persist`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vaultexec.chain.gas import FeePolicy
from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import RPCError
from vaultexec.model.transaction import BlockchainTransaction

#: Stores a transaction's new state (the tracker calls it before anything depends on that state).
Persist = Callable[[BlockchainTransaction], None]


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking knobs (seconds, blocks)."""

    #: Blocks on top of the inclusion block before a receipt is final (0 on a dev chain).
    confirmations: int = 0
    poll_interval: float = 1.0
    #: `track()` gives up after this long; transactions keep their state and may still land.
    timeout: float = 300.0
    #: Pending longer than this since last sent: replace with bumped fees (when a `resign` is given). Also
    #: the pause after a replacement the wallet cannot pay or a re-send the node refused.
    stuck_after: float = 60.0
    max_replacements: int = 3
    #: Look up receipt-less transactions by hash (to detect drops) once they waited this long.
    drop_check_after: float = 0.0
    #: Decode the revert reason of failed transactions (costs one batched request per failure).
    decode_reverts: bool = True
    #: "Nonce consumed by another transaction" needs the nonce mined with no receipt of ours for at least
    #: this long and this many new blocks (a lagging node answers the nonce before the receipt).
    nonce_consumed_after: float = 5.0
    nonce_consumed_blocks: int = 2
    #: Tip floor and fee cap of replacements (None: the chain's built-in floor, no cap).
    fee_policy: FeePolicy | None = None
    #: Drop checks (lookups by hash) per poll at most, lowest nonces first, each transaction at most once
    #: per `drop_check_after`: the cost of a poll does not grow with the batch.
    drop_checks_per_poll: int = 16
    #: Dev chains with automine only (anvil): when a sender's transactions wait in the node's pool with no
    #: new block for this long, ask the node to mine one (`evm_mine`). None: never.
    mine_when_idle_after: float | None = None
    #: Mine only when the node says it automines (`anvil_getAutomine` / `hardhat_getAutomine`): a node that
    #: mines on an interval or by hand keeps its own pace. False: mine whenever idle (tests that stand for
    #: anvil's leftover pool with automine off).
    idle_mine_only_when_automining: bool = True
    #: A first look at many receipts in a few blocks asks the blocks' receipts (`chain.block_receipts`), when
    #: the tracker was told which block its transactions were sent on top of. False: always by hash.
    receipts_by_block: bool = True


@dataclass
class TrackerStats:
    """What happened while tracking (counts)."""

    polls: int = 0
    rebroadcasts: int = 0
    replacements: int = 0
    #: Replacements not made because the sender could not pay even the least accepted bump.
    replacements_unaffordable: int = 0
    #: Re-sends or replacements the node refused while an earlier version may still land.
    refused_resends: int = 0
    reorgs: int = 0
    nonce_consumed: int = 0
    #: Lookups by hash made by the drop check.
    drop_checks: int = 0
    #: Blocks asked of an idle automining dev chain (`mine_when_idle_after`).
    idle_mines: int = 0


@dataclass
class Progress:
    """A sender's mined nonce and since when (monotonic) it has not moved: a queue that moves is not stuck."""

    mined_nonce: int
    since: float


@dataclass(frozen=True)
class SignedVersion:
    """One signed version of a nonce: what a refused replacement falls back to."""

    tx_hash: str
    signed_bytes: str | None
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    gas_price: int | None
    details: dict[str, Any] | None

    @classmethod
    def of(cls, tx: BlockchainTransaction) -> SignedVersion:
        return cls(str(tx.tx_hash), tx.signed_bytes, tx.max_fee_per_gas, tx.max_priority_fee_per_gas,
                   tx.gas_price, tx.details)

    def restore(self, tx: BlockchainTransaction) -> None:
        """Make this version the current one again; every other hash stays in `replaced_tx_hashes`."""
        tx.replaced_tx_hashes = [h for h in tx.get_all_tx_hashes() if h != self.tx_hash]
        tx.tx_hash, tx.signed_bytes, tx.details = self.tx_hash, self.signed_bytes, self.details
        tx.max_fee_per_gas, tx.max_priority_fee_per_gas = self.max_fee_per_gas, self.max_priority_fee_per_gas
        tx.gas_price = self.gas_price


@dataclass
class Watch:
    """Tracker-private state of one transaction."""

    last_sent: float
    replacements: int = 0
    #: The node refused our fees: the next poll replaces (with a resign) or re-sends.
    underpriced: bool = False
    #: The last version of this nonce the node accepted, or that may be in a pool because it waited there
    #: unmined before being replaced (None: none known, in this process): what a refused replacement
    #: falls back to.
    accepted: SignedVersion | None = None
    #: When (monotonic) and at which head the nonce was first seen mined with no receipt of ours.
    nonce_used_since: float | None = None
    nonce_used_head: int = 0
    #: No replacement or re-send before this time (monotonic): the wallet could not pay, the node refused.
    hold_until: float = 0.0
    #: When (monotonic) the drop check last looked this transaction up.
    drop_checked: float = float("-inf")
    #: Looked for in a block scan already (`chain.block_receipts`): asked for by hash from then on.
    scanned: bool = False

    def nonce_used_long_enough(self, seconds: float, blocks: int, head: int, now: float) -> bool:
        """The nonce has been mined with no receipt of ours for at least `seconds` and `blocks`."""
        return (self.nonce_used_since is not None and now - self.nonce_used_since >= seconds
                and head - self.nonce_used_head >= blocks)


@dataclass
class PollAnswers:
    """What the second request of a poll found, by id(tx)."""

    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Drop check: the current hash is known to the node.
    known: dict[int, bool] = field(default_factory=dict)
    #: Nonce-consumed check: some hash of ours is known to the node with a block number.
    landed: dict[int, bool] = field(default_factory=dict)


def mine_idle_dev_chain(client: RPCClient, config: TrackerConfig) -> bool:
    """Ask a dev chain whose pool holds our transactions with no new block for one (`evm_mine`), when the
    config allows it and (by default) the node automines; True when a block was asked for. A node that
    does not answer the automine question (not anvil or hardhat) is never asked to mine."""
    if config.mine_when_idle_after is None:
        return False
    if config.idle_mine_only_when_automining and not _automines(client):
        return False
    client.call("evm_mine")
    return True


def _automines(client: RPCClient) -> bool:
    for method in ("anvil_getAutomine", "hardhat_getAutomine"):
        try:
            return client.call(method) is True
        except RPCError:
            continue
    return False
