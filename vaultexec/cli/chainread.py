"""Small on-chain reads the CLI needs: the vault's current guard settings (token reads live in dex.token_reads)."""

from __future__ import annotations

from typing import Any

from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from vaultexec.dex.token_reads import token_balance, token_decimals, token_symbol
from vaultexec.errors import ConfigurationError
from vaultexec.vault.deploy import VaultConfig, unbounded_assets

__all__ = ["missing_settings", "require_owner", "token_balance", "token_decimals", "token_symbol", "vault_view"]


def vault_view(vault: Contract, name: str) -> Any:
    """The answer of the vault's view function `name` (no arguments); ConfigurationError when the contract
    at the vault address does not answer it (it is not a vault)."""
    try:
        return getattr(vault.functions, name)().call()
    except (ContractLogicError, BadFunctionCallOutput, DecodingError) as exc:
        raise ConfigurationError(f"{vault.address} does not answer the vault's {name}(): it is not a vault. "
                                 f"Check the vault address ({type(exc).__name__}).") from exc


def missing_settings(vault: Contract, config: VaultConfig) -> VaultConfig:
    """The part of `config` that is not yet in place on `vault` (so re-running configure sends nothing)."""
    fns = vault.functions
    pending = VaultConfig()
    pending.assets = [a for a in config.assets if not fns.isAssetAllowed(a).call()]
    pending.routers = {r: k for r, k in config.routers.items() if fns.routerKind(r).call() != int(k)}
    pending.pools = [p for p in config.pools
                     if not fns.isPoolAllowed(p.router, p.token_a, p.token_b, p.fee).call()]
    pending.spend_limits = [s for s in config.spend_limits
                            if tuple(fns.spendLimit(s.asset).call()) != (s.capacity, s.refill_period)]
    pending.price_feeds = [f for f in config.price_feeds
                           if tuple(fns.priceSource(f.asset).call()[:3]) != (1, f.feed, f.heartbeat)]
    pending.price_twaps = [t for t in config.price_twaps
                           if tuple(fns.priceSource(t.asset).call()[:3]) != (2, t.pool, t.window)]
    bound = config.loss_bound
    if bound is not None and tuple(fns.lossBound().call()) != (True, bound.cap_bps, bound.capacity,
                                                                bound.refill_period):
        pending.loss_bound = bound
    pending.unbounded = [a for a in config.unbounded if not fns.isUnboundedSpendAllowed(a).call()]
    return pending


def unbounded_on_vault(vault: Contract | None, config: VaultConfig) -> list[str]:
    """The assets of `config` that nothing would bound once it is applied to `vault` (None: a new vault):
    no spend limit, no price under an active loss bound, no earlier opt-in, in the config or on chain."""
    candidates = unbounded_assets(config)
    if vault is None or not candidates:
        return candidates
    fns = vault.functions
    bound_on = config.loss_bound is not None or bool(fns.lossBound().call()[0])
    priced = {p.asset for p in config.price_feeds} | {t.asset for t in config.price_twaps}
    return [a for a in candidates
            if fns.spendLimit(a).call()[0] == 0 and not fns.isUnboundedSpendAllowed(a).call()
            and not (bound_on and (a in priced or fns.priceSource(a).call()[0] != 0))]


def require_owner(vault: Contract, signer: str, action: str = "configure it") -> None:
    """Refuse unless `vault` is a vault (it names its asset manager) owned by `signer`."""
    vault_view(vault, "assetManager")  # an Ownable token answers owner() too
    owner = vault_view(vault, "owner")
    if Web3.to_checksum_address(owner) != Web3.to_checksum_address(signer):
        raise ConfigurationError(f"The signing key ({signer}) is not the owner of vault {vault.address} "
                                 f"(owner: {owner}); only the owner can {action}. Nothing was sent.")
