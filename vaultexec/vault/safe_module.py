"""Safe custody: our trade guard as a Safe module (contract `SafeTradeModule`), deployed, enabled and
configured through Safe transactions the owners sign.

"A vault" is custody + guard. For our `Vault` both are the vault contract; for a Safe-custody vault the
guard is the module (the asset manager calls it; its `Executed` events settle trades) and the custody is
the Safe (balances measured there, swap outputs sent there). `custody_of` tells them apart, so routing,
pre-flight, settlement and the store work on either.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from vaultexec.errors import ConfigurationError
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.deploy import VaultConfig, configuration_calls
from vaultexec.vault.safe import (
    Operation,
    SafeTx,
    build_safe_tx,
    calldata,
    enabled_modules,
    exec_safe_tx,
    get_safe,
    previous_module,
    sign_safe_tx,
)
from vaultexec.vault.sender import Sender, send_and_wait, sender_address

logger = logging.getLogger(__name__)

MODULE_CONTRACT = "SafeTradeModule"
_CUSTODY = Web3.keccak(text="custody()")[:4]
_MULTI_SEND = Web3.keccak(text="multiSend(bytes)")[:4]


def custody_of(web3: Web3, guard: str) -> ChecksumAddress:
    """The address holding the funds the guard at `guard` trades: a module's Safe (its `custody()`), else the
    guard itself (our vault holds its funds; it has no `custody()` and reverts)."""
    address = Web3.to_checksum_address(guard)
    try:
        answer = bytes(web3.eth.call({"to": address, "data": _CUSTODY}))
    except ContractLogicError:
        return address
    if len(answer) != 32:
        return address
    return Web3.to_checksum_address(answer[12:])


def get_module(web3: Web3, address: str) -> Contract:
    """A contract object for the module at `address`; refuses an address with no code."""
    checksum = Web3.to_checksum_address(address)
    if not web3.eth.get_code(checksum):
        raise ConfigurationError(
            f"No contract at {checksum} on chain {web3.eth.chain_id}: check the module address and the RPC URL.")
    return web3.eth.contract(address=checksum, abi=load_artifact(MODULE_CONTRACT)["abi"])


def deploy_module(web3: Web3, sender: Sender, safe: str, asset_manager: str) -> Contract:
    """Deploy a module whose custody and owner is `safe`, traded by `asset_manager` (anyone may deploy it: it
    does nothing until the Safe's owners enable it)."""
    artifact = load_artifact(MODULE_CONTRACT)
    factory = web3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = send_and_wait(web3, sender, factory.constructor(Web3.to_checksum_address(safe),
                                                              Web3.to_checksum_address(asset_manager)))
    address: ChecksumAddress = receipt["contractAddress"]  # type: ignore[assignment]
    logger.info("Safe module deployed at %s (Safe %s, manager %s, by %s)", address, safe, asset_manager,
                sender_address(sender))
    return web3.eth.contract(address=address, abi=artifact["abi"])


def multi_send_data(calls: Sequence[tuple[str, bytes]]) -> bytes:
    """`multiSend(bytes)` calldata of MultiSendCallOnly for `(to, data)` Calls with no value: each packed as
    operation (1 byte, 0) | to (20) | value (32, 0) | data length (32) | data."""
    packed = b"".join(b"\0" + bytes.fromhex(Web3.to_checksum_address(to)[2:]) + bytes(32)
                      + len(data).to_bytes(32, "big") + data for to, data in calls)
    padded = packed + b"\0" * (-len(packed) % 32)
    return _MULTI_SEND + (32).to_bytes(32, "big") + len(packed).to_bytes(32, "big") + padded


def _call_data(guard: Contract, call: Any) -> bytes:
    """The calldata of a bound contract function call (`guard.functions.setX(...)`)."""
    return bytes.fromhex(guard.encode_abi(call.fn_name, args=list(call.args))[2:])


def enable_module_tx(safe: Contract, module: str) -> SafeTx:
    """The Safe transaction that enables `module` (a call of the Safe to itself)."""
    return build_safe_tx(safe, safe.address, calldata(safe, "enableModule", Web3.to_checksum_address(module)))


def disable_module_tx(safe: Contract, module: str) -> SafeTx:
    """The Safe transaction that disables `module`: the owners' way to stop it at once."""
    prev = previous_module(safe, module)
    return build_safe_tx(safe, safe.address, calldata(safe, "disableModule", prev, Web3.to_checksum_address(module)))


def configure_module_tx(safe: Contract, module: Contract, config: VaultConfig, multi_send: str) -> SafeTx:
    """One Safe transaction applying `config` to `module`: a DelegateCall of the Safe into MultiSendCallOnly
    (which can only make plain calls), so the module sees the Safe as the caller of every setter."""
    calls = [(module.address, _call_data(module, call)) for call in configuration_calls(module, config)]
    if not calls:
        raise ConfigurationError("The configuration is empty: nothing to send to the module.")
    base = build_safe_tx(safe, multi_send, multi_send_data(calls))
    return SafeTx(**{**base.__dict__, "operation": Operation.DELEGATE_CALL})


def module_call_tx(safe: Contract, module: Contract, function: str, *args: Any) -> SafeTx:
    """A Safe transaction calling one of the module's owner functions (pause, setAssetManager, ...)."""
    return build_safe_tx(safe, module.address, calldata(module, function, *args))


def execute_as_owners(safe: Contract, tx: SafeTx, owners: Sequence[LocalAccount], sender: Sender | None = None) -> None:
    """Sign `tx` by `owners` and send it (from `sender`, default the first owner)."""
    exec_safe_tx(safe, tx, sign_safe_tx(tx, owners), sender if sender is not None else owners[0])


@dataclass(frozen=True)
class ModuleStatus:
    """What an owner checks: whether the module is enabled on its Safe, and who may trade."""

    module: str
    safe: str
    enabled: bool
    asset_manager: str
    paused: bool
    safe_owners: tuple[str, ...]
    safe_threshold: int
    safe_modules: tuple[str, ...]


def module_status(web3: Web3, module_address: str) -> ModuleStatus:
    """Read the module and its Safe."""
    module = get_module(web3, module_address)
    safe = get_safe(web3, module.functions.custody().call())
    modules = enabled_modules(safe)
    return ModuleStatus(
        module=module.address, safe=safe.address, enabled=module.address in modules,
        asset_manager=module.functions.assetManager().call(), paused=module.functions.paused().call(),
        safe_owners=tuple(safe.functions.getOwners().call()), safe_threshold=safe.functions.getThreshold().call(),
        safe_modules=tuple(modules))
