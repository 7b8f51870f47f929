// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title TickPrice
/// @notice Converts an amount of a Uniswap V3 pool's token at a tick: price(token0 in token1) = 1.0001^tick.
library TickPrice {
    /// @notice Beyond Uniswap V3's tick range.
    error TickOutOfRange(int256 tick);

    int256 internal constant MAX_TICK = 887272;

    /// @notice 1.0001^(-absTick) as a Q128 fixed-point number (<= 2^128), rounded down.
    /// @dev Product of floor(2^128 / 1.0001^(2^i)) over the set bits i of `absTick` (constants computed to
    /// 120 significant digits); each product is truncated, so the result is at most ~20 ulps low.
    function inverseRatioX128(uint256 absTick) internal pure returns (uint256 r) {
        if (absTick > uint256(MAX_TICK)) revert TickOutOfRange(int256(absTick));
        r = 1 << 128;
        unchecked {
            if (absTick & 0x1 != 0) r = (r * 0xfff97272373d413259a46990580e2139) >> 128;
            if (absTick & 0x2 != 0) r = (r * 0xfff2e50f5f656932ef12357cf3c7fdcb) >> 128;
            if (absTick & 0x4 != 0) r = (r * 0xffe5caca7e10e4e61c3624eaa0941ccf) >> 128;
            if (absTick & 0x8 != 0) r = (r * 0xffcb9843d60f6159c9db58835c926643) >> 128;
            if (absTick & 0x10 != 0) r = (r * 0xff973b41fa98c081472e6896dfb254bf) >> 128;
            if (absTick & 0x20 != 0) r = (r * 0xff2ea16466c96a3843ec78b326b52860) >> 128;
            if (absTick & 0x40 != 0) r = (r * 0xfe5dee046a99a2a811c461f1969c3052) >> 128;
            if (absTick & 0x80 != 0) r = (r * 0xfcbe86c7900a88aedcffc83b479aa3a3) >> 128;
            if (absTick & 0x100 != 0) r = (r * 0xf987a7253ac413176f2b074cf7815e53) >> 128;
            if (absTick & 0x200 != 0) r = (r * 0xf3392b0822b70005940c7a398e4b70f2) >> 128;
            if (absTick & 0x400 != 0) r = (r * 0xe7159475a2c29b7443b29c7fa6e889d8) >> 128;
            if (absTick & 0x800 != 0) r = (r * 0xd097f3bdfd2022b8845ad8f792aa5825) >> 128;
            if (absTick & 0x1000 != 0) r = (r * 0xa9f746462d870fdf8a65dc1f90e061e4) >> 128;
            if (absTick & 0x2000 != 0) r = (r * 0x70d869a156d2a1b890bb3df62baf32f6) >> 128;
            if (absTick & 0x4000 != 0) r = (r * 0x31be135f97d08fd981231505542fcfa5) >> 128;
            if (absTick & 0x8000 != 0) r = (r * 0x9aa508b5b7a84e1c677de54f3e99bc8) >> 128;
            if (absTick & 0x10000 != 0) r = (r * 0x5d6af8dedb81196699c329225ee604) >> 128;
            if (absTick & 0x20000 != 0) r = (r * 0x2216e584f5fa1ea926041bedfe97) >> 128;
            if (absTick & 0x40000 != 0) r = (r * 0x48a170391f7dc42444e8fa2) >> 128;
            if (absTick & 0x80000 != 0) r = (r * 0x149b34ee7ac262) >> 128;
        }
        if (r == 0) r = 1; // never divide by zero at the range's edge
    }

    /// @notice `amount` of the token whose price in the other is 1.0001^`tick`, in the other token's raw
    /// units, rounded up or down (the Q128 ratio is itself within ~20 ulps).
    function convert(uint256 amount, int256 tick, bool roundUp) internal pure returns (uint256) {
        Math.Rounding rounding = roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor;
        if (tick >= 0) return Math.mulDiv(amount, 1 << 128, inverseRatioX128(uint256(tick)), rounding);
        return Math.mulDiv(amount, inverseRatioX128(uint256(-tick)), 1 << 128, rounding);
    }
}
