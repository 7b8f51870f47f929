"""Safe 1.4.1 on the test chain: the real contracts deployed from the npm artifacts, and Safes created
through the proxy factory.

The world deploys the **SafeL2** singleton: the flavour the Safe singleton factory deploys on L2 chains
(Base, Arbitrum, ... where Lagoon vaults and trade-executor run), whose events (SafeMultiSigTransaction,
SafeModuleTransaction) the Safe transaction service indexes; its module transactions also cost a little
more gas than the L1 singleton's, so gas figures measured on it err on the expensive side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.testing.protocol import load_protocol_artifact
from vaultexec.vault.safe import CANONICAL_SAFE_1_4_1, SafeDeployment, create_safe
from vaultexec.vault.sender import send_and_wait

#: Deterministic test owners of the `safe` fixture (signing keys, not unlocked on the node).
SAFE_OWNER_KEYS: tuple[str, ...] = tuple(
    "0x" + Web3.keccak(text=f"vaultexec test safe owner {n}").hex().removeprefix("0x") for n in range(3))
SAFE_THRESHOLD = 2
OWNER_ETH = 10 * 10**18


def safe_owners() -> list[LocalAccount]:
    """The `safe` fixture's owners, as local signing accounts."""
    return [Account.from_key(key) for key in SAFE_OWNER_KEYS]


def deploy_safe_contracts(web3: Web3, sender: str) -> dict[str, str]:
    """Deploy SafeL2 (singleton), SafeProxyFactory, MultiSendCallOnly and CompatibilityFallbackHandler from
    their npm build artifacts; returns name -> address (the keys of `SafeDeployment`)."""
    deployed: dict[str, str] = {}
    for field, name in (("singleton_l2", "SafeL2"), ("proxy_factory", "SafeProxyFactory"),
                        ("multi_send_call_only", "MultiSendCallOnly"),
                        ("fallback_handler", "CompatibilityFallbackHandler")):
        artifact = load_protocol_artifact(name)
        factory = web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = send_and_wait(web3, sender, factory.constructor())
        deployed[field] = str(receipt["contractAddress"])
    return deployed


def safe_deployment(addresses: dict[str, str]) -> SafeDeployment:
    """The world's Safe contracts as a `SafeDeployment`: our deployment on the local world (no L1 singleton or
    full MultiSend: the L2 singleton stands for both), the canonical 1.4.1 addresses on a real-chain fork."""
    if not addresses:
        return CANONICAL_SAFE_1_4_1
    return SafeDeployment(
        singleton=addresses["singleton_l2"], singleton_l2=addresses["singleton_l2"],
        proxy_factory=addresses["proxy_factory"], multi_send=addresses["multi_send_call_only"],
        multi_send_call_only=addresses["multi_send_call_only"], fallback_handler=addresses["fallback_handler"])


def create_test_safe(web3: Web3, deployment: SafeDeployment, sender: str, owners: Sequence[LocalAccount] = (),
                     threshold: int = SAFE_THRESHOLD, salt_nonce: int = 0) -> Contract:
    """A Safe of `owners` (default: the three `SAFE_OWNER_KEYS` accounts) and `threshold`, created by `sender`."""
    accounts = list(owners) or safe_owners()
    return create_safe(web3, deployment, [account.address for account in accounts], threshold, sender,
                       salt_nonce=salt_nonce)


@dataclass(frozen=True)
class WorldSafe:
    """A Safe on the test chain and the keys of its owners (what the `safe` fixture gives)."""

    contract: Contract
    owners: tuple[LocalAccount, ...]
    threshold: int
    deployment: SafeDeployment

    @property
    def address(self) -> str:
        return self.contract.address

    def signers(self) -> list[LocalAccount]:
        """Just enough owners to reach the threshold."""
        return list(self.owners[: self.threshold])


def make_test_safe(web3: Web3, addresses: dict[str, str], sender: str, threshold: int = SAFE_THRESHOLD,
                   salt_nonce: int = 0) -> WorldSafe:
    """Create a Safe of the `SAFE_OWNER_KEYS` owners with `threshold` on the world's (or the canonical) Safe;
    each owner gets `OWNER_ETH` for gas."""
    deployment = safe_deployment(addresses)
    owners = safe_owners()
    for owner in owners:
        web3.provider.make_request("anvil_setBalance", [owner.address, hex(OWNER_ETH)])  # type: ignore[arg-type]
    contract = create_test_safe(web3, deployment, sender, owners, threshold, salt_nonce)
    return WorldSafe(contract, tuple(owners), threshold, deployment)
