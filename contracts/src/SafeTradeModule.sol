// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ISafe, SafeOperation} from "./interfaces/ISafe.sol";
import {ISafeTradeModule} from "./interfaces/ISafeTradeModule.sol";
import {TradeGuard} from "./guard/TradeGuard.sol";

/// @title SafeTradeModule
/// @notice The vault's trade guard as a Safe module: the Safe holds the funds and its owners keep control
/// (they configure this module through Safe transactions and can disable it at any time); the asset
/// manager calls `execute` / `executeDirect` with the same arguments as on our vault, and every check of
/// the vault applies (`TradeGuard`): declared assets, whitelisted routers and pools, canonical calldata,
/// recipient = the Safe, spend limits, the oracle loss bound, no allowance left behind.
/// @dev The custody of `TradeGuard`. Balances are measured at the Safe; funds move only through
/// `execTransactionFromModuleReturnData(to, 0, data, Call)` — never DelegateCall, never ETH, never to the
/// Safe or this module — to a target the guard checked: an approve of an allowed token to an allowed
/// router (reset to zero after), a router swap, or (direct path) a transfer of exactly what a
/// factory-confirmed pool is owed. A failed Safe call reverts the whole execute (fail closed). The Safe
/// is the owner: every configuration function needs `msg.sender == safe`. No upgradeability, no
/// receive/fallback, no delegatecall.
contract SafeTradeModule is ISafeTradeModule, TradeGuard {
    /// @notice The Safe whose funds this module trades and who configures it.
    address public immutable safe;

    /// @param safe_ The Safe (custody and owner).
    /// @param assetManager_ Hot wallet that may `execute` and `pause`; zero for none yet.
    constructor(address safe_, address assetManager_) TradeGuard(assetManager_) {
        if (safe_.code.length == 0) revert NotASafe(safe_);
        safe = safe_;
    }

    /// @inheritdoc ISafeTradeModule
    function custody() external view override returns (address) {
        return safe;
    }

    /// @inheritdoc ISafeTradeModule
    function owner() external view override returns (address) {
        return safe;
    }

    // ================================================================ custody hooks

    /// @dev Configuration: the Safe only (a Safe transaction of its owners).
    function _checkConfigAuth() internal view override {
        if (msg.sender != safe) revert NotSafe(msg.sender);
    }

    /// @dev Besides the asset manager, the Safe may pause.
    function _isGuardAdmin(address account) internal view override returns (bool) {
        return account == safe;
    }

    /// @dev The Safe holds the funds.
    function _custody() internal view override returns (address) {
        return safe;
    }

    /// @dev The direct path: the Safe transfers exactly what the pool is owed (no allowance is given).
    function _payPool(address token, address pool, uint256 amount) internal override {
        (bool ok, bytes memory ret) = _safeCall(token, abi.encodeCall(IERC20.transfer, (pool, amount)));
        if (!ok || !_returnedTrueOrNothing(ret)) revert PoolPaymentFailed(token, pool, amount, ret);
    }

    /// @dev A router-path call made by the Safe; the guard checked `target` and `data` before.
    function _custodyCall(uint256 i, address target, bytes calldata data, bool isApprove) internal override {
        (bool ok, bytes memory ret) = _safeCall(target, data);
        if (!ok || (isApprove && !_returnedTrueOrNothing(ret))) revert CallFailed(i, ret);
    }

    /// @dev Tolerates tokens that return nothing (USDT-like).
    function _custodyApproveZero(address token, address spender) internal override returns (bool) {
        (bool ok, bytes memory ret) = _safeCall(token, abi.encodeCall(IERC20.approve, (spender, 0)));
        return ok && _returnedTrueOrNothing(ret);
    }

    /// @dev The one way this module moves anything: a plain Call with no value, made by the Safe, never to
    /// the Safe itself (its owner, module and guard settings) nor to this module.
    function _safeCall(address to, bytes memory data) private returns (bool ok, bytes memory ret) {
        address custody_ = safe;
        if (to == custody_ || to == address(this)) revert ForbiddenTarget(to);
        return ISafe(custody_).execTransactionFromModuleReturnData(to, 0, data, SafeOperation.Call);
    }

    /// @dev ERC-20 success: no return data (USDT-like) or an ABI-encoded `true`.
    function _returnedTrueOrNothing(bytes memory ret) private pure returns (bool) {
        return ret.length == 0 || (ret.length >= 32 && uint256(bytes32(ret)) == 1);
    }
}
