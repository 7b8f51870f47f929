"""Close the nonce gap a transaction refused at its first broadcast leaves behind.

A node that refuses nonce n (insufficient funds, intrinsic gas too low, gas limit above the block's...)
holds back every later transaction of the sender: n+1 waits in the pool until n is mined. When no
version of n was ever accepted:

- a later nonce of the sender is in flight: the gap is filled at once with a 0-value self-transfer
  (21000 gas, current fees) signed with nonce n; if the node refuses that too, n goes back to the wallet;
- otherwise n goes back to the wallet (`HotWallet.release_nonces`): the next allocation reuses it.

Best effort: an RPC failure while filling gives the nonces back to the wallet instead, and nothing here
stops the batch (`TransactionTracker` also logs and goes on if closing a gap fails).

The filler is the one transaction sent without a write-ahead record, and that is harmless: it moves no
funds (0 value to the sender itself, 21000 gas), belongs to no trade, and nothing has to find it after
a crash: the wallet syncs its nonce from the node's pending count, which counts a filler in the pool.
Should a filler whose send seemed to fail still land, it only takes n before a transaction of ours that
reused n; that one is then seen as "nonce consumed" by the tracker and its trade fails, nothing executed.

The refused transaction keeps its stored bytes; once n is taken by the filler or by a new transaction it
can never execute, so the trade is failed for good ("nothing was executed").
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet, SignedTx
from vaultexec.errors import VaultExecError, WalletError
from vaultexec.model.transaction import BlockchainTransaction

logger = logging.getLogger(__name__)

#: Gas of a plain transfer with no calldata.
TRANSFER_GAS = 21_000


class NonceGapFiller:
    """Fills or releases the nonces of `wallet`'s transactions refused at their first broadcast."""

    def __init__(self, client: RPCClient, wallet: HotWallet) -> None:
        self.client = client
        self.wallet = wallet
        #: Hashes of the fillers sent, by nonce (for logs and tests).
        self.fillers: dict[int, str] = {}

    def close(self, refused: Sequence[BlockchainTransaction], in_flight: Collection[int]) -> None:
        """Handle `refused` (never accepted by the node); `in_flight`: the sender's accepted nonces."""
        ours = [tx for tx in refused if tx.nonce is not None and _same(tx.from_address, self.wallet.address)]
        for tx in refused:
            if tx not in ours:
                logger.warning("nonce %s of %s left a gap, but it is not this wallet's: not filled",
                               tx.nonce, tx.from_address)
        to_fill = [tx for tx in ours if any(n > int(tx.nonce or 0) for n in in_flight)]
        to_release = [tx for tx in ours if tx not in to_fill]
        if to_fill:
            to_release += self._try_fill(to_fill)
        if to_release:
            self._release(to_release)

    def _try_fill(self, txs: list[BlockchainTransaction]) -> list[BlockchainTransaction]:
        """`_fill`, or every nonce back to the wallet when the node cannot be asked (fees, send)."""
        try:
            return self._fill(txs)
        except VaultExecError as exc:
            logger.error("cannot fill nonces %s of %s (%s): giving them back to the wallet",
                         [tx.nonce for tx in txs], self.wallet.address, exc)
            return txs

    def _fill(self, txs: list[BlockchainTransaction]) -> list[BlockchainTransaction]:
        """Send one filler per transaction (one batch); returns those whose filler was refused too."""
        fees = fetch_fees(self.client, self.wallet.chain_id)
        fillers: list[SignedTx] = [self.wallet.sign_call(self.wallet.address, "0x", TRANSFER_GAS, fees,
                                                         nonce=tx.nonce) for tx in txs]
        replies = self.client.batch([("eth_sendRawTransaction", [f.raw]) for f in fillers])
        refused = []
        for tx, filler, reply in zip(txs, fillers, replies, strict=True):
            if reply.error is not None and "already known" not in reply.error.rpc_message.lower():
                logger.error("filler of nonce %d of %s refused too (%s): giving the nonce back to the wallet",
                             filler.nonce, self.wallet.address, reply.error.rpc_message)
                refused.append(tx)
                continue
            self.fillers[filler.nonce] = filler.tx_hash
            _note(tx, f"nonce {filler.nonce} filled by {filler.tx_hash} (0-value self-transfer) so that the "
                      "sender's later transactions are not held back")
            logger.warning("nonce %d of %s refused at broadcast while later nonces are in flight: filled by %s",
                           filler.nonce, self.wallet.address, filler.tx_hash)
        return refused

    def _release(self, txs: list[BlockchainTransaction]) -> None:
        nonces = sorted(int(tx.nonce or 0) for tx in txs)
        allocated = self.wallet.next_nonce
        if allocated is None:
            logger.info("nonces %s of %s are free again; the wallet syncs them from the chain", nonces,
                        self.wallet.address)
            return
        try:
            self.wallet.release_nonces([n for n in nonces if n < allocated])
        except WalletError as exc:
            logger.error("cannot give nonces %s back to the wallet: %s", nonces, exc)
            return
        for tx in txs:
            _note(tx, f"nonce {tx.nonce} given back to the wallet: the next transaction reuses it")


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.lower() == b.lower()


def _note(tx: BlockchainTransaction, line: str) -> None:
    tx.notes = line if not tx.notes else f"{tx.notes}\n{line}"
