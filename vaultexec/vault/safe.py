"""Safe (1.4.1) transactions: the EIP-712 SafeTx hash, owner signatures, `execTransaction`.

A Safe-custody vault keeps its funds in a Safe; the Safe's owners sign every change of its configuration
(enabling our module, configuring it) as a Safe transaction. The hash follows Safe 1.4.1's
`getTransactionHash` (domain: chainId + verifyingContract); signatures are the owners' ECDSA signatures of
that hash, concatenated as r|s|v (v 27/28) in ascending owner-address order, as `checkNSignatures` reads
them. The canonical 1.4.1 contracts sit at the same address on every chain that has them
(`CANONICAL_SAFE_1_4_1`, from safe-global/safe-deployments).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from vaultexec.errors import ConfigurationError, SimulationRevertedError
from vaultexec.model.safetext import escape_text
from vaultexec.vault.sender import Sender, send_and_wait

logger = logging.getLogger(__name__)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: Safe's linked list of modules starts (and ends) at this sentinel address.
SENTINEL_MODULES = "0x0000000000000000000000000000000000000001"
DOMAIN_TYPEHASH = Web3.keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
SAFE_TX_TYPEHASH = Web3.keccak(
    text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 baseGas,"
         "uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)")


#: The Safe's revert codes a signer most often meets, with what to do.
SAFE_ERRORS: dict[str, str] = {
    "GS013": "the inner call failed",
    "GS020": "fewer signatures than the threshold: collect more owner signatures",
    "GS025": "the nonce moved on: rebuild and sign the transaction again",
    "GS026": "a signer is not an owner, or the signatures are not in ascending owner order",
}


class Operation(IntEnum):
    """Safe's `Enum.Operation`."""

    CALL = 0
    DELEGATE_CALL = 1


@dataclass(frozen=True)
class SafeDeployment:
    """The Safe contracts of one version on one chain."""

    singleton: str
    singleton_l2: str
    proxy_factory: str
    multi_send: str
    multi_send_call_only: str
    fallback_handler: str


#: Safe 1.4.1 as deployed by the Safe singleton factory: the same addresses on every supported chain.
CANONICAL_SAFE_1_4_1 = SafeDeployment(
    singleton="0x41675C099F32341bf84BFc5382aF534df5C7461a",
    singleton_l2="0x29fcB43b46531BcA003ddC8FCB67FFE91900C762",
    proxy_factory="0x4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67",
    multi_send="0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526",
    multi_send_call_only="0x9641d764fc13c8B624c04430C7356C1C7C8102e2",
    fallback_handler="0xfd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99",
)


def _abi(name: str, inputs: str, outputs: str = "", mutability: str = "nonpayable") -> dict[str, Any]:
    """One ABI function entry from "type name, type name" lists (the few Safe functions we call)."""
    def params(text: str) -> list[dict[str, str]]:
        return [{"type": p.split()[0], "name": [*p.split(), ""][1]} for p in text.split(",") if p.strip()]
    return {"type": "function", "name": name, "inputs": params(inputs), "outputs": params(outputs),
            "stateMutability": mutability}


#: The part of Safe 1.4.1's ABI vaultexec calls.
SAFE_ABI: list[dict[str, Any]] = [
    _abi("execTransaction", "address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, "
         "uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures",
         "bool success", "payable"),
    _abi("getTransactionHash", "address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, "
         "uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, uint256 _nonce",
         "bytes32 hash", "view"),
    _abi("setup", "address[] _owners, uint256 _threshold, address to, bytes data, address fallbackHandler, "
         "address paymentToken, uint256 payment, address paymentReceiver"),
    _abi("nonce", "", "uint256 nonce", "view"),
    _abi("getOwners", "", "address[] owners", "view"),
    _abi("getThreshold", "", "uint256 threshold", "view"),
    _abi("isOwner", "address owner", "bool yes", "view"),
    _abi("isModuleEnabled", "address module", "bool yes", "view"),
    _abi("getModulesPaginated", "address start, uint256 pageSize", "address[] array, address next", "view"),
    _abi("enableModule", "address module"),
    _abi("disableModule", "address prevModule, address module"),
    _abi("domainSeparator", "", "bytes32 separator", "view"),
]
PROXY_FACTORY_ABI: list[dict[str, Any]] = [
    _abi("createProxyWithNonce", "address _singleton, bytes initializer, uint256 saltNonce", "address proxy"),
]


@dataclass(frozen=True)
class SafeTx:
    """One Safe transaction, as the owners sign it (no refund: gas fields zero, gas paid by the sender)."""

    safe: str
    chain_id: int
    to: str
    data: bytes
    nonce: int
    value: int = 0
    operation: Operation = Operation.CALL
    safe_tx_gas: int = 0
    base_gas: int = 0
    gas_price: int = 0
    gas_token: str = ZERO_ADDRESS
    refund_receiver: str = ZERO_ADDRESS

    def domain_separator(self) -> bytes:
        return Web3.keccak(encode(["bytes32", "uint256", "address"], [DOMAIN_TYPEHASH, self.chain_id, self.safe]))

    def struct_hash(self) -> bytes:
        return Web3.keccak(encode(
            ["bytes32", "address", "uint256", "bytes32", "uint8", "uint256", "uint256", "uint256", "address",
             "address", "uint256"],
            [SAFE_TX_TYPEHASH, self.to, self.value, Web3.keccak(self.data), int(self.operation), self.safe_tx_gas,
             self.base_gas, self.gas_price, self.gas_token, self.refund_receiver, self.nonce]))

    def hash(self) -> bytes:
        """The safeTxHash the owners sign: keccak(0x19 0x01 domainSeparator structHash)."""
        return Web3.keccak(b"\x19\x01" + self.domain_separator() + self.struct_hash())

    def exec_arguments(self, signatures: bytes) -> tuple[Any, ...]:
        """The arguments of `execTransaction` for this transaction and these signatures."""
        return (Web3.to_checksum_address(self.to), self.value, self.data, int(self.operation), self.safe_tx_gas,
                self.base_gas, self.gas_price, Web3.to_checksum_address(self.gas_token),
                Web3.to_checksum_address(self.refund_receiver), signatures)


def sign_safe_tx(tx: SafeTx, owners: Sequence[LocalAccount]) -> bytes:
    """The owners' signatures of `tx`, r|s|v each (v 27/28), in ascending owner-address order."""
    digest = tx.hash()
    signatures = []
    for owner in sorted(owners, key=lambda account: int(account.address, 16)):
        signed = Account.unsafe_sign_hash(digest, owner.key)
        signatures.append(signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v]))
    return b"".join(signatures)


def get_safe(web3: Web3, address: str) -> Contract:
    """A contract object for the Safe at `address`; refuses an address with no code."""
    checksum = Web3.to_checksum_address(address)
    if not web3.eth.get_code(checksum):
        raise ConfigurationError(
            f"No contract at {checksum} on chain {web3.eth.chain_id}: check the Safe address and the RPC URL.")
    return web3.eth.contract(address=checksum, abi=SAFE_ABI)


def build_safe_tx(safe: Contract, to: str, data: bytes, value: int = 0) -> SafeTx:
    """A Call from `safe` to `to` at the Safe's current nonce."""
    return SafeTx(safe=safe.address, chain_id=safe.w3.eth.chain_id, to=Web3.to_checksum_address(to), data=data,
                  nonce=safe.functions.nonce().call(), value=value)


def exec_safe_tx(safe: Contract, tx: SafeTx, signatures: bytes, sender: Sender) -> TxReceipt:
    """Send `execTransaction` from `sender` (anyone may: the signatures authorise it).

    With safeTxGas and gasPrice 0, Safe 1.4.1 reverts the whole transaction (GS013) when the inner call
    fails, so a receipt with status 1 means the inner call succeeded."""
    if Web3.to_checksum_address(tx.safe) != safe.address:
        raise ConfigurationError(f"The Safe transaction is for {tx.safe}, not for the Safe {safe.address}.")
    try:
        return send_and_wait(safe.w3, sender, safe.functions.execTransaction(*tx.exec_arguments(signatures)))
    except ContractLogicError as exc:
        code = escape_text(str(exc.message or exc))
        meaning = next((text for key, text in SAFE_ERRORS.items() if key in code), "see the Safe's error codes")
        raise SimulationRevertedError(
            f"The Safe {safe.address} refused Safe transaction {tx.hash().hex()} (nonce {tx.nonce}, to {tx.to}): "
            f"{code} ({meaning}). Nothing was sent; check the signers and the call.", reason=code) from None


def exec_signed_by(safe: Contract, to: str, data: bytes, owners: Sequence[LocalAccount],
                   sender: Sender | None = None) -> TxReceipt:
    """Build, sign by `owners` and execute one Call from `safe` (sent by `sender`, default the first owner)."""
    tx = build_safe_tx(safe, to, data)
    return exec_safe_tx(safe, tx, sign_safe_tx(tx, owners), sender if sender is not None else owners[0])


def calldata(contract: Contract, function: str, *args: Any) -> bytes:
    """ABI-encoded call of `contract.function(*args)` (what a Safe transaction carries as `data`)."""
    return bytes.fromhex(contract.encode_abi(function, args=list(args))[2:])


def setup_initializer(web3: Web3, owners: Sequence[str], threshold: int, fallback_handler: str) -> bytes:
    """The `setup` call a proxy runs on creation: owners, threshold, the fallback handler, no payment."""
    singleton = web3.eth.contract(abi=SAFE_ABI)
    return bytes.fromhex(singleton.encode_abi("setup", args=[
        [Web3.to_checksum_address(owner) for owner in owners], threshold, ZERO_ADDRESS, b"",
        Web3.to_checksum_address(fallback_handler), ZERO_ADDRESS, 0, ZERO_ADDRESS])[2:])


def create_safe(web3: Web3, deployment: SafeDeployment, owners: Sequence[str], threshold: int, sender: Sender,
                salt_nonce: int = 0, l2: bool = True) -> Contract:
    """Create a Safe proxy through the deployment's proxy factory and run its `setup`."""
    if not 1 <= threshold <= len(owners):
        raise ConfigurationError(f"A Safe with {len(owners)} owners needs a threshold from 1 to {len(owners)}, "
                                 f"not {threshold}.")
    factory = web3.eth.contract(address=Web3.to_checksum_address(deployment.proxy_factory), abi=PROXY_FACTORY_ABI)
    singleton = Web3.to_checksum_address(deployment.singleton_l2 if l2 else deployment.singleton)
    initializer = setup_initializer(web3, owners, threshold, deployment.fallback_handler)
    call = factory.functions.createProxyWithNonce(singleton, initializer, salt_nonce)
    address: ChecksumAddress = call.call({"from": Web3.to_checksum_address(
        sender if isinstance(sender, str) else sender.address)})
    send_and_wait(web3, sender, call)
    logger.info("Safe created at %s (owners %s, threshold %d)", address, ", ".join(owners), threshold)
    return get_safe(web3, address)


def enabled_modules(safe: Contract, page: int = 50) -> list[str]:
    """The modules enabled on `safe` (first `page` of them)."""
    modules, _ = safe.functions.getModulesPaginated(SENTINEL_MODULES, page).call()
    return [Web3.to_checksum_address(module) for module in modules]


def previous_module(safe: Contract, module: str) -> str:
    """The module before `module` in the Safe's list (what `disableModule` needs)."""
    modules = enabled_modules(safe)
    target = Web3.to_checksum_address(module)
    if target not in modules:
        raise ConfigurationError(f"Module {target} is not enabled on the Safe {safe.address}.")
    index = modules.index(target)
    return SENTINEL_MODULES if index == 0 else modules[index - 1]
