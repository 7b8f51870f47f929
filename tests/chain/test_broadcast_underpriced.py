"""Fee refusals against a stub node (geth's answers, which anvil does not give): a replacement refused as
"replacement transaction underpriced" falls back to the accepted version, and bytes refused for their fees
are not sent again every poll."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gas import FeeQuote
from vaultexec.chain.rpc import Reply
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import NodeRejectedError
from vaultexec.model.transaction import BlockchainTransaction, TxState

KEY = "0x" + "5a" * 32


class FeeRefusingNode:
    """Accepts the first `accept` sends, then refuses every send with `refusal`; never mines anything."""

    def __init__(self, refusal: str, accept: int) -> None:
        self.refusal, self.accept = refusal, accept
        self.sends = 0
        self.pool: set[str] = set()

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Reply]:
        return [self._answer(method, params) for method, params in calls]

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self._answer(method, params).value()

    def _answer(self, method: str, params: Sequence[Any]) -> Reply:
        if method == "eth_sendRawTransaction":
            self.sends += 1
            if self.sends > self.accept:
                return Reply(method, error=NodeRejectedError("refused", method, -32000, self.refusal))
            self.pool.add(str(params[0]))
            return Reply(method, result="0x")
        answers: dict[str, Any] = {
            "eth_blockNumber": "0x10", "eth_getTransactionCount": "0x0", "eth_maxPriorityFeePerGas": "0x1",
            "eth_gasPrice": "0x1", "eth_getBlockByNumber": {"baseFeePerGas": "0x1"}, "eth_getBalance": hex(10**20),
            "eth_getTransactionByHash": {"blockNumber": None} if self.pool else None,
        }
        return Reply(method, result=answers[method])


def signed(node: FeeRefusingNode) -> tuple[HotWallet, BlockchainTransaction]:
    wallet = HotWallet.from_key(KEY, 31337)
    wallet.sync_nonce(node)  # type: ignore[arg-type]
    tx = wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address="0x" + "de" * 20), "0x", 30_000,
                                            FeeQuote(max_fee_per_gas=10**9, max_priority_fee_per_gas=10**8))
    return wallet, tx


def test_replacement_refused_as_underpriced_falls_back_to_the_accepted_version() -> None:
    node = FeeRefusingNode("replacement transaction underpriced", accept=1)
    wallet, tx = signed(node)
    original = tx.tx_hash
    tracker = TransactionTracker(node, TrackerConfig(stuck_after=0.0, drop_check_after=0.0, max_replacements=1),  # type: ignore[arg-type]
                                 resign=wallet.resign_with_fees, chain_id=31337)
    tracker.broadcast([tx])
    for _ in range(30):
        tracker.poll([tx])
    assert node.sends == 2  # the original, one replacement; nothing after
    assert tx.tx_state is TxState.broadcasted and tx.tx_hash == original and len(tx.get_all_tx_hashes()) == 2
    assert tracker.stats.replacements == 1 and tracker.stats.refused_resends == 1
    assert "refused by the node (replacement transaction underpriced)" in (tx.notes or "")


def test_bytes_refused_for_their_fees_are_not_sent_again_every_poll() -> None:
    node = FeeRefusingNode("max fee per gas less than block base fee", accept=0)
    _, tx = signed(node)
    tracker = TransactionTracker(node, TrackerConfig(stuck_after=60.0, drop_check_after=0.0),  # type: ignore[arg-type]
                                 chain_id=31337)
    tracker.broadcast([tx])  # refused for its fees; no resign: only the same bytes can be sent again
    for _ in range(30):
        tracker.poll([tx])
    assert node.sends == 2  # the first send, one re-send, then a pause of stuck_after
    assert tx.tx_state is TxState.dropped and tx.revert_reason is None
