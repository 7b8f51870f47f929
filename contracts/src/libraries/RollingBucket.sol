// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title RollingBucket
/// @notice The one rolling-limit rule of the guard (spend limits and the loss budget): `available` as of
/// `lastUpdate`, refilling linearly to `capacity` over `refillPeriod` seconds.
library RollingBucket {
    /// @dev Available at `now_`: refill rounded down (toward less spendable), capped at capacity.
    function available(uint256 stored, uint256 lastUpdate, uint256 capacity, uint256 refillPeriod, uint256 now_)
        internal
        pure
        returns (uint256)
    {
        uint256 total = stored + (now_ - lastUpdate) * capacity / refillPeriod;
        return total < capacity ? total : capacity;
    }
}
