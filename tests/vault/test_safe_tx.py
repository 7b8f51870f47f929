"""Safe 1.4.1 transactions from Python against the real Safe bytecode: the EIP-712 SafeTx hash equals the
Safe's own `getTransactionHash`, owner signatures (sorted, r|s|v) pass `execTransaction`, and the Safe
refuses too few or misordered signatures; the module's binding (custody, status, disable)."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from vaultexec.errors import ConfigurationError, SimulationRevertedError
from vaultexec.testing.safes import WorldSafe, make_test_safe
from vaultexec.testing.vaults import SafeCustodyVault
from vaultexec.testing.world import World
from vaultexec.vault.safe import (
    Operation,
    SafeTx,
    build_safe_tx,
    calldata,
    create_safe,
    enabled_modules,
    exec_safe_tx,
    exec_signed_by,
    previous_module,
    sign_safe_tx,
)
from vaultexec.vault.safe_module import custody_of, disable_module_tx, execute_as_owners, module_status
from vaultexec.vault.state import decode_vault_error, revert_data

MODULE = Web3.to_checksum_address("0x" + "ab" * 20)


def test_safe_fixture_is_a_real_safe_with_owners_and_threshold(safe: WorldSafe, world: World) -> None:
    contract = safe.contract
    assert contract.functions.getThreshold().call() == 2
    assert contract.functions.getOwners().call() == [owner.address for owner in safe.owners]
    assert contract.functions.nonce().call() == 0
    assert world.web3.eth.get_code(contract.address)  # a proxy, not an EOA


@pytest.mark.parametrize("tx_fields", [
    {},
    {"value": 10**18, "operation": Operation.DELEGATE_CALL, "safe_tx_gas": 7, "base_gas": 11, "gas_price": 13,
     "gas_token": "0x" + "12" * 20, "refund_receiver": "0x" + "34" * 20},
], ids=["plain-call", "every-field-set"])
def test_safe_tx_hash_equals_the_safes_own_hash(safe: WorldSafe, tx_fields: dict[str, object]) -> None:
    base = build_safe_tx(safe.contract, MODULE, bytes.fromhex("deadbeef" * 9))
    tx = SafeTx(**{**base.__dict__, "nonce": 5, **tx_fields})  # type: ignore[arg-type]
    on_chain = safe.contract.functions.getTransactionHash(*tx.exec_arguments(b"")[:9], tx.nonce).call()
    assert tx.hash() == bytes(on_chain)
    assert tx.domain_separator() == bytes(safe.contract.functions.domainSeparator().call())


def test_owners_enable_and_disable_a_module_with_a_signed_safe_transaction(safe: WorldSafe, world: World) -> None:
    contract = safe.contract
    exec_signed_by(contract, contract.address, calldata(contract, "enableModule", MODULE), safe.signers(),
                   sender=world.deployer)  # anyone may send: the signatures authorise it
    assert contract.functions.isModuleEnabled(MODULE).call()
    assert enabled_modules(contract) == [MODULE]
    assert contract.functions.nonce().call() == 1
    prev = previous_module(contract, MODULE)
    exec_signed_by(contract, contract.address, calldata(contract, "disableModule", prev, MODULE), safe.signers())
    assert not contract.functions.isModuleEnabled(MODULE).call()


def test_too_few_signatures_are_refused(safe: WorldSafe) -> None:
    contract = safe.contract
    tx = build_safe_tx(contract, contract.address, calldata(contract, "enableModule", MODULE))
    with pytest.raises(SimulationRevertedError, match=r"GS020.*fewer signatures than the threshold"):
        exec_safe_tx(contract, tx, sign_safe_tx(tx, safe.owners[:1]), safe.owners[0])
    assert not contract.functions.isModuleEnabled(MODULE).call()


def test_signatures_must_be_in_ascending_owner_order(safe: WorldSafe) -> None:
    contract = safe.contract
    tx = build_safe_tx(contract, contract.address, calldata(contract, "enableModule", MODULE))
    signed = sign_safe_tx(tx, safe.signers())
    swapped = signed[65:] + signed[:65]
    with pytest.raises(SimulationRevertedError, match="GS026"):
        exec_safe_tx(contract, tx, swapped, safe.owners[0])
    exec_safe_tx(contract, tx, signed, safe.owners[0])
    assert contract.functions.isModuleEnabled(MODULE).call()


def test_a_threshold_the_owners_cannot_reach_is_refused(world: World, safe: WorldSafe) -> None:
    with pytest.raises(ConfigurationError, match="threshold from 1 to 3, not 4"):
        create_safe(world.web3, safe.deployment, [o.address for o in safe.owners], 4, world.deployer)


def test_a_second_safe_of_threshold_one(world: World) -> None:
    single = make_test_safe(world.web3, world.addresses.safe, world.deployer, threshold=1, salt_nonce=1)
    contract = single.contract
    exec_signed_by(contract, contract.address, calldata(contract, "enableModule", MODULE), single.signers())
    assert contract.functions.isModuleEnabled(MODULE).call()


def test_custody_of_a_module_is_its_safe_and_of_our_vault_the_vault(world: World, vault: Contract,
                                                                    safe_vault: SafeCustodyVault) -> None:
    assert custody_of(world.web3, vault.address) == vault.address
    assert custody_of(world.web3, safe_vault.address) == safe_vault.custody
    assert custody_of(world.web3, world.deployer) == world.deployer  # no code: nothing to ask


def test_owners_disable_the_module_and_only_the_safe_configures_it(world: World, safe_vault: SafeCustodyVault,
                                                                     asset_manager: LocalAccount) -> None:
    module, safe = safe_vault.module, safe_vault.safe
    status = module_status(world.web3, module.address)
    assert status.enabled and status.safe == safe.address and status.asset_manager == asset_manager.address
    with pytest.raises(ContractLogicError) as refused:  # the asset manager configuring it
        module.functions.setAssetManager(world.deployer).call({"from": asset_manager.address})
    decoded = decode_vault_error(revert_data(refused.value))
    assert decoded is not None and decoded.name == "NotSafe" and decoded.args == (asset_manager.address,)
    execute_as_owners(safe.contract, disable_module_tx(safe.contract, module.address), safe.signers())
    assert not module_status(world.web3, module.address).enabled
