"""What every command shares: the connection, the signing key, the vault and the store, opened lazily.

Nothing is contacted before a command needs it, so `--help` and input mistakes never touch the network.
The key only ever comes from an environment variable or a keystore file, never from the command line.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.providers import ProviderConfig, ProviderSet, open_client, split_urls
from vaultexec.chain.rpc import RetryPolicy, RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet, account_from_env, account_from_keystore
from vaultexec.cli.failures import redact_urls
from vaultexec.errors import BadInputError, ConfigurationError, RPCError, WalletError
from vaultexec.execution.assembly import bind_store
from vaultexec.store import ExecutionStore, open_store
from vaultexec.vault.deploy import get_vault

logger = logging.getLogger(__name__)

RPC_URL_ENV_VAR = "VAULTEXEC_RPC_URL"
SEND_URL_ENV_VAR = "VAULTEXEC_SEND_URL"
VAULT_ENV_VAR = "VAULTEXEC_VAULT"
STORE_ENV_VAR = "VAULTEXEC_STORE"
DEFAULT_STORE_URL = "sqlite:///vaultexec.db"
#: A command line tool should fail fast on a dead node: ~1.5 s of retries, not a minute.
CLI_RETRY = RetryPolicy(attempts=4, initial_backoff=0.1, max_backoff=1.0, deadline=15.0)
#: A conventional environment variable name of reasonable length.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: The usual spelling of a variable name (upper case): safe to repeat in a message.
_SHOWN_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
#: A run of 32+ hex digits: key material (a private key is 64), never a variable name.
_HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")


def looks_like_secret(name: str) -> bool:
    """True when something given as a variable name could be a key or a password instead."""
    return bool(_HEX_RUN.search(name)) or not _ENV_NAME.fullmatch(name)


def check_env_var_name(name: str, option: str) -> str:
    """Refuse anything that is not a conventional environment variable name (e.g. a key pasted by mistake).

    The value is never echoed: it may be the private key or the password itself.
    """
    if looks_like_secret(name):
        raise BadInputError(f"{option} takes the NAME of an environment variable (e.g. VAULTEXEC_PRIVATE_KEY), "
                            "not a key or a password; the value you gave is not shown.")
    return name


def describe_env_var(name: str, option: str) -> str:
    """The variable as a message may name it: upper-case names only, anything else could be a password."""
    if _SHOWN_ENV_NAME.fullmatch(name):
        return name
    return f"named by {option} (its name is not shown: it is not an upper-case variable name)"


def load_account(key_env: str, keystore: Path | None, password_env: str) -> LocalAccount:
    """The signing account from a keystore file (password from `password_env`) or from `key_env`."""
    if keystore is not None:
        option = "--keystore-password-env"
        check_env_var_name(password_env, option)
        if os.environ.get(password_env) is None:
            raise WalletError(f"Keystore {keystore} needs its password in the environment variable "
                              f"{describe_env_var(password_env, option)}.")
        return account_from_keystore(keystore, password_env)
    option = "--private-key-env"
    check_env_var_name(key_env, option)
    if not os.environ.get(key_env):
        raise WalletError(f"No private key: set the environment variable {describe_env_var(key_env, option)}, "
                          "or use a keystore file (--keystore).")
    return account_from_env(key_env)


@dataclass
class Session:
    """Options of the `vaultexec` group and the connections they lead to."""

    rpc_url: str | None
    key_env: str
    keystore: Path | None
    keystore_password_env: str
    vault_address: str | None
    store_url: str
    expected_chain_id: int | None
    verbose: bool
    console: Console
    #: Private send-only endpoints (comma-separated); every raw transaction goes only there.
    send_urls: str | None = None
    allow_public_send: bool = False
    _client: RPCClient | None = field(default=None, repr=False)
    _web3: Web3 | None = field(default=None, repr=False)
    _chain_id: int | None = field(default=None, repr=False)
    _account: LocalAccount | None = field(default=None, repr=False)
    _store: ExecutionStore | None = field(default=None, repr=False)

    # -- chain -------------------------------------------------------------------------------------

    def client(self) -> RPCClient:
        """The RPC client; checks on first use that the node answers and is on the expected chain."""
        if self._client is None:
            if not self.rpc_url:
                raise ConfigurationError(f"No RPC URL: pass --rpc-url URL or set {RPC_URL_ENV_VAR}.")
            client = open_client(split_urls(self.rpc_url), split_urls(self.send_urls),
                                 ProviderConfig(allow_public_send=self.allow_public_send), 30.0, CLI_RETRY)
            try:
                chain_id = (client.check_chain_ids(self.expected_chain_id) if isinstance(client, ProviderSet)
                            else int(client.call("eth_chainId"), 16))
            except RPCError as exc:
                client.close()
                raise RPCError(f"Cannot use the RPC node: {exc}") from exc
            if self.expected_chain_id is not None and chain_id != self.expected_chain_id:
                client.close()
                raise ConfigurationError(
                    f"Wrong chain: the node at the RPC URL is on chain {chain_id}, --chain-id says "
                    f"{self.expected_chain_id}. Check the RPC URL (nothing was sent).")
            self._client, self._chain_id = client, chain_id
            logger.info("connected to chain %d", chain_id)
        return self._client

    @property
    def chain_id(self) -> int:
        self.client()
        assert self._chain_id is not None
        return self._chain_id

    def web3(self) -> Web3:
        if self._web3 is None:
            self._web3 = connect_web3(self.client())
        return self._web3

    # -- key ---------------------------------------------------------------------------------------

    def account(self) -> LocalAccount:
        if self._account is None:
            self._account = load_account(self.key_env, self.keystore, self.keystore_password_env)
        return self._account

    def wallet(self) -> HotWallet:
        """A fresh hot wallet for the signing account on this chain (nonces synced by its user)."""
        return HotWallet(self.account(), self.chain_id)

    def secret_env_vars(self) -> list[str]:
        return [self.key_env, self.keystore_password_env]

    # -- vault and store -----------------------------------------------------------------------------

    def require_vault_address(self) -> str:
        if not self.vault_address:
            raise ConfigurationError(f"No vault: pass --vault ADDRESS or set {VAULT_ENV_VAR}.")
        if not Web3.is_address(self.vault_address):
            raise BadInputError(f"--vault {self.vault_address!r} is not an address (0x + 40 hex digits).")
        return Web3.to_checksum_address(self.vault_address)

    def vault(self) -> Contract:
        return get_vault(self.web3(), self.require_vault_address())

    def store(self, check_chain: bool = True) -> ExecutionStore:
        """The vault's store; with an RPC URL (and `check_chain`) it is bound to the node's chain, and another
        chain's store is refused. `export-csv` passes False: it reads the file only and needs no node."""
        if self._store is None:
            store = open_store(self.store_url, self.require_vault_address())
            if self.rpc_url and check_chain:
                try:
                    bind_store(store, self.client(), self.chain_id, redact_urls(self.store_url))
                except BaseException:
                    store.close()
                    raise
            self._store = store
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._client is not None:
            self._client.close()
