// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice How an asset is priced. `None`: not priced.
enum PriceKind {
    None,
    Feed, // Chainlink-style AggregatorV3Interface, answer in the valuation unit (e.g. USD) per whole asset
    Twap // Uniswap V3 pool time-weighted mean tick, quoted in an asset that is itself priced by a Feed
}

/// @notice One asset's price source as configured by the owner.
/// @dev One storage slot for a Feed (`quote` is only read for a Twap).
struct PriceSource {
    PriceKind kind;
    address source; // the feed, or the V3 pool
    uint32 heartbeatOrWindow; // Feed: max age of `updatedAt` in seconds; Twap: averaging window in seconds
    uint8 feedDecimals; // Feed only
    uint8 assetDecimals; // Feed only: the asset's ERC-20 decimals
    bool assetIsToken0; // Twap only: the asset is the pool's token0
    address quote; // Twap only: the pool's other token, priced by a Feed
}

/// @title IOracleGuard
/// @notice The oracle-priced loss bound shared by every custody (the vault, later a Safe module): each
/// asset has a price source; every execute's loss (value spent - value received, at the oracle price) must
/// stay within a per-execute cap in basis points of the value spent and within a rolling loss budget.
/// @dev Values are in the valuation unit of the feeds (e.g. USD) with 18 decimals. Fails closed: a stale,
/// zero or negative price, or an unpriced asset, refuses the execute and names the asset.
interface IOracleGuard {
    // ---------------------------------------------------------------- events

    /// @notice `asset` is now priced by the Chainlink-style `feed`, whose answer may be at most
    /// `heartbeat` seconds old. `feedDecimals` and `assetDecimals` are read from the feed and the token.
    event PriceFeedSet(address indexed asset, address indexed feed, uint256 heartbeat, uint8 feedDecimals, uint8 assetDecimals);
    /// @notice `asset` is now priced by the mean tick of the V3 `pool` over `window` seconds, in `quote`.
    event PriceTwapSet(address indexed asset, address indexed pool, address indexed quote, uint256 window);
    /// @notice `asset` has no price source any more (a loss bound then refuses it).
    event PriceSourceRemoved(address indexed asset);
    /// @notice The L2 sequencer-uptime feed (zero: none, e.g. on mainnet) and the grace period after a restart.
    event SequencerFeedSet(address indexed feed, uint256 gracePeriod);
    /// @notice The loss bound: per-execute cap in basis points of the value spent, rolling budget
    /// `capacity` (valuation units, 18 decimals) refilling linearly over `refillPeriod` seconds.
    event LossBoundSet(uint256 capBps, uint256 capacity, uint256 refillPeriod);
    /// @notice The loss bound is off: no oracle is read and no loss is charged.
    event LossBoundDisabled();
    /// @notice A successful execute under the loss bound: its value spent and received (valuation units,
    /// spent rounded up, received rounded down), the loss charged and the budget left.
    event LossCharged(uint256 valueSpent, uint256 valueReceived, uint256 loss, uint256 budgetLeft);

    // ---------------------------------------------------------------- errors: configuration

    /// @notice A price source argument is invalid: zero address, heartbeat 0, decimals above 36, or a
    /// pool that does not hold `asset` and a Feed-priced quote.
    error BadPriceSource(address asset, address source);
    /// @notice A TWAP window shorter than `min` seconds (one block can move a short window).
    error TwapWindowTooShort(uint256 window, uint256 min);
    /// @notice `capBps` above 10000 (use `disableLossBound`), a zero refill period, or a capacity above 2^128.
    error BadLossBound(uint256 capBps, uint256 capacity, uint256 refillPeriod);

    // ---------------------------------------------------------------- errors: pricing (fail closed)

    /// @notice `asset` must be priced (the loss bound is on) and has no price source.
    error AssetNotPriced(address asset);
    /// @notice The feed's answer for `asset` was updated at `updatedAt`, more than `heartbeat` seconds ago
    /// (or in the future).
    error PriceStale(address asset, uint256 updatedAt, uint256 heartbeat);
    /// @notice The feed answered zero, a negative number, or one above 2^128 for `asset`.
    error PriceNotPositive(address asset, int256 answer);
    /// @notice The TWAP of `asset` is quoted in `quote`, which has no Feed price.
    error TwapQuoteNotFeedPriced(address asset, address quote);
    /// @notice The L2 sequencer-uptime feed says the sequencer is down.
    error SequencerDown();
    /// @notice The sequencer came back at `startedAt`; prices are refused for `gracePeriod` seconds after.
    error SequencerGracePeriod(uint256 startedAt, uint256 gracePeriod);

    // ---------------------------------------------------------------- errors: the bound

    /// @notice The execute lost `loss` valuation units, more than `maxLoss` (the cap in bps of `valueSpent`).
    error LossCapExceeded(uint256 loss, uint256 maxLoss, uint256 valueSpent);
    /// @notice The execute lost `loss` valuation units, more than the `available` rolling loss budget.
    error LossBudgetExceeded(uint256 loss, uint256 available);

    // ---------------------------------------------------------------- configuration (owner)

    /// @notice Price `asset` with a Chainlink-style feed (`latestRoundData`), refusing answers older than
    /// `heartbeat` seconds. Decimals of the feed and of the token are read now and normalised.
    function setPriceFeed(address asset, address feed, uint256 heartbeat) external;

    /// @notice Price `asset` with the time-weighted mean tick of Uniswap V3 `pool` over `window` seconds
    /// (at least `MIN_TWAP_WINDOW`), in the pool's other token, which must be priced by a feed.
    function setPriceTwap(address asset, address pool, uint256 window) external;

    /// @notice Remove `asset`'s price source.
    function removePriceSource(address asset) external;

    /// @notice Set (or clear with zero) the L2 sequencer-uptime feed and its grace period in seconds.
    function setSequencerFeed(address feed, uint256 gracePeriod) external;

    /// @notice Turn the loss bound on (or change it): per-execute cap `capBps` (0..10000) of the value
    /// spent, rolling budget `capacity` (valuation units, 18 decimals) refilling over `refillPeriod` seconds.
    /// @dev Lowering the capacity keeps the consumption (available is capped, not refilled).
    function setLossBound(uint256 capBps, uint256 capacity, uint256 refillPeriod) external;

    /// @notice Turn the loss bound off (assets then need a spend limit or an unbounded opt-in to be spent).
    function disableLossBound() external;

    // ---------------------------------------------------------------- views

    /// @notice The loss bound: whether it is on, cap in bps, budget capacity and refill period.
    function lossBound() external view returns (bool active, uint256 capBps, uint256 capacity, uint256 refillPeriod);

    /// @notice The rolling loss budget available now (valuation units; 0 when the bound is off).
    function availableLossBudget() external view returns (uint256);

    /// @notice The configured price source of `asset`.
    function priceSource(address asset) external view returns (PriceSource memory);

    /// @notice The loss an execute spending `spent` and receiving `received` would be charged now, and the
    /// most it may lose: min(cap of the value spent, available budget). Reverts on a bad or missing price.
    function quoteLoss(
        address[] calldata spendAssets,
        uint256[] calldata spent,
        address[] calldata receiveAssets,
        uint256[] calldata received
    ) external view returns (uint256 valueSpent, uint256 valueReceived, uint256 loss, uint256 maxLoss);
}
