"""The npm side of the test world, for projects that install vaultexec: anvil and Uniswap's build artifacts.

The package ships a package.json and its package-lock.json (`vaultexec/testing/npm/`): anvil (Foundry
1.7.1, linux-amd64) and the Uniswap V2/V3 packages, pinned. `install_toolchain()` (the `vaultexec
toolchain` command) runs `npm ci` of that lockfile into a per-user cache folder named after the lockfile's
hash, `$XDG_CACHE_HOME/vaultexec/toolchain/<hash>` (default `~/.cache/...`); the fixtures and the demo
look there by themselves (`installed_node_modules()`), after $VAULTEXEC_NODE_MODULES / $VAULTEXEC_ANVIL
and a node_modules of the current folder or the source checkout.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

from vaultexec.errors import ToolchainError

logger = logging.getLogger(__name__)

#: The shipped package.json and package-lock.json.
NPM_DIR = Path(__file__).with_name("npm")
#: Written into the folder once `npm ci` finished: a folder without it is not used.
INSTALLED_MARKER = ".vaultexec-installed"
INSTALL_COMMAND = "vaultexec toolchain"
#: `npm ci` of the toolchain takes ~25 s from npm's cache; a cold download more.
NPM_TIMEOUT = 1800.0


def lock_hash() -> str:
    """Short hash of the shipped lockfile: a new vaultexec with other pins installs into a new folder."""
    return hashlib.sha256((NPM_DIR / "package-lock.json").read_bytes()).hexdigest()[:16]


def cache_root() -> Path:
    """$XDG_CACHE_HOME/vaultexec/toolchain, else ~/.cache/vaultexec/toolchain."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "vaultexec" / "toolchain"


def toolchain_dir() -> Path:
    """Where this version's toolchain is (or will be) installed."""
    return cache_root() / lock_hash()


def installed_node_modules() -> Path | None:
    """The node_modules of the installed toolchain, None when `vaultexec toolchain` has not run."""
    folder = toolchain_dir()
    if (folder / INSTALLED_MARKER).is_file():
        return folder / "node_modules"
    return None


def install_toolchain(npm: str | None = None) -> Path:
    """`npm ci` of the shipped lockfile into `toolchain_dir()` (nothing to do when it is there already).

    Installs into a temporary sibling folder and renames it when npm succeeded, so an interrupted install
    is never used. Returns the node_modules folder.
    """
    ready = installed_node_modules()
    if ready is not None:
        return ready
    npm = npm or shutil.which("npm")
    if npm is None:
        raise ToolchainError("`vaultexec toolchain` needs npm (Node.js 18 or later) on PATH to install anvil and "
                             "Uniswap's contracts; install Node.js, then run it again.")
    final = toolchain_dir()
    work = final.with_name(f"{final.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(NPM_DIR / name, work / name)
        logger.info("npm ci into %s", work)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work,
                              capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False)
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise ToolchainError(f"npm ci failed (exit {done.returncode}) in {work}: {tail}. Check that the npm "
                                 "registry is reachable, then run `vaultexec toolchain` again.")
        (work / INSTALLED_MARKER).write_text(lock_hash() + "\n")
        try:
            work.rename(final)
        except OSError:  # another process installed it meanwhile
            if installed_node_modules() is None:
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final / "node_modules"
