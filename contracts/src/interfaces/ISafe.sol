// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Safe's `Enum.Operation`: the module only ever uses `Call`.
enum SafeOperation {
    Call,
    DelegateCall
}

/// @title ISafe
/// @notice The part of a Safe (1.3 / 1.4.1) a module calls.
interface ISafe {
    /// @notice As the Safe, call `to` with `value` and `data` (`operation` Call or DelegateCall); the
    /// caller must be an enabled module. Returns whether the call succeeded and its return data.
    function execTransactionFromModuleReturnData(address to, uint256 value, bytes memory data, SafeOperation operation)
        external
        returns (bool success, bytes memory returnData);

    /// @notice Whether `module` is enabled on this Safe.
    function isModuleEnabled(address module) external view returns (bool);
}
