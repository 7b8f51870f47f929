// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITradeGuard} from "../interfaces/ITradeGuard.sol";

/// @notice The parts of one exact-input swap call the vault checks: `count` path tokens (2..4) in
/// `tokens[0..count)`; `fees[k]` is the fee of the hop tokens[k] -> tokens[k+1] (0 for V2 pairs).
/// `deadline` is 0 when the ABI has none. Fixed-size arrays: no allocation per decoded call.
struct Swap {
    bool v2Pairs;
    bool hasDeadline;
    address recipient;
    uint256 amountIn;
    uint256 amountOutMin;
    uint256 deadline;
    uint256 count;
    address[4] tokens;
    uint24[3] fees;
}

/// @title CanonicalCalldata
/// @notice Strict decoders for the call layouts the vault accepts. Each accepts the bytes only if they
/// are exactly the standard ABI encoding of the values read (fixed offsets, exact length, clean
/// address/uint24 words, zero padding), so no router can read the same bytes differently.
/// `data` includes the 4-byte selector, which the caller has already matched. Each decoder sets every
/// field of `s` the vault reads for its call (path tokens and the fee of every hop, 0 for V2 pairs), so
/// one `Swap` is reused for all calls of an execute without stale values.
/// Arithmetic is unchecked: it only combines small constants with lengths and counts that are
/// range-checked before use, and calldata lengths, which are far below 2^64.
library CanonicalCalldata {
    uint256 internal constant MIN_PATH_TOKENS = 2;
    uint256 internal constant MAX_PATH_TOKENS = 4;
    uint256 private constant V3_HOP = 23; // 3-byte fee + 20-byte token
    uint256 private constant ADDRESS = 20;

    /// @notice ERC-20 approve(address spender, uint256 amount).
    function decodeApprove(uint256 index, bytes calldata data) internal pure returns (address spender, uint256 amount) {
        unchecked {
            if (data.length != 4 + 2 * 32) revert ITradeGuard.NonCanonicalCalldata(index);
            spender = _address(index, _word(data, 0));
            amount = _word(data, 1);
        }
    }

    /// @notice V2 swapExactTokensForTokens(amountIn, amountOutMin, path, to[, deadline]).
    function decodeV2(uint256 index, bytes calldata data, bool withDeadline, Swap memory s) internal pure {
        unchecked {
            uint256 head = withDeadline ? 5 : 4;
            if (data.length < 4 + (head + 1) * 32 || _word(data, 2) != head * 32) revert ITradeGuard.NonCanonicalCalldata(index);
            uint256 count = _word(data, head);
            if (count < MIN_PATH_TOKENS || count > MAX_PATH_TOKENS) revert ITradeGuard.InvalidPath(index);
            if (data.length != 4 + (head + 1 + count) * 32) revert ITradeGuard.NonCanonicalCalldata(index);
            s.v2Pairs = true;
            s.hasDeadline = withDeadline;
            s.amountIn = _word(data, 0);
            s.amountOutMin = _word(data, 1);
            s.recipient = _address(index, _word(data, 3));
            s.deadline = withDeadline ? _word(data, 4) : 0;
            s.count = count;
            for (uint256 k; k < count; ++k) {
                s.tokens[k] = _address(index, _word(data, head + 1 + k));
                if (k != 0) s.fees[k - 1] = 0; // V2 pairs: no fee tier (and no stale one from an earlier call)
            }
        }
    }

    /// @notice V3 exactInputSingle((tokenIn, tokenOut, fee, recipient[, deadline], amountIn, amountOutMinimum,
    /// sqrtPriceLimitX96)). Returns the price limit separately: the vault requires it to be 0.
    function decodeV3Single(uint256 index, bytes calldata data, bool withDeadline, Swap memory s)
        internal
        pure
        returns (uint256 sqrtPriceLimitX96)
    {
        unchecked {
            uint256 at = withDeadline ? 5 : 4; // word of amountIn
            if (data.length != 4 + (at + 3) * 32) revert ITradeGuard.NonCanonicalCalldata(index);
            s.v2Pairs = false;
            s.hasDeadline = withDeadline;
            s.count = 2;
            s.tokens[0] = _address(index, _word(data, 0));
            s.tokens[1] = _address(index, _word(data, 1));
            uint256 fee = _word(data, 2);
            if (fee > type(uint24).max) revert ITradeGuard.NonCanonicalCalldata(index);
            s.fees[0] = uint24(fee);
            s.recipient = _address(index, _word(data, 3));
            s.deadline = withDeadline ? _word(data, 4) : 0;
            s.amountIn = _word(data, at);
            s.amountOutMin = _word(data, at + 1);
            sqrtPriceLimitX96 = _word(data, at + 2);
        }
    }

    /// @notice V3 exactInput((path, recipient[, deadline], amountIn, amountOutMinimum)); path is packed
    /// token (20 bytes) then fee (3 bytes) + token per hop: exactly 20 + 23 * hops bytes.
    function decodeV3Path(uint256 index, bytes calldata data, bool withDeadline, Swap memory s) internal pure {
        unchecked {
            uint256 head = withDeadline ? 5 : 4; // words of the params tuple's head
            // word 0: offset of the tuple (0x20); words 1..head: tuple head; word head+1: path length.
            if (data.length < 4 + (head + 2) * 32 || _word(data, 0) != 32 || _word(data, 1) != head * 32) {
                revert ITradeGuard.NonCanonicalCalldata(index);
            }
            uint256 pathLength = _word(data, head + 1);
            if (pathLength < ADDRESS + V3_HOP || pathLength > ADDRESS + V3_HOP * (MAX_PATH_TOKENS - 1)) {
                revert ITradeGuard.InvalidPath(index);
            }
            if ((pathLength - ADDRESS) % V3_HOP != 0) revert ITradeGuard.InvalidPath(index);
            uint256 padded = (pathLength + 31) & ~uint256(31);
            uint256 start = 4 + (head + 2) * 32;
            if (data.length != start + padded) revert ITradeGuard.NonCanonicalCalldata(index);
            uint256 padding = padded - pathLength;
            if (padding != 0 && _at(data, start + padded - 32) & ((1 << (8 * padding)) - 1) != 0) {
                revert ITradeGuard.NonCanonicalCalldata(index);
            }

            s.v2Pairs = false;
            s.hasDeadline = withDeadline;
            s.recipient = _address(index, _word(data, 2));
            s.deadline = withDeadline ? _word(data, 3) : 0;
            s.amountIn = _word(data, head - 1);
            s.amountOutMin = _word(data, head);
            uint256 hops = (pathLength - ADDRESS) / V3_HOP;
            s.count = hops + 1;
            s.tokens[0] = address(uint160(_at(data, start) >> 96));
            for (uint256 k; k < hops; ++k) {
                uint256 at = start + ADDRESS + k * V3_HOP;
                s.fees[k] = uint24(_at(data, at) >> 232);
                s.tokens[k + 1] = address(uint160(_at(data, at + 3) >> 96));
            }
        }
    }

    /// @dev The `k`-th 32-byte word after the selector; the caller has checked the length.
    function _word(bytes calldata data, uint256 k) private pure returns (uint256) {
        unchecked {
            return _at(data, 4 + k * 32);
        }
    }

    /// @dev The 32 bytes at byte `offset` of `data`. No bounds check: every caller reads below a length it
    /// has checked first (and calldata past its end reads as zeros, never as other memory).
    function _at(bytes calldata data, uint256 offset) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, offset))
        }
    }

    function _address(uint256 index, uint256 word) private pure returns (address) {
        if (word > type(uint160).max) revert ITradeGuard.NonCanonicalCalldata(index);
        return address(uint160(word));
    }
}
