// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITradeGuard, RouterKind, Call, AssetBound} from "./ITradeGuard.sol";

/// @title IVault
/// @notice A vault that holds the funds itself and runs the trade guard (`ITradeGuard`) on them: one asset
/// manager trades through whitelisted Uniswap routers and pools within on-chain bounds; only the owner
/// can move assets out, and only to itself.
interface IVault is ITradeGuard {
    /// @notice `amount` raw units of `asset` left the vault to the owner `to`.
    event Withdrawn(address indexed asset, address indexed to, uint256 amount);
    /// @notice `amount` wei of ETH (forced into the vault, e.g. by selfdestruct) left to the owner `to`.
    event EthWithdrawn(address indexed to, uint256 amount);

    /// @notice The owner cannot be renounced: nobody could withdraw any more.
    error RenounceOwnershipDisabled();
    /// @notice Sending `amount` wei to the owner `to` failed.
    error EthTransferFailed(address to, uint256 amount);

    /// @notice Send `amount` raw units of `asset` to the owner; never anywhere else. Owner only.
    /// @dev `type(uint256).max` sends the whole balance (a dust trade front-running an exact amount
    /// cannot make it revert). A zero amount (e.g. the whole of an empty balance) sends nothing and calls
    /// nothing, so a token that reverts on zero transfers cannot make an owner's withdraw-all fail.
    function withdraw(address asset, uint256 amount) external;

    /// @notice Send all ETH held (only ever forced in, e.g. by selfdestruct) to the owner. Owner only.
    function withdrawEth() external;
}
