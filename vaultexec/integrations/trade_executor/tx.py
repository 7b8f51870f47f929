"""trade-executor's TransactionBuilder for our vault: a contract call signed as `vault.execute(...)`.

trade-executor's routers build a swap (`args_bound_func`, a web3 ContractFunction with its arguments bound)
and ask the builder to sign it. For a vault, the call is wrapped: the hot wallet signs `vault.execute(calls,
maxSpend, minReceive)`, the bounds taken from the trade's asset deltas, so the vault enforces them on chain;
`calls` approve the called contract for exactly each spend bound, then make the call (the vault's guard
leaves no allowance behind). Tokens stay in (and are delivered to) the vault; gas is paid by the hot wallet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.erc20 import encode_approve
from vaultexec.errors import BadInputError
from vaultexec.integrations.trade_executor.objects import TransactionFactory, default_transaction_factory
from vaultexec.model.addresses import checksum
from vaultexec.vault.execute import AssetBound, VaultCall, encode_execute_call

logger = logging.getLogger(__name__)

#: Gas limit when the caller gives none (a vault-wrapped three-hop swap uses well under this).
DEFAULT_GAS_LIMIT = 1_000_000


def bounds_of(asset_deltas: Sequence[Any] | None) -> tuple[list[AssetBound], list[AssetBound]]:
    """trade-executor AssetDelta objects (`asset` address, `raw_amount` int) -> (maxSpend, minReceive)."""
    spend: list[AssetBound] = []
    receive: list[AssetBound] = []
    for delta in asset_deltas or ():
        raw = int(delta.raw_amount)
        if raw == 0:
            raise BadInputError(f"asset delta of {delta.asset} is zero: nothing to bound")
        (spend if raw < 0 else receive).append(AssetBound(checksum(str(delta.asset)), abs(raw)))
    return spend, receive


class VaultTransactionBuilder:
    """Signs calls as the vault's `execute`; trade-executor's TransactionBuilder interface."""

    def __init__(self, web3: Any, client: RPCClient, wallet: HotWallet, vault_address: str,
                 transaction_factory: TransactionFactory | None = None) -> None:
        self.web3 = web3
        self.client = client
        self.wallet = wallet
        self.vault_address = checksum(vault_address)
        self.chain_id = wallet.chain_id
        self.transaction_factory = transaction_factory or default_transaction_factory()

    def init(self) -> None:
        self.wallet.sync_nonce(self.client)

    def get_internal_slippage_tolerance(self) -> None:
        """The vault enforces each trade's own bounds; it adds no tolerance of its own."""
        return None

    def sign_transaction(self, contract: Any, args_bound_func: Any, gas_limit: int | None = None,
                         gas_price_suggestion: Any = None, asset_deltas: list[Any] | None = None,
                         notes: str = "") -> Any:
        """Sign `vault.execute([contract call], maxSpend, minReceive)`; returns trade-executor's transaction."""
        data = bytes.fromhex(args_bound_func._encode_transaction_data()[2:])
        target = checksum(contract.address)
        spend, receive = bounds_of(asset_deltas)
        approvals = [VaultCall(bound.asset, encode_approve(target, bound.amount), "approve") for bound in spend]
        call = VaultCall(target, data, str(getattr(args_bound_func, "fn_name", "")))
        calldata = encode_execute_call([*approvals, call], spend, receive)
        limit = gas_limit or DEFAULT_GAS_LIMIT
        fees = fetch_fees(self.client, self.chain_id)
        signed = self.wallet.sign_call(self.vault_address, "0x" + calldata.hex(), limit, fees)
        return self.transaction_factory(
            chain_id=self.chain_id, from_address=self.wallet.address, contract_address=self.vault_address,
            function_selector="execute", tx_hash=signed.tx_hash, nonce=signed.nonce,
            details={"to": self.vault_address, "gas": limit, "target": target,
                     "function": str(getattr(args_bound_func, "fn_name", ""))},
            signed_bytes=signed.raw, notes=notes)

    def get_token_delivery_address(self) -> str:
        """Swaps deliver to the vault."""
        return self.vault_address

    def get_erc_20_balance_address(self) -> str:
        return self.vault_address

    def get_gas_wallet_address(self) -> str:
        return self.wallet.address

    def get_gas_wallet_balance(self) -> Decimal:
        """The hot wallet's native token balance (it pays the gas), exact."""
        return Decimal(int(self.client.call("eth_getBalance", [self.wallet.address, "latest"]), 16)).scaleb(-18)
