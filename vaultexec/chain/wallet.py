"""The hot wallet: loads the key safely, allocates nonces locally, signs transactions with eth-account.

The key comes from an environment variable or an encrypted keystore file; it never appears in a log, an
exception message or a repr. Nonces: one `eth_getTransactionCount(address, "pending")` sync, then local
allocation; a nonce handed out is never handed out again, even after a re-sync, unless it is given back
with `release_nonces` (signed but never sent): the next allocations fill it first, so no gap is left.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from vaultexec.chain.gas import FeeQuote
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.signer import Eip1559Signer
from vaultexec.errors import WalletError
from vaultexec.model.addresses import checksum
from vaultexec.model.transaction import BlockchainTransaction, TxState

logger = logging.getLogger(__name__)

DEFAULT_KEY_ENV_VAR = "VAULTEXEC_PRIVATE_KEY"
DEFAULT_KEYSTORE_PASSWORD_ENV_VAR = "VAULTEXEC_KEYSTORE_PASSWORD"


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction: raw bytes (0x hex), hash (0x hex) and nonce."""

    raw: str
    tx_hash: str
    nonce: int


def pending_nonce(client: RPCClient, address: str) -> int:
    """The node's pending nonce of `address` (one request)."""
    return int(client.call("eth_getTransactionCount", [address, "pending"]), 16)


def account_from_key(private_key: str) -> LocalAccount:
    """A signing account from a 32-byte hex key. The error never contains the key."""
    try:
        account: LocalAccount = Account.from_key(private_key.strip())
    except Exception:  # eth-account raises several types, some quoting the input
        raise WalletError("The private key is not valid: expected 32 bytes as 64 hex digits "
                          "(optionally 0x-prefixed).") from None
    return account


def account_from_env(env_var: str = DEFAULT_KEY_ENV_VAR) -> LocalAccount:
    """A signing account from the key in the environment variable `env_var`."""
    key = os.environ.get(env_var)
    if not key:
        raise WalletError(f"No private key: set the environment variable {env_var} or use a keystore file.")
    try:
        return account_from_key(key)
    except WalletError:
        raise WalletError(f"The private key in {env_var} is not valid: expected 32 bytes as 64 hex "
                          "digits (optionally 0x-prefixed).") from None


def account_from_keystore(path: str | Path, password_env_var: str = DEFAULT_KEYSTORE_PASSWORD_ENV_VAR
                          ) -> LocalAccount:
    """A signing account from an encrypted (Web3 Secret Storage) keystore, password from `password_env_var`."""
    password = os.environ.get(password_env_var)
    if password is None:
        raise WalletError(f"Keystore {path} needs its password in the environment variable {password_env_var}.")
    try:
        keystore = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise WalletError(f"Cannot read keystore file {path}: {exc}") from None
    try:
        key = Account.decrypt(keystore, password)
    except Exception:  # wrong password or format: ValueError/TypeError/KeyError
        raise WalletError(f"Cannot decrypt keystore {path}: wrong password in {password_env_var} "
                          "or not a keystore file.") from None
    account: LocalAccount = Account.from_key(key)
    return account


class HotWallet:
    """Signs for one address on one chain. Thread-safe nonce allocation."""

    def __init__(self, account: LocalAccount, chain_id: int) -> None:
        self._account = account
        self.address = to_checksum_address(account.address)
        self.chain_id = chain_id
        self._next_nonce: int | None = None
        #: Nonces given back by `release_nonces`, below `_next_nonce`; allocated again first, lowest first.
        self._released: set[int] = set()
        self._lock = threading.Lock()
        self._signer = Eip1559Signer(bytes(account.key))

    def __repr__(self) -> str:
        return f"HotWallet({self.address}, chain {self.chain_id})"

    __str__ = __repr__

    # -- loading -----------------------------------------------------------------------------------

    @property
    def account(self) -> LocalAccount:
        """The signing account (for callers that send through web3, e.g. owner transactions)."""
        return self._account

    @classmethod
    def from_key(cls, private_key: str, chain_id: int) -> HotWallet:
        """From a 32-byte hex key. The error never contains the key."""
        return cls(account_from_key(private_key), chain_id)

    @classmethod
    def from_env(cls, chain_id: int, env_var: str = DEFAULT_KEY_ENV_VAR) -> HotWallet:
        return cls(account_from_env(env_var), chain_id)

    @classmethod
    def from_keystore(cls, path: str | Path, chain_id: int,
                      password_env_var: str = DEFAULT_KEYSTORE_PASSWORD_ENV_VAR) -> HotWallet:
        """From an encrypted (Web3 Secret Storage) keystore file; the password from `password_env_var`."""
        return cls(account_from_keystore(path, password_env_var), chain_id)

    # -- nonces --------------------------------------------------------------------------------------

    def sync_nonce(self, client: RPCClient, chain_nonce: int | None = None) -> int:
        """Read the chain's pending nonce (one request; none when the caller just read it: `chain_nonce`);
        never moves the local counter backwards."""
        if chain_nonce is None:
            chain_nonce = pending_nonce(client, self.address)
        with self._lock:
            if self._next_nonce is not None and self._next_nonce > chain_nonce:
                logger.info("nonce of %s: chain says %d, keeping local %d (transactions not yet seen)",
                            self.address, chain_nonce, self._next_nonce)
            else:
                self._next_nonce = chain_nonce
            used = {n for n in self._released if n < chain_nonce}
            if used:  # another signer of this key took them: they cannot be filled by us any more
                logger.warning("released nonces %s of %s were used elsewhere", sorted(used), self.address)
                self._released -= used
            return self._next_nonce

    def allocate_nonce(self) -> int:
        """The lowest released nonce if any, else the next new one."""
        with self._lock:
            if self._next_nonce is None:
                raise WalletError(f"Nonces of {self.address} are not synced: call sync_nonce() first.")
            if self._released:
                nonce = min(self._released)
                self._released.discard(nonce)
                return nonce
            nonce = self._next_nonce
            self._next_nonce += 1
            return nonce

    def release_nonces(self, nonces: Iterable[int]) -> None:
        """Give back nonces allocated but never sent (e.g. the store refused their trades' write-ahead).

        Only for nonces whose signed bytes cannot reach a node: the next allocations reuse them, lowest
        first, so later transactions do not wait behind a gap. Should a stored copy of such a transaction
        still be sent (e.g. a write that failed only in appearance), its nonce is shared with the new
        transaction: at most one of them can ever execute.
        """
        with self._lock:
            if self._next_nonce is None:
                raise WalletError(f"Nonces of {self.address} are not synced: nothing was allocated.")
            given = set(nonces)
            unknown = {n for n in given if n >= self._next_nonce}
            if unknown:
                raise WalletError(f"Nonces {sorted(unknown)} of {self.address} were never allocated "
                                  f"(next is {self._next_nonce}); cannot release them.")
            self._released |= given
            while self._next_nonce - 1 in self._released:  # the top of the range: just move back
                self._next_nonce -= 1
                self._released.discard(self._next_nonce)
            logger.info("nonces %s of %s released; next allocation %s", sorted(given), self.address,
                        min(self._released, default=self._next_nonce))

    @property
    def next_nonce(self) -> int | None:
        return self._next_nonce

    # -- signing -------------------------------------------------------------------------------------

    def sign(self, tx: dict[str, Any]) -> SignedTx:
        """Sign a complete transaction dict (nonce, fees, gas, to, data, value set); adds chainId.

        EIP-1559 transactions go through the lean signer (chain.signer, the same bytes), others eth-account.
        """
        if tx.get("type") == 2 and "accessList" not in tx and "maxFeePerGas" in tx and tx.get("to"):
            data = tx.get("data") or "0x"
            raw, tx_hash = self._signer.sign(
                self.chain_id, int(tx["nonce"]), int(tx["maxPriorityFeePerGas"]), int(tx["maxFeePerGas"]),
                int(tx["gas"]), str(tx["to"]), int(tx.get("value", 0)),
                bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data))
            return SignedTx("0x" + raw.hex(), "0x" + tx_hash.hex(), int(tx["nonce"]))
        signed = self._account.sign_transaction({**tx, "chainId": self.chain_id})
        return SignedTx("0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex(),
                        int(tx["nonce"]))

    def sign_call(self, to: str, data: str, gas_limit: int, fees: FeeQuote, value: int = 0,
                  nonce: int | None = None) -> SignedTx:
        """Sign a call to `to`; allocates the next nonce unless one is given (replacements reuse theirs)."""
        tx = {"to": checksum(to), "data": data, "value": value, "gas": gas_limit,
              "nonce": self.allocate_nonce() if nonce is None else nonce, **fees.tx_fields()}
        return self.sign(tx)

    def sign_blockchain_transaction(self, btx: BlockchainTransaction, data: str, gas_limit: int,
                                    fees: FeeQuote, value: int = 0) -> BlockchainTransaction:
        """Sign `btx` (its `contract_address` is the target) with a new nonce and record everything on it."""
        if btx.contract_address is None:
            raise WalletError(f"Transaction {btx} has no contract_address to call.")
        signed = self.sign_call(btx.contract_address, data, gas_limit, fees, value)
        btx.chain_id = self.chain_id
        btx.from_address = self.address
        btx.details = {"to": checksum(btx.contract_address), "data": data, "value": value,
                       "gas": gas_limit, **fees.tx_fields()}
        _record(btx, signed, gas_limit, fees)
        return btx

    def resign_with_fees(self, btx: BlockchainTransaction, fees: FeeQuote) -> BlockchainTransaction:
        """Re-sign `btx` with the same nonce, call and gas limit but new fees (a replacement).

        The previous hash moves to `replaced_tx_hashes`: either transaction may still land.
        """
        if btx.details is None or btx.nonce is None or btx.gas_limit is None:
            raise WalletError(f"Transaction {btx} was never signed by this wallet; nothing to replace.")
        details = btx.details
        signed = self.sign_call(details["to"], details["data"], btx.gas_limit, fees, int(details["value"]),
                                nonce=btx.nonce)
        btx.details = {**{k: v for k, v in details.items()
                          if k not in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "type")},
                       **fees.tx_fields()}
        _record(btx, signed, btx.gas_limit, fees)
        return btx


def _record(btx: BlockchainTransaction, signed: SignedTx, gas_limit: int, fees: FeeQuote) -> None:
    btx.gas_limit = gas_limit
    btx.max_fee_per_gas = fees.max_fee_per_gas
    btx.max_priority_fee_per_gas = fees.max_priority_fee_per_gas
    btx.gas_price = fees.gas_price
    btx.set_signed(signed.tx_hash, signed.raw, signed.nonce)
    assert btx.tx_state is TxState.signed
