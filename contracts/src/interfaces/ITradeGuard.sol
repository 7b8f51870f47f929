// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Which swap ABI a whitelisted router speaks. `None` means "not a router".
enum RouterKind {
    None,
    UniswapV2, // UniswapV2Router02: swapExactTokensForTokens with deadline
    UniswapV3SwapRouter, // v3-periphery SwapRouter: exactInputSingle / exactInput with deadline
    UniswapV3SwapRouter02 // SwapRouter02: V3 exactInputSingle / exactInput and V2 swapExactTokensForTokens, no deadline
}

/// @notice One call the custody makes on behalf of the asset manager. No ETH value, ever.
struct Call {
    address target;
    bytes data;
}

/// @notice A raw-unit bound on one asset: a maximum spend or a minimum receive.
struct AssetBound {
    address asset;
    uint256 amount;
}

/// @title ITradeGuard
/// @notice The custody-independent trade guard: one asset manager may trade the custody's funds through
/// whitelisted Uniswap routers and pools, with on-chain slippage bounds, rolling spend limits and no
/// leftover allowance. A leaked asset-manager key can at worst trade within those bounds; it can never
/// move assets out of the custody. Implemented by `TradeGuard`; the custody (the `Vault` itself, or a
/// Safe through a module) holds the funds.
interface ITradeGuard {
    // ---------------------------------------------------------------- events

    /// @notice A successful `execute`: raw amounts spent and received per declared asset.
    event Executed(
        address indexed manager, address[] spendAssets, uint256[] spent, address[] receiveAssets, uint256[] received
    );
    /// @notice `asset` may (or may no longer) be spent, received or routed through.
    event AssetAllowedSet(address indexed asset, bool allowed);
    /// @notice `router` is whitelisted with swap ABI `kind` (`None`: removed).
    event RouterSet(address indexed router, RouterKind kind);
    /// @notice Every pool allowed for `router` under `previousKind` is forgotten (its kind changed); pools
    /// must be allowed again, each with its own `PoolAllowedSet`. `epoch` is the router's new pool epoch.
    event RouterPoolsCleared(address indexed router, RouterKind previousKind, uint256 epoch);
    /// @notice The pool of `router` between token0 < token1 (sorted) at `fee` (0 for V2 pairs) is allowed
    /// or forbidden.
    event PoolAllowedSet(address indexed router, address indexed token0, address indexed token1, uint24 fee, bool allowed);
    /// @notice Rolling spend limit of `asset`: `capacity` raw units over `refillPeriod` seconds (0: none).
    event SpendLimitSet(address indexed asset, uint256 capacity, uint256 refillPeriod);
    /// @notice The owner allows (or stops allowing) `asset` to be spent with no spend limit and no loss
    /// bound: a leaked key could then sell all of it at a manipulated price.
    event UnboundedSpendAllowedSet(address indexed asset, bool allowed);
    /// @notice The hot wallet allowed to `execute` changed.
    event AssetManagerSet(address indexed previousManager, address indexed newManager);
    /// @notice `execute` is stopped (by the owner or the asset manager).
    event Paused(address indexed by);
    /// @notice `execute` is allowed again (by the owner).
    event Unpaused(address indexed by);

    // ---------------------------------------------------------------- errors: roles and state

    /// @notice Only the asset manager may `execute`; `caller` is not it.
    error NotAssetManager(address caller);
    /// @notice Only the owner or the asset manager may `pause`; `caller` is neither.
    error NotOwnerOrAssetManager(address caller);
    /// @notice The vault is paused: the owner must `unpause` it.
    error VaultPaused();
    /// @notice `execute`, `executeDirect` or the custody's `withdraw` was re-entered.
    error ReentrantCall();
    // ---------------------------------------------------------------- errors: configuration input

    /// @notice An address argument is zero.
    error ZeroAddress();
    /// @notice A pool needs two different tokens; both are `token`.
    error SameToken(address token);
    /// @notice `router` must be set (`setRouter`) before its pools.
    error RouterNotSet(address router);
    /// @notice `fee` does not fit `router`'s `kind` (V2: fee 0 only; SwapRouter: fee > 0 only).
    error FeeNotValidForRouter(address router, RouterKind kind, uint24 fee);
    /// @notice A spend limit needs capacity < 2^128 and a refill period in 1..2^64-1 seconds.
    error BadSpendLimit(uint256 capacity, uint256 refillPeriod);

    // ---------------------------------------------------------------- errors: execute arguments

    /// @notice `count` calls, not within 1..`max`.
    error BadCallCount(uint256 count, uint256 max);
    /// @notice `count` declared assets (spend + receive), more than `max`.
    error TooManyAssets(uint256 count, uint256 max);
    /// @notice `asset` is not allowed (as a spend, receive or path token).
    error AssetNotAllowed(address asset);
    /// @notice `asset` is declared twice in the same list.
    error DuplicateAsset(address asset);
    /// @notice `asset` is declared both as spend and as receive.
    error AssetInBothLists(address asset);
    /// @notice The minimum receive of `asset` is 0: every received asset needs a positive minimum.
    error ZeroMinReceive(address asset);
    /// @notice `asset` would be spent with nothing bounding it: give it a spend limit, a price under the
    /// loss bound, or (knowingly) the unbounded opt-in.
    error AssetUnbounded(address asset);

    // ---------------------------------------------------------------- errors: one call (index into `calls`)

    /// @notice `target` is neither a whitelisted router nor an allowed asset.
    error TargetNotAllowed(address target);
    /// @notice `selector` is not one the vault accepts on `target`.
    error SelectorNotAllowed(address target, bytes4 selector);
    /// @notice Call `index`: the bytes are not the unique standard ABI encoding of the values they decode to.
    error NonCanonicalCalldata(uint256 index);
    /// @notice A swap pays `recipient`, not the custody.
    error BadRecipient(address recipient);
    /// @notice An approval to `spender`, which is not a whitelisted router.
    error SpenderNotAllowed(address spender);
    /// @notice Call `index` spends `asset`, which is not declared in `maxSpend`.
    error NotDeclaredAsSpend(uint256 index, address asset);
    /// @notice Call `index` ends in `asset`, which is not declared in `minReceive`.
    error NotDeclaredAsReceive(uint256 index, address asset);
    /// @notice Call `index` approves or swaps `amount` of `asset`, above its declared `max`.
    error AmountExceedsMaxSpend(uint256 index, address asset, uint256 amount, uint256 max);
    /// @notice Call `index` swaps an amount of 0.
    error ZeroAmountIn(uint256 index);
    /// @notice Call `index` has a minimum output of 0.
    error ZeroAmountOutMin(uint256 index);
    /// @notice Call `index` has a deadline, `deadline`, already passed.
    error DeadlinePassed(uint256 index, uint256 deadline);
    /// @notice Call `index` sets a V3 price limit (not allowed: it turns a swap partial).
    error PriceLimitNotAllowed(uint256 index);
    /// @notice Call `index`: wrong token count (2..4) or V3 packed length (20 + 23 * hops), or a token repeated.
    error InvalidPath(uint256 index);
    /// @notice The hop `tokenA` -> `tokenB` at `fee` is not an allowed pool of `router`.
    error PoolNotAllowed(address router, address tokenA, address tokenB, uint24 fee);
    /// @notice Call `index` failed; `reason` is its revert data, verbatim.
    error CallFailed(uint256 index, bytes reason);

    // ---------------------------------------------------------------- errors: after the calls

    /// @notice The balance of `asset` decreased by `spent`, more than its declared `max`.
    error SpendExceeded(address asset, uint256 spent, uint256 max);
    /// @notice The balance of `asset` increased by `received`, less than its declared `min`.
    error ReceiveTooLow(address asset, uint256 received, uint256 min);
    /// @notice Spending `spent` of `asset` exceeds the `available` rolling spend limit.
    error SpendLimitExceeded(address asset, uint256 spent, uint256 available);
    /// @notice An undeclared path token `asset` went from `before` to `after_` (it may not decrease).
    error UndeclaredAssetDecreased(address asset, uint256 before, uint256 after_);
    /// @notice The allowance of `asset` to `spender` could not be reset to zero.
    error AllowanceNotReset(address asset, address spender);

    // ---------------------------------------------------------------- trading

    /// @notice Run `calls` (approvals and swaps only, each validated) and enforce the asset deltas.
    /// @dev Asset manager only, not paused, non-reentrant. Every approval made is reset to zero before
    /// returning. Reverts with one of the errors above on any refusal.
    /// @param calls Approvals of declared spend assets to allowed routers, and swaps on allowed pools
    /// whose recipient is this vault.
    /// @param maxSpend Per asset, the most the vault's balance may decrease (raw units).
    /// @param minReceive Per asset, the least the vault's balance must increase (raw units, > 0).
    /// @return spent Balance decrease per `maxSpend` entry, same order.
    /// @return received Balance increase per `minReceive` entry, same order.
    function execute(Call[] calldata calls, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        external
        returns (uint256[] memory spent, uint256[] memory received);

    /// @notice Dry-run the argument and per-call checks of `execute` without making any call.
    /// @dev Reverts with the same error `execute` would raise before its first call; does not check
    /// the caller, the pause, balances or spend limits (see `availableSpend`).
    function checkExecute(Call[] calldata calls, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        external
        view;

    // ---------------------------------------------------------------- owner configuration

    /// @notice Allow or forbid `asset` in `execute` (as spend, receive or path token). Owner (config authority) only.
    function setAssetAllowed(address asset, bool allowed) external;

    /// @notice Whitelist `router` with its ABI `kind`; `RouterKind.None` removes it. Owner (config authority) only.
    /// @dev Changing the kind of a router that had one forgets all its pools (`RouterPoolsCleared`): they
    /// do not come back when the old kind is set again. Setting the current kind again changes nothing.
    function setRouter(address router, RouterKind kind) external;

    /// @notice Allow or forbid the pool of `router` between `tokenA` and `tokenB` with fee tier `fee`.
    /// @dev Order-independent in the tokens. `fee` is 0 for V2 pairs (also through SwapRouter02) and
    /// the V3 fee tier in hundredths of a bip otherwise: a V2 router takes fee 0 only, SwapRouter a
    /// non-zero fee only (`FeeNotValidForRouter`). The router must be set first (`RouterNotSet`); the
    /// entry belongs to the router's current kind and epoch, so changing the kind forgets it
    /// (`RouterPoolsCleared`). Owner (config authority) only.
    function setPoolAllowed(address router, address tokenA, address tokenB, uint24 fee, bool allowed) external;

    /// @notice Set the rolling spend limit of `asset`: at most `capacity` raw units, refilling linearly
    /// from 0 to `capacity` over `refillPeriod` seconds. `capacity` 0 removes the limit (unlimited).
    /// @dev A new limit starts full when the asset had none; otherwise the available amount carries over,
    /// capped at the new capacity, so lowering and raising again does not refill instantly. Owner (config authority) only.
    function setSpendLimit(address asset, uint256 capacity, uint256 refillPeriod) external;

    /// @notice Allow `asset` to be spent with nothing bounding it (no spend limit, no price under the loss
    /// bound). Without this an unbounded spend asset is refused (`AssetUnbounded`). Owner (config authority) only.
    /// @dev Risk: a leaked asset-manager key can sell all of such an asset at a price it manipulated.
    function setUnboundedSpendAllowed(address asset, bool allowed) external;

    /// @notice Replace the asset manager (zero address: nobody may execute). Owner (config authority) only.
    function setAssetManager(address manager) external;

    /// @notice Stop `execute` until the owner unpauses. Owner or asset manager. Idempotent: pausing a
    /// paused vault does nothing (no event, no revert), so an incident batch never fails on it.
    function pause() external;

    /// @notice Allow `execute` again. Owner (config authority) only. Idempotent like `pause`.
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The one address allowed to call `execute`.
    function assetManager() external view returns (address);

    /// @notice Whether `execute` is currently refused.
    function paused() external view returns (bool);

    /// @notice Whether the owner allowed `asset` to be spent unbounded (`setUnboundedSpendAllowed`).
    function isUnboundedSpendAllowed(address asset) external view returns (bool);

    /// @notice Whether `asset` may be spent, received or routed through.
    function isAssetAllowed(address asset) external view returns (bool);

    /// @notice The ABI kind `router` is whitelisted with (`None` if it is not).
    function routerKind(address router) external view returns (RouterKind);

    /// @notice Whether swaps through `router` may use the pool of `tokenA`/`tokenB` at `fee` (for the
    /// router's current kind; false when `router` is not set).
    function isPoolAllowed(address router, address tokenA, address tokenB, uint24 fee) external view returns (bool);

    /// @notice Raw units of `asset` that may be spent now under its rolling limit (max uint256 if unlimited).
    function availableSpend(address asset) external view returns (uint256);

    /// @notice The configured limit of `asset`: capacity (0 = unlimited) and refill period in seconds.
    function spendLimit(address asset) external view returns (uint256 capacity, uint256 refillPeriod);
}
