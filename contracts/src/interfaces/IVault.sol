// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Which swap ABI a whitelisted router speaks. `None` means "not a router".
enum RouterKind {
    None,
    UniswapV2, // UniswapV2Router02: swapExactTokensForTokens with deadline
    UniswapV3SwapRouter, // v3-periphery SwapRouter: exactInputSingle / exactInput with deadline
    UniswapV3SwapRouter02 // SwapRouter02: V3 exactInputSingle / exactInput and V2 swapExactTokensForTokens, no deadline
}

/// @notice One call the vault makes on behalf of the asset manager. No ETH value, ever.
struct Call {
    address target;
    bytes data;
}

/// @notice A raw-unit bound on one asset: a maximum spend or a minimum receive.
struct AssetBound {
    address asset;
    uint256 amount;
}

/// @title IVault
/// @notice A vault that holds the funds and lets one asset manager trade them through whitelisted
/// Uniswap routers and pools, with on-chain slippage bounds, rolling spend limits and no leftover
/// allowance. A leaked asset-manager key can at worst trade within those bounds; it can never move
/// assets out of the vault.
interface IVault {
    // ---------------------------------------------------------------- events

    /// @notice A successful `execute`: raw amounts spent and received per declared asset.
    event Executed(
        address indexed manager, address[] spendAssets, uint256[] spent, address[] receiveAssets, uint256[] received
    );
    event AssetAllowedSet(address indexed asset, bool allowed);
    event RouterSet(address indexed router, RouterKind kind);
    /// @dev token0 < token1 (sorted), fee 0 for Uniswap V2 pairs.
    event PoolAllowedSet(address indexed router, address indexed token0, address indexed token1, uint24 fee, bool allowed);
    event SpendLimitSet(address indexed asset, uint256 capacity, uint256 refillPeriod);
    event AssetManagerSet(address indexed previousManager, address indexed newManager);
    event Withdrawn(address indexed asset, address indexed to, uint256 amount);
    event Paused(address indexed by);
    event Unpaused(address indexed by);

    // ---------------------------------------------------------------- errors: roles and state

    error NotAssetManager(address caller);
    error NotOwnerOrAssetManager(address caller);
    error VaultPaused();
    error NotPaused();
    error ReentrantCall();
    error RenounceOwnershipDisabled();

    // ---------------------------------------------------------------- errors: configuration input

    error ZeroAddress();
    error SameToken(address token);
    error RouterNotSet(address router);
    error FeeNotValidForRouter(address router, RouterKind kind, uint24 fee);
    error BadSpendLimit(uint256 capacity, uint256 refillPeriod);

    // ---------------------------------------------------------------- errors: execute arguments

    error BadCallCount(uint256 count, uint256 max);
    error TooManyAssets(uint256 count, uint256 max);
    error AssetNotAllowed(address asset);
    error DuplicateAsset(address asset);
    error AssetInBothLists(address asset);
    error ZeroMinReceive(address asset);

    // ---------------------------------------------------------------- errors: one call (index into `calls`)

    error TargetNotAllowed(address target);
    error SelectorNotAllowed(address target, bytes4 selector);
    /// @dev The bytes are not the unique standard ABI encoding of the values they decode to.
    error NonCanonicalCalldata(uint256 index);
    error BadRecipient(address recipient);
    error SpenderNotAllowed(address spender);
    error NotDeclaredAsSpend(uint256 index, address asset);
    error NotDeclaredAsReceive(uint256 index, address asset);
    error AmountExceedsMaxSpend(uint256 index, address asset, uint256 amount, uint256 max);
    error ZeroAmountIn(uint256 index);
    error ZeroAmountOutMin(uint256 index);
    error DeadlinePassed(uint256 index, uint256 deadline);
    error PriceLimitNotAllowed(uint256 index);
    /// @dev Wrong token count (2..4) or V3 packed length (20 + 23 * hops), or a token repeated.
    error InvalidPath(uint256 index);
    error PoolNotAllowed(address router, address tokenA, address tokenB, uint24 fee);
    /// @dev `reason` is the inner call's revert data, verbatim.
    error CallFailed(uint256 index, bytes reason);

    // ---------------------------------------------------------------- errors: after the calls

    error SpendExceeded(address asset, uint256 spent, uint256 max);
    error ReceiveTooLow(address asset, uint256 received, uint256 min);
    error SpendLimitExceeded(address asset, uint256 spent, uint256 available);
    error UndeclaredAssetDecreased(address asset, uint256 before, uint256 after_);
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

    /// @notice Allow or forbid `asset` in `execute` (as spend, receive or path token). Owner only.
    function setAssetAllowed(address asset, bool allowed) external;

    /// @notice Whitelist `router` with its ABI `kind`; `RouterKind.None` removes it. Owner only.
    function setRouter(address router, RouterKind kind) external;

    /// @notice Allow or forbid the pool of `router` between `tokenA` and `tokenB` with fee tier `fee`.
    /// @dev Order-independent in the tokens. `fee` is 0 for V2 pairs (also through SwapRouter02) and
    /// the V3 fee tier in hundredths of a bip otherwise: a V2 router takes fee 0 only, SwapRouter a
    /// non-zero fee only (`FeeNotValidForRouter`). The router must be set first (`RouterNotSet`); the
    /// entry belongs to the router's current kind, so changing the kind forgets it. Owner only.
    function setPoolAllowed(address router, address tokenA, address tokenB, uint24 fee, bool allowed) external;

    /// @notice Set the rolling spend limit of `asset`: at most `capacity` raw units, refilling linearly
    /// from 0 to `capacity` over `refillPeriod` seconds. `capacity` 0 removes the limit (unlimited).
    /// @dev A new limit starts full when the asset had none; otherwise the available amount carries over,
    /// capped at the new capacity, so lowering and raising again does not refill instantly. Owner only.
    function setSpendLimit(address asset, uint256 capacity, uint256 refillPeriod) external;

    /// @notice Replace the asset manager (zero address: nobody may execute). Owner only.
    function setAssetManager(address manager) external;

    /// @notice Send `amount` raw units of `asset` to the owner; never anywhere else. Owner only.
    /// @dev `type(uint256).max` sends the whole balance (a dust trade front-running an exact amount
    /// cannot make it revert).
    function withdraw(address asset, uint256 amount) external;

    /// @notice Stop `execute` until the owner unpauses. Owner or asset manager.
    function pause() external;

    /// @notice Allow `execute` again. Owner only.
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The one address allowed to call `execute`.
    function assetManager() external view returns (address);

    /// @notice Whether `execute` is currently refused.
    function paused() external view returns (bool);

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
