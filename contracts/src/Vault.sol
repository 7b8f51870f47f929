// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IVault} from "./interfaces/IVault.sol";
import {TradeGuard} from "./guard/TradeGuard.sol";

/// @title Vault
/// @notice Holds the funds; its one asset manager may only swap them through whitelisted routers and
/// pools, back into the vault, within declared per-asset bounds, rolling spend limits and an oracle-priced
/// loss bound (per execute and per period, see `OracleGuard`). An asset can be spent only if something
/// bounds it: a spend limit, a price under the active loss bound, or the owner's explicit unbounded opt-in.
/// Two paths: `execute` (approve + router calls) and `executeDirect` (straight through factory-confirmed
/// Uniswap V2 pairs and V3 pools, see `DirectSwap`); the same asset checks settle both.
/// @dev The custody of `TradeGuard`, which holds every check: this contract is the custody itself (funds
/// in it, calls made by it) and adds the owner (two-step), withdrawals to the owner and the hooks.
/// No upgradeability, no receive/fallback, no delegatecall, no ETH value in any call.
contract Vault is IVault, TradeGuard, Ownable2Step {
    using SafeERC20 for IERC20;

    /// @param owner_ Configures, unpauses and receives withdrawals (two-step transferable).
    /// @param assetManager_ Hot wallet that may `execute` and `pause`; zero for none yet.
    constructor(address owner_, address assetManager_) Ownable(owner_) TradeGuard(assetManager_) {}

    // ================================================================ owner

    /// @inheritdoc IVault
    function withdraw(address asset, uint256 amount) external override onlyOwner nonReentrant {
        address to = owner();
        if (amount == type(uint256).max) amount = _balanceOf(asset); // all of it: immune to front-running dust
        if (amount == 0) return; // nothing to send: a token that reverts on zero transfers cannot block this
        emit Withdrawn(asset, to, amount);
        IERC20(asset).safeTransfer(to, amount);
    }

    /// @inheritdoc IVault
    function withdrawEth() external override onlyOwner nonReentrant {
        uint256 amount = address(this).balance;
        if (amount == 0) return;
        address to = owner();
        emit EthWithdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }

    /// @notice Disabled: a vault without an owner could never be withdrawn from.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceOwnershipDisabled();
    }

    // ================================================================ custody hooks

    /// @dev Configuration of the guard (and the oracle guard): the owner only.
    function _checkConfigAuth() internal view override {
        _checkOwner();
    }

    /// @dev Besides the asset manager, the owner may pause.
    function _isGuardAdmin(address account) internal view override returns (bool) {
        return account == owner();
    }

    /// @dev The vault holds the funds itself.
    function _custody() internal view override returns (address) {
        return address(this);
    }

    /// @dev The direct path pays a pool from the vault's own balance (no allowance is ever given).
    function _payPool(address token, address pool, uint256 amount) internal override {
        IERC20(token).safeTransfer(pool, amount);
    }

    /// @dev Return data is copied to memory only on failure.
    function _custodyCall(uint256 i, address target, bytes calldata data, bool isApprove) internal override {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            ok := call(gas(), target, 0, m, data.length, 0x00, 0x20)
            if and(ok, isApprove) {
                ok := or(iszero(returndatasize()), and(gt(returndatasize(), 31), eq(mload(0x00), 1)))
            }
        }
        if (!ok) {
            uint256 size;
            assembly ("memory-safe") {
                size := returndatasize()
            }
            bytes memory reason = new bytes(size);
            assembly ("memory-safe") {
                returndatacopy(add(reason, 0x20), 0x00, size)
            }
            revert CallFailed(i, reason);
        }
    }

    /// @dev Tolerates tokens that return nothing (USDT-like).
    function _custodyApproveZero(address token, address spender) internal override returns (bool) {
        (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.approve, (spender, 0)));
        return ok && _returnedTrueOrNothing(ret);
    }

    /// @dev ERC-20 success: no return data (USDT-like) or an ABI-encoded `true`.
    function _returnedTrueOrNothing(bytes memory ret) private pure returns (bool) {
        return ret.length == 0 || (ret.length >= 32 && uint256(bytes32(ret)) == 1);
    }
}
