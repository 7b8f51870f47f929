// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The part of a Uniswap V3 pool the oracle guard reads.
interface IUniswapV3PoolOracle {
    function token0() external view returns (address);
    function token1() external view returns (address);

    /// @return tickCumulatives Cumulative tick at each `secondsAgos` point.
    /// @return secondsPerLiquidityCumulativeX128s Unused here.
    function observe(uint32[] calldata secondsAgos)
        external
        view
        returns (int56[] memory tickCumulatives, uint160[] memory secondsPerLiquidityCumulativeX128s);
}
