// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AssetBound} from "./ITradeGuard.sol";

/// @notice The pool protocols the guard swaps through itself (no router, no approval).
enum DirectProtocol {
    None,
    UniswapV2, // a V2 pair (or a fork): reserves, `swap(amount0Out, amount1Out, to, "")`, fee per pool
    UniswapV3 // a V3 pool: `swap(...)` paid in `uniswapV3SwapCallback`
}

/// @notice One route of hops through allowed pools: `tokens[k]` -> `tokens[k + 1]` in `pools[k]`.
/// @dev Exact input: the guard computes every hop's output itself and sends it on (to the next V2 pair,
/// or to the custody); the caller names no recipient and no intermediate amount.
struct DirectRoute {
    address[] tokens;
    address[] pools;
    uint256 amountIn;
    uint256 amountOutMin;
    uint256 deadline;
}

/// @title IDirectSwap
/// @notice Guarded swaps straight through Uniswap V2 pairs and V3 pools: pools confirmed by their factory
/// and bound to their tokens, protocol and fee; the V3 callback pays only the pool being swapped with, once,
/// at most the hop's input.
interface IDirectSwap {
    /// @notice The pool `pool` (confirmed by `factory`) between token0 < token1 is allowed or forbidden for
    /// direct swaps, with `protocol` and `fee` (hundredths of a bip: the V3 fee tier, or a V2 pair's fee,
    /// 3000 for Uniswap V2).
    event DirectPoolAllowedSet(
        address indexed pool,
        address indexed token0,
        address indexed token1,
        address factory,
        DirectProtocol protocol,
        uint24 fee,
        bool allowed
    );

    /// @notice `factory` returned no pool (zero address) for `tokenA`/`tokenB` at `fee`: nothing to allow.
    error PoolUnknownToFactory(address factory, address tokenA, address tokenB, uint24 fee);
    /// @notice `protocol` is None or `fee` is out of range (V2: 1..999,999; V3: a non-zero fee tier).
    error BadDirectPool(DirectProtocol protocol, uint24 fee);
    /// @notice Route `index` has no hop, more than `MAX_HOPS`, or `tokens.length != pools.length + 1`.
    error BadRoute(uint256 index);
    /// @notice `pool` is not allowed for direct swaps between `tokenIn` and `tokenOut`.
    error DirectPoolNotAllowed(address pool, address tokenIn, address tokenOut);
    /// @notice `uniswapV3SwapCallback` from `caller`, which is not the pool being swapped with right now
    /// (no swap running, another pool, an EOA, or a second callback in the same swap).
    error UnexpectedCallback(address caller);
    /// @notice The pool asked `owed` of the hop's input token in its callback; at most `max` may be paid.
    error CallbackAmountTooHigh(uint256 owed, uint256 max);
    /// @notice A V3 pool returned from `swap` without having been paid through the callback.
    error CallbackNotCalled(address pool);
    /// @notice Hop `hop` of route `index` computed no output (`amountIn` too small for its pool).
    error ZeroHopOutput(uint256 index, uint256 hop);
    /// @notice Route `index` ended with `amountOut` of its last token, below its `amountOutMin`.
    error RouteOutputTooLow(uint256 index, uint256 amountOut, uint256 amountOutMin);

    /// @notice Run `routes` (exact input, through allowed pools only) and enforce the asset deltas exactly
    /// as `execute` does: max spend, min receive, spend limits, intermediate balances, the loss bound.
    /// @dev Asset manager only, not paused, non-reentrant.
    /// @param routes Up to `MAX_CALLS` routes of 1..`MAX_HOPS` hops each.
    /// @param maxSpend Per asset, the most the balance may decrease (raw units).
    /// @param minReceive Per asset, the least the balance must increase (raw units, > 0).
    /// @return spent Balance decrease per `maxSpend` entry.
    /// @return received Balance increase per `minReceive` entry.
    function executeDirect(
        DirectRoute[] calldata routes,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive
    ) external returns (uint256[] memory spent, uint256[] memory received);

    /// @notice Dry-run the argument and per-route checks of `executeDirect` without touching any pool.
    function checkExecuteDirect(
        DirectRoute[] calldata routes,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive
    ) external view;

    /// @notice Allow or forbid direct swaps in the pool `factory` returns for `tokenA`/`tokenB` (`getPair`
    /// for V2, `getPool(.., fee)` for V3). `fee`: the V3 fee tier, or the V2 pair's swap fee in hundredths
    /// of a bip (3000 = 0.3% for Uniswap V2; a fork's own fee). Owner only.
    function setDirectPoolAllowed(
        address factory,
        DirectProtocol protocol,
        address tokenA,
        address tokenB,
        uint24 fee,
        bool allowed
    ) external;

    /// @notice Protocol and fee of `pool` for direct swaps between `tokenA` and `tokenB` (None: not allowed).
    function directPool(address pool, address tokenA, address tokenB)
        external
        view
        returns (DirectProtocol protocol, uint24 fee);

    /// @notice The V3 swap callback: pays `pool` the hop's input it is owed, only during that pool's swap.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}
