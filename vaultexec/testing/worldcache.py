"""The local world as a saved anvil state: built once, then loaded with `--load-state` in later sessions.

The cache key hashes everything the world is made of (the npm and shipped artifacts, world.py, the anvil
binary, the node options), so a change to any of them builds and saves a new state. A loaded state is
the built chain itself (same blocks, logs, nonces, base fee); the first session pays the build (~0.6 s),
later ones only anvil's start.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vaultexec.errors import ToolchainError
from vaultexec.testing import safes as safes_module
from vaultexec.testing import world as world_module
from vaultexec.testing.anvil import AnvilInstance, find_anvil, start_anvil
from vaultexec.testing.protocol import PROTOCOL_ARTIFACTS, find_node_modules
from vaultexec.testing.world import CODE_SIZE_LIMIT, WorldAddresses, deploy_world, make_web3
from vaultexec.vault.contracts import ARTIFACTS_DIR

logger = logging.getLogger(__name__)

#: A folder for the saved world states; "off" (or "0") builds the world every session.
WORLD_CACHE_ENV_VAR = "VAULTEXEC_WORLD_CACHE"
_DISABLED = {"off", "0", "no", "false"}
CACHE_FORMAT = 2
#: Saved worlds kept per folder (each about 3 MB); older ones are removed when a new one is saved.
KEEP_ENTRIES = 4


def world_cache_dir() -> Path | None:
    """$VAULTEXEC_WORLD_CACHE, else a per-user folder in the temp dir; None when caching is off."""
    configured = os.environ.get(WORLD_CACHE_ENV_VAR, "").strip()
    if configured.lower() in _DISABLED:
        return None
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"vaultexec-world-cache-{os.getuid()}"


def world_cache_key(anvil_binary: str, node_options: dict[str, Any]) -> str:
    """Hash of what the world's state depends on: artifacts, world.py, the anvil binary, node options."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT} {sorted(node_options.items())}".encode())
    binary = Path(anvil_binary).resolve().stat()
    digest.update(f"{Path(anvil_binary).resolve()} {binary.st_size} {binary.st_mtime_ns}".encode())
    node_modules = find_node_modules()
    sources = [node_modules / relative for relative in PROTOCOL_ARTIFACTS.values()]
    sources += [ARTIFACTS_DIR / "TestToken.json", ARTIFACTS_DIR / "TetherLikeToken.json",
                ARTIFACTS_DIR / "MockV3Aggregator.json", Path(world_module.__file__),
                Path(safes_module.__file__)]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:32]


@contextmanager
def launch_world(cache_dir: Path | None = None,
                 use_cache: bool = True) -> Iterator[tuple[AnvilInstance, WorldAddresses]]:
    """An anvil holding the local world, loaded from the saved state when there is one (else built, then
    saved); the anvil is always stopped on exit. The cache folder is `cache_dir`, else `world_cache_dir()`."""
    folder = (cache_dir or world_cache_dir()) if use_cache else None
    binary = find_anvil()
    options: dict[str, Any] = {"code_size_limit": CODE_SIZE_LIMIT}
    key = world_cache_key(binary, options) if folder is not None else ""
    started = _start_cached(folder, key, binary, options) if folder is not None else None
    if started is None:
        started = _build(folder, key, binary, options)
    node, addresses = started
    try:
        yield node, addresses
    finally:
        node.close()


def _start_cached(folder: Path, key: str, binary: str,
                  options: dict[str, Any]) -> tuple[AnvilInstance, WorldAddresses] | None:
    """Start anvil on the saved state of `key`; None when there is none or it does not hold the world."""
    state_path, addresses_path = _entry_paths(folder, key)
    try:
        addresses = WorldAddresses(**json.loads(addresses_path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        node = start_anvil(binary=binary, load_state=str(state_path), **options)
    except ToolchainError as exc:
        logger.warning("saved world %s did not load, building it again: %s", state_path, exc)
        return None
    if node.rpc("eth_getCode", [addresses.swap_router02, "latest"]) in ("0x", "0x0"):
        logger.warning("saved world %s lacks the world's contracts, building it again", state_path)
        node.close()
        return None
    os.utime(addresses_path)  # recently used: kept by pruning
    logger.info("world loaded from %s", state_path)
    return node, addresses


def _build(folder: Path | None, key: str, binary: str,
           options: dict[str, Any]) -> tuple[AnvilInstance, WorldAddresses]:
    node = start_anvil(binary=binary, **options)
    try:
        started = time.monotonic()
        world = deploy_world(make_web3(node.url))
        logger.info("world built in %.2fs", time.monotonic() - started)
        if folder is not None:
            _save(folder, key, node, world.addresses)
    except BaseException:
        node.close()
        raise
    return node, world.addresses


def _save(folder: Path, key: str, node: AnvilInstance, addresses: WorldAddresses) -> None:
    """Write the state, then the addresses (their presence marks a complete entry); each atomically."""
    state_path, addresses_path = _entry_paths(folder, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        dump = node.rpc("anvil_dumpState")  # 0x + gzip of the state JSON; --load-state wants the JSON
        _write_atomically(state_path, _gunzip_hex(dump))
        _write_atomically(addresses_path, json.dumps(addresses.to_dict()).encode())
        _prune(folder)
    except (OSError, ValueError) as exc:  # a cache that cannot be written only costs the next build
        logger.warning("cannot save the world state in %s: %s", folder, exc)


def _gunzip_hex(dump: str) -> bytes:
    return gzip.decompress(bytes.fromhex(dump.removeprefix("0x")))


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _entry_paths(folder: Path, key: str) -> tuple[Path, Path]:
    return folder / f"world-{key}.state.json", folder / f"world-{key}.addresses.json"


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("world-*.addresses.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in entries[KEEP_ENTRIES:]:
        key = stale.name.removeprefix("world-").removesuffix(".addresses.json")
        for path in _entry_paths(folder, key):
            path.unlink(missing_ok=True)
