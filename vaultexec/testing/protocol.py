"""Load the real protocol build artifacts (Uniswap V2/V3, WETH9, Safe 1.4.1) that npm installs."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from vaultexec.errors import ToolchainError
from vaultexec.testing.toolchain import INSTALL_COMMAND, installed_node_modules, toolchain_dir

NODE_MODULES_ENV_VAR = "VAULTEXEC_NODE_MODULES"

_SAFE = "@safe-global/safe-contracts/build/artifacts/contracts"
#: name -> path inside node_modules of the npm package's own build output (never re-compiled by us).
PROTOCOL_ARTIFACTS: dict[str, str] = {
    "WETH9": "@uniswap/v2-periphery/build/WETH9.json",
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "@uniswap/v2-periphery/build/UniswapV2Router02.json",
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
    ),
    "SwapRouter02": "@uniswap/swap-router-contracts/artifacts/contracts/SwapRouter02.sol/SwapRouter02.json",
    "SafeL2": f"{_SAFE}/SafeL2.sol/SafeL2.json",
    "SafeProxyFactory": f"{_SAFE}/proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    "MultiSendCallOnly": f"{_SAFE}/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
    "CompatibilityFallbackHandler": (
        f"{_SAFE}/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"),
}


#: The npm packages holding those artifacts, pinned as in vaultexec's own package.json (a test checks it).
NPM_PACKAGES: dict[str, str] = {
    "@uniswap/v2-core": "1.0.1",
    "@uniswap/v2-periphery": "1.1.0-beta.0",
    "@uniswap/v3-core": "1.0.1",
    "@uniswap/v3-periphery": "1.4.4",
    "@uniswap/swap-router-contracts": "1.3.1",
    "@safe-global/safe-contracts": "1.4.1",
}


@dataclass(frozen=True)
class Artifact:
    """ABI and creation bytecode of one contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def setup_hint() -> str:
    """How a project gets the npm packages: `vaultexec toolchain`, or the environment variable."""
    return (
        f"Run `{INSTALL_COMMAND}` once (it installs anvil and Uniswap's packages, pinned, into "
        f"{toolchain_dir()}), or set {NODE_MODULES_ENV_VAR} to a node_modules folder that has them. "
        "See `vaultexec docs testing`, \"Using the fixtures in another project\"."
    )


def find_node_modules() -> Path:
    """$VAULTEXEC_NODE_MODULES, else the node_modules of the checkout or of cwd and its parents, else the one
    `vaultexec toolchain` installed (`testing.toolchain`)."""
    configured = os.environ.get(NODE_MODULES_ENV_VAR)
    if configured:
        if not (Path(configured) / "@uniswap").is_dir():
            raise ToolchainError(f"{NODE_MODULES_ENV_VAR}={configured!r} has no @uniswap packages. {setup_hint()}")
        return Path(configured)
    here = Path(__file__).resolve()
    for root in dict.fromkeys([*here.parents, Path.cwd(), *Path.cwd().parents]):
        candidate = root / "node_modules" / "@uniswap"
        if candidate.is_dir():
            return candidate.parent
    installed = installed_node_modules()
    if installed is not None:
        return installed
    raise ToolchainError(
        "Uniswap's npm packages (the bytecode and ABIs of the test world) were not found in a node_modules "
        f"of the current folder or its parents. {setup_hint()}")


@cache
def load_protocol_artifact(name: str) -> Artifact:
    """Read one npm build artifact; both the Truffle (v2) and Hardhat (v3) layouts are understood."""
    if name not in PROTOCOL_ARTIFACTS:
        raise ToolchainError(f"Unknown protocol artifact {name!r}; known: {', '.join(PROTOCOL_ARTIFACTS)}")
    path = find_node_modules() / PROTOCOL_ARTIFACTS[name]
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ToolchainError(f"Cannot read {path}: {exc}. {setup_hint()}") from exc
    bytecode = data.get("bytecode") or data.get("evm", {}).get("bytecode", {}).get("object", "")
    if not bytecode.startswith("0x"):
        bytecode = "0x" + bytecode
    return Artifact(name=name, abi=data["abi"], bytecode=bytecode)
