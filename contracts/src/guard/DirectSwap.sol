// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDirectSwap, DirectProtocol, DirectRoute} from "../interfaces/IDirectSwap.sol";
import {
    IUniswapV2PairMinimal,
    IUniswapV3PoolMinimal,
    IUniswapV2FactoryMinimal,
    IUniswapV3FactoryMinimal
} from "../interfaces/IUniswapPools.sol";

/// @title DirectSwap
/// @notice Guard core of the direct path, shared by every custody (this vault; later a Safe module): the
/// pool whitelist (factory-confirmed, bound to tokens, protocol and fee), the hop execution and the V3
/// callback. The custody supplies `_custody` (where outputs go) and `_payPool` (how its funds reach a pool);
/// the trade-level checks are in `TradeGuard`.
/// @dev Exact-input hops. A V2 hop's output is computed here from the pair's reserves and fee, and sent by
/// the pair to the next V2 pair or to the custody; a V3 hop is paid in the callback, which accepts only the
/// pool being swapped with right now (transient storage), only once, at most the hop's input.
abstract contract DirectSwap is IDirectSwap {
    /// @notice Most hops in one route.
    uint256 public constant MAX_HOPS = 4;
    uint256 private constant FEE_UNIT = 1_000_000; // fees in hundredths of a bip
    // TickMath.MIN_SQRT_RATIO + 1 and MAX_SQRT_RATIO - 1: the extreme price limits (no limit).
    uint160 private constant MIN_SQRT_LIMIT = 4295128740;
    uint160 private constant MAX_SQRT_LIMIT = 1461446703485210103287273052203988822378723970341;

    /// @dev keccak256(pool, token0, token1) -> protocol | fee << 8 (0: not allowed).
    mapping(bytes32 key => uint256) private _directPools;

    /// @dev The pool the running V3 hop may be paid by (zero outside a hop), its input token and max.
    address private transient _cbPool;
    address private transient _cbToken;
    uint256 private transient _cbMax;
    bool private transient _cbZeroForOne;

    // ================================================================ configuration

    /// @dev Look the pool up at its factory (the only source of pool addresses) and record its binding.
    function _setDirectPoolAllowed(
        address factory,
        DirectProtocol protocol,
        address tokenA,
        address tokenB,
        uint24 fee,
        bool allowed
    ) internal {
        if (protocol == DirectProtocol.None || fee == 0 || fee >= FEE_UNIT) revert BadDirectPool(protocol, fee);
        address pool = protocol == DirectProtocol.UniswapV2
            ? IUniswapV2FactoryMinimal(factory).getPair(tokenA, tokenB)
            : IUniswapV3FactoryMinimal(factory).getPool(tokenA, tokenB, fee);
        if (pool == address(0)) revert PoolUnknownToFactory(factory, tokenA, tokenB, fee);
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        _directPools[_directKey(pool, token0, token1)] = allowed ? uint256(protocol) | uint256(fee) << 8 : 0;
        emit DirectPoolAllowedSet(pool, token0, token1, factory, protocol, fee, allowed);
    }

    /// @inheritdoc IDirectSwap
    function directPool(address pool, address tokenA, address tokenB)
        external
        view
        override
        returns (DirectProtocol protocol, uint24 fee)
    {
        uint256 config = _directConfig(pool, tokenA, tokenB);
        return (DirectProtocol(uint8(config)), uint24(config >> 8));
    }

    /// @dev The packed config of `pool` for this token pair (0: not allowed).
    function _directConfig(address pool, address tokenIn, address tokenOut) internal view returns (uint256) {
        (address token0, address token1) = tokenIn < tokenOut ? (tokenIn, tokenOut) : (tokenOut, tokenIn);
        return _directPools[_directKey(pool, token0, token1)];
    }

    // ================================================================ execution

    /// @dev Swap `route` hop by hop; returns the last hop's output (sent to the custody). Checks were made
    /// before (`_directConfig` of every hop non-zero, tokens allowed): only the amounts are checked here.
    function _swapRoute(uint256 index, DirectRoute calldata route) internal returns (uint256 amount) {
        amount = route.amountIn;
        address[] calldata pools = route.pools;
        address[] calldata tokens = route.tokens;
        uint256 hops = pools.length;
        bool inputAtPool; // the previous hop already sent this hop's input to its V2 pair
        address custody = _custody();
        uint256 config = _directConfig(pools[0], tokens[0], tokens[1]); // warm: read by the checks
        unchecked {
            for (uint256 k; k < hops; ++k) {
                (address pool, address tokenIn, address tokenOut) = (pools[k], tokens[k], tokens[k + 1]);
                // The output goes to the next pool if that one is a V2 pair, otherwise to the custody.
                address to = custody;
                uint256 next; // the next hop's config, looked up once
                if (k + 1 < hops) {
                    next = _directConfig(pools[k + 1], tokenOut, tokens[k + 2]);
                    if (uint8(next) == uint8(DirectProtocol.UniswapV2)) to = pools[k + 1];
                }
                if (uint8(config) == uint8(DirectProtocol.UniswapV2)) {
                    if (!inputAtPool) _payPool(tokenIn, pool, amount);
                    amount = _swapV2(pool, tokenIn < tokenOut, amount, uint24(config >> 8), to);
                } else {
                    amount = _swapV3(pool, tokenIn, tokenOut, amount, to);
                }
                if (amount == 0) revert ZeroHopOutput(index, k);
                inputAtPool = to != custody;
                config = next;
            }
        }
        if (amount < route.amountOutMin) revert RouteOutputTooLow(index, amount, route.amountOutMin);
    }

    /// @dev The pair's output for `amountIn` already sent to it, from its reserves and `fee`, rounded down
    /// (the pair's K check refuses even one wei more).
    function _swapV2(address pair, bool zeroForOne, uint256 amountIn, uint24 fee, address to)
        private
        returns (uint256 amountOut)
    {
        (uint256 reserve0, uint256 reserve1,) = IUniswapV2PairMinimal(pair).getReserves();
        amountOut = v2AmountOut(amountIn, zeroForOne ? reserve0 : reserve1, zeroForOne ? reserve1 : reserve0, fee);
        if (amountOut == 0) return 0;
        (uint256 out0, uint256 out1) = zeroForOne ? (uint256(0), amountOut) : (amountOut, uint256(0));
        IUniswapV2PairMinimal(pair).swap(out0, out1, to, "");
    }

    /// @notice The output of a V2 pair with reserves `reserveIn`/`reserveOut` and swap fee `fee` (hundredths
    /// of a bip) for `amountIn`, rounded down: Uniswap V2's `getAmountOut` for fee 3000.
    function v2AmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut, uint24 fee)
        public
        pure
        returns (uint256)
    {
        uint256 inWithFee = amountIn * (FEE_UNIT - fee);
        return inWithFee * reserveOut / (reserveIn * FEE_UNIT + inWithFee);
    }

    /// @dev Exact-input V3 swap at the extreme price limit; the callback may pay at most `amountIn`.
    function _swapV3(address pool, address tokenIn, address tokenOut, uint256 amountIn, address to)
        private
        returns (uint256)
    {
        bool zeroForOne = tokenIn < tokenOut;
        if (amountIn > uint256(type(int256).max)) revert CallbackAmountTooHigh(amountIn, uint256(type(int256).max));
        _cbPool = pool;
        _cbToken = tokenIn;
        _cbMax = amountIn;
        _cbZeroForOne = zeroForOne;
        (int256 amount0, int256 amount1) = IUniswapV3PoolMinimal(pool).swap(
            to, zeroForOne, int256(amountIn), zeroForOne ? MIN_SQRT_LIMIT : MAX_SQRT_LIMIT, ""
        );
        if (_cbPool != address(0)) revert CallbackNotCalled(pool);
        int256 out = zeroForOne ? amount1 : amount0;
        return out < 0 ? uint256(-out) : 0;
    }

    /// @inheritdoc IDirectSwap
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external override {
        address pool = _cbPool;
        if (msg.sender != pool || pool == address(0)) revert UnexpectedCallback(msg.sender);
        _cbPool = address(0); // once
        // Exact input: the pool is owed the input side's positive delta; the other side is never paid.
        int256 owedSigned = _cbZeroForOne ? amount0Delta : amount1Delta;
        uint256 owed = owedSigned > 0 ? uint256(owedSigned) : 0;
        uint256 max = _cbMax;
        if (owed > max) revert CallbackAmountTooHigh(owed, max);
        if (owed != 0) _payPool(_cbToken, pool, owed);
    }

    /// @dev Move `amount` of `token` from the custody's funds to `pool`.
    function _payPool(address token, address pool, uint256 amount) internal virtual;

    /// @dev The address holding the funds: it receives every route's output.
    function _custody() internal view virtual returns (address);

    function _directKey(address pool, address token0, address token1) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, pool)
            mstore(add(m, 0x20), token0)
            mstore(add(m, 0x40), token1)
            key := keccak256(m, 0x60)
        }
    }
}
