"""Confirmation depth defaults: none on a dev chain, a few blocks on real chains, overridable."""

from __future__ import annotations

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.chain.wallet import HotWallet
from vaultexec.execution.executor import (
    DEFAULT_CONFIRMATIONS,
    ExecutorConfig,
    VaultExecutionModel,
    default_tracker_config,
)
from vaultexec.testing.plugin import ASSET_MANAGER_KEY


def _model(chain_id: int, config: ExecutorConfig | None = None) -> VaultExecutionModel:
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, chain_id)
    return VaultExecutionModel(None, "0x" + "11" * 20, None, wallet, None, config=config)  # type: ignore[arg-type]


def test_dev_chain_settles_at_inclusion_and_mainnet_waits_two_blocks() -> None:
    assert _model(31337).tracker_config.confirmations == 0
    assert _model(1).tracker_config.confirmations == 2
    assert default_tracker_config(8453).confirmations == 1
    assert _model(999_999).tracker_config.confirmations == DEFAULT_CONFIRMATIONS > 0


def test_explicit_tracker_config_wins() -> None:
    config = ExecutorConfig(TrackerConfig(confirmations=7))
    assert _model(31337, config).tracker_config.confirmations == 7


def test_nonce_consumed_needs_new_blocks_except_on_dev_chains() -> None:
    assert default_tracker_config(1).nonce_consumed_blocks >= 2
    assert default_tracker_config(1).nonce_consumed_after >= 3.0
    assert default_tracker_config(31337).nonce_consumed_blocks == 0  # anvil mines only on demand
    assert default_tracker_config(31337).nonce_consumed_after >= 3.0
