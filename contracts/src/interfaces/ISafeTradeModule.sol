// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITradeGuard} from "./ITradeGuard.sol";
import {IDirectSwap} from "./IDirectSwap.sol";
import {IOracleGuard} from "./IOracleGuard.sol";

/// @title ISafeTradeModule
/// @notice The trade guard as a Safe module: the Safe holds the funds and owns the configuration; the asset
/// manager calls `execute` / `executeDirect` with the same arguments as on our vault.
interface ISafeTradeModule is ITradeGuard, IOracleGuard, IDirectSwap {
    /// @notice The caller of a configuration function is not the Safe (configure through a Safe transaction).
    error NotSafe(address caller);
    /// @notice `safe` has no code: a module must serve an existing Safe.
    error NotASafe(address safe);
    /// @notice The module refuses to make the Safe call `target` (the Safe itself or this module).
    error ForbiddenTarget(address target);
    /// @notice Paying `amount` of `token` from the Safe to `pool` failed (the Safe's call failed or the token
    /// returned false); `reason` is the token's return data.
    error PoolPaymentFailed(address token, address pool, uint256 amount, bytes reason);

    /// @notice The Safe whose funds this module trades and who configures it.
    function custody() external view returns (address);

    /// @notice Who configures the module: the Safe (as `owner()` of our vault, for the same tooling).
    function owner() external view returns (address);
}
