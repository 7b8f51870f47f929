// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IOracleGuard, PriceKind, PriceSource} from "../interfaces/IOracleGuard.sol";
import {IUniswapV3PoolOracle} from "../interfaces/IUniswapV3PoolOracle.sol";
import {RollingBucket} from "../libraries/RollingBucket.sol";
import {TickPrice} from "../libraries/TickPrice.sol";

/// @title OracleGuard
/// @notice Custody-independent core of the oracle-priced loss bound: price sources, the per-execute loss
/// cap and the rolling loss budget. A custody inherits it, authorises configuration (`_checkConfigAuth`) and
/// calls `_chargeLoss` with the measured deltas of each execute.
/// @dev The price of a trade's own pool is only ever read through a TWAP (never a spot price), so a
/// same-block manipulation moves no price the guard uses by more than the window allows.
abstract contract OracleGuard is IOracleGuard {
    /// @notice Shortest TWAP window accepted (seconds).
    uint256 public constant MIN_TWAP_WINDOW = 300;
    uint256 internal constant BPS = 10_000;
    uint256 private constant MAX_DECIMALS = 36;

    /// @dev One slot. `active` false: no bound, no oracle read. `sequencerCheck`: a sequencer-uptime feed is
    /// set (its own slot is read only then: on L1 the check costs nothing).
    struct LossBoundConfig {
        bool active;
        uint16 capBps;
        uint64 refillPeriod;
        uint128 capacity;
        bool sequencerCheck;
    }

    /// @dev Rolling budget state: `available` as of `lastUpdate`.
    struct Budget {
        uint128 available;
        uint64 lastUpdate;
    }

    mapping(address asset => PriceSource) private _priceSources;
    LossBoundConfig private _lossBound;
    Budget private _budget;
    address private _sequencerFeed;
    uint32 private _sequencerGrace;

    /// @dev Revert unless the caller may configure (the custody's owner).
    function _checkConfigAuth() internal view virtual;

    /// @dev Record whether the loss bound is on where a trade reads it anyway (the guard's control slot), so
    /// that a trade with the bound off reads nothing of this contract.
    function _setLossBoundFlag(bool active) internal virtual;

    // ================================================================ configuration

    /// @inheritdoc IOracleGuard
    function setPriceFeed(address asset, address feed, uint256 heartbeat) external override {
        _checkConfigAuth();
        if (asset == address(0) || feed == address(0) || heartbeat == 0 || heartbeat > type(uint32).max) {
            revert BadPriceSource(asset, feed);
        }
        uint8 feedDecimals = AggregatorV3Interface(feed).decimals();
        uint8 assetDecimals = IERC20Metadata(asset).decimals();
        if (feedDecimals > MAX_DECIMALS || assetDecimals > MAX_DECIMALS) revert BadPriceSource(asset, feed);
        _priceSources[asset] =
            PriceSource(PriceKind.Feed, feed, uint32(heartbeat), feedDecimals, assetDecimals, false, address(0));
        emit PriceFeedSet(asset, feed, heartbeat, feedDecimals, assetDecimals);
    }

    /// @inheritdoc IOracleGuard
    function setPriceTwap(address asset, address pool, uint256 window) external override {
        _checkConfigAuth();
        if (asset == address(0) || pool == address(0)) revert BadPriceSource(asset, pool);
        if (window < MIN_TWAP_WINDOW || window > type(uint32).max) revert TwapWindowTooShort(window, MIN_TWAP_WINDOW);
        (address token0, address token1) = (IUniswapV3PoolOracle(pool).token0(), IUniswapV3PoolOracle(pool).token1());
        bool isToken0 = token0 == asset;
        if (!isToken0 && token1 != asset) revert BadPriceSource(asset, pool);
        address quote = isToken0 ? token1 : token0;
        if (_priceSources[quote].kind != PriceKind.Feed) revert TwapQuoteNotFeedPriced(asset, quote);
        _priceSources[asset] = PriceSource(PriceKind.Twap, pool, uint32(window), 0, 0, isToken0, quote);
        emit PriceTwapSet(asset, pool, quote, window);
    }

    /// @inheritdoc IOracleGuard
    function removePriceSource(address asset) external override {
        _checkConfigAuth();
        delete _priceSources[asset];
        emit PriceSourceRemoved(asset);
    }

    /// @inheritdoc IOracleGuard
    function setSequencerFeed(address feed, uint256 gracePeriod) external override {
        _checkConfigAuth();
        if (gracePeriod > type(uint32).max) revert BadPriceSource(address(0), feed);
        (_sequencerFeed, _sequencerGrace) = (feed, uint32(gracePeriod));
        _lossBound.sequencerCheck = feed != address(0);
        emit SequencerFeedSet(feed, gracePeriod);
    }

    /// @inheritdoc IOracleGuard
    function setLossBound(uint256 capBps, uint256 capacity, uint256 refillPeriod) external override {
        _checkConfigAuth();
        if (capBps > BPS || capacity > type(uint128).max || refillPeriod == 0 || refillPeriod > type(uint64).max) {
            revert BadLossBound(capBps, capacity, refillPeriod);
        }
        LossBoundConfig memory old = _lossBound;
        // A new bound starts full; a changed one keeps its consumption (capped at the new capacity).
        uint256 available = old.active ? Math.min(_availableBudget(old), capacity) : capacity;
        _lossBound = LossBoundConfig(true, uint16(capBps), uint64(refillPeriod), uint128(capacity), old.sequencerCheck);
        _budget = Budget(uint128(available), uint64(block.timestamp));
        _setLossBoundFlag(true);
        emit LossBoundSet(capBps, capacity, refillPeriod);
    }

    /// @inheritdoc IOracleGuard
    function disableLossBound() external override {
        _checkConfigAuth();
        _lossBound = LossBoundConfig(false, 0, 0, 0, _lossBound.sequencerCheck);
        delete _budget;
        _setLossBoundFlag(false);
        emit LossBoundDisabled();
    }

    // ================================================================ views

    /// @inheritdoc IOracleGuard
    function lossBound() external view override returns (bool, uint256, uint256, uint256) {
        LossBoundConfig memory b = _lossBound;
        return (b.active, b.capBps, b.capacity, b.refillPeriod);
    }

    /// @inheritdoc IOracleGuard
    function availableLossBudget() external view override returns (uint256) {
        LossBoundConfig memory b = _lossBound;
        return b.active ? _availableBudget(b) : 0;
    }

    /// @inheritdoc IOracleGuard
    function priceSource(address asset) external view override returns (PriceSource memory) {
        return _priceSources[asset];
    }

    /// @inheritdoc IOracleGuard
    function quoteLoss(
        address[] calldata spendAssets,
        uint256[] calldata spent,
        address[] calldata receiveAssets,
        uint256[] calldata received
    ) external view override returns (uint256 valueSpent, uint256 valueReceived, uint256 loss, uint256 maxLoss) {
        LossBoundConfig memory b = _lossBound;
        (valueSpent, valueReceived, loss) = _measureLoss(b, spendAssets, spent, receiveAssets, received);
        maxLoss = b.active ? Math.min(valueSpent * b.capBps / BPS, _availableBudget(b)) : type(uint256).max;
    }

    // ================================================================ for the custody

    /// @dev Whether `asset` has a price source: under an active loss bound it is then bounded by value.
    function _isPriced(address asset) internal view returns (bool) {
        return _priceSources[asset].kind != PriceKind.None;
    }

    /// @dev Under an active bound: value the deltas, refuse a loss over the cap or the budget, consume the
    /// budget. The custody calls it only when its loss-bound flag is set (`_setLossBoundFlag`); a no-op if
    /// the bound is off all the same.
    function _chargeLoss(
        address[] memory spendAssets,
        uint256[] memory spent,
        address[] memory receiveAssets,
        uint256[] memory received
    ) internal {
        LossBoundConfig memory b = _lossBound;
        if (!b.active) return;
        (uint256 valueSpent, uint256 valueReceived, uint256 loss) =
            _measureLoss(b, spendAssets, spent, receiveAssets, received);
        uint256 maxLoss = valueSpent * b.capBps / BPS; // rounded down: toward refusing
        if (loss > maxLoss) revert LossCapExceeded(loss, maxLoss, valueSpent);
        uint256 available = _availableBudget(b);
        if (loss > available) revert LossBudgetExceeded(loss, available);
        if (loss != 0) {
            available -= loss;
            _budget = Budget(uint128(available), uint64(block.timestamp));
        }
        emit LossCharged(valueSpent, valueReceived, loss, available);
    }

    // ================================================================ pricing

    /// @dev Value spent rounded up, received rounded down: the loss is never understated. Every asset
    /// listed must be priced, amount 0 or not (fail closed on a misconfigured asset).
    function _measureLoss(
        LossBoundConfig memory b,
        address[] memory spendAssets,
        uint256[] memory spent,
        address[] memory receiveAssets,
        uint256[] memory received
    ) private view returns (uint256 valueSpent, uint256 valueReceived, uint256 loss) {
        if (b.sequencerCheck) _checkSequencer();
        for (uint256 t; t < spendAssets.length; ++t) {
            valueSpent += _value(spendAssets[t], spent[t], true);
        }
        for (uint256 t; t < receiveAssets.length; ++t) {
            valueReceived += _value(receiveAssets[t], received[t], false);
        }
        loss = valueSpent > valueReceived ? valueSpent - valueReceived : 0;
    }

    /// @dev `amount` of `asset` in valuation units (18 decimals). Read through a storage pointer: a Feed
    /// costs one slot (the TWAP's `quote` slot is read only for a TWAP).
    function _value(address asset, uint256 amount, bool roundUp) private view returns (uint256) {
        PriceSource storage p = _priceSources[asset];
        PriceKind kind = p.kind;
        if (kind == PriceKind.Feed) return _feedValue(asset, p, amount, roundUp);
        if (kind == PriceKind.Twap) {
            address quote = p.quote;
            PriceSource storage q = _priceSources[quote];
            if (q.kind != PriceKind.Feed) revert TwapQuoteNotFeedPriced(asset, quote);
            int256 tick = _meanTick(p.source, p.heartbeatOrWindow);
            // price(token0 in token1) = 1.0001^tick: the asset as token1 converts at the inverse.
            uint256 quoteAmount = TickPrice.convert(amount, p.assetIsToken0 ? tick : -tick, roundUp);
            return _feedValue(quote, q, quoteAmount, roundUp);
        }
        revert AssetNotPriced(asset);
    }

    /// @dev amount * answer * 1e18 / 10^(feedDecimals + assetDecimals), after the freshness checks.
    function _feedValue(address asset, PriceSource storage p, uint256 amount, bool roundUp)
        private
        view
        returns (uint256)
    {
        (, int256 answer,, uint256 updatedAt,) = AggregatorV3Interface(p.source).latestRoundData();
        if (answer <= 0 || answer > int256(uint256(type(uint128).max))) revert PriceNotPositive(asset, answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > p.heartbeatOrWindow) {
            revert PriceStale(asset, updatedAt, p.heartbeatOrWindow);
        }
        return Math.mulDiv(
            amount,
            uint256(answer) * 1e18,
            10 ** (uint256(p.feedDecimals) + p.assetDecimals),
            roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor
        );
    }

    /// @dev Arithmetic mean tick of `pool` over the last `window` seconds, rounded toward negative infinity.
    function _meanTick(address pool, uint32 window) private view returns (int256 tick) {
        uint32[] memory ago = new uint32[](2);
        ago[0] = window;
        (int56[] memory cumulatives,) = IUniswapV3PoolOracle(pool).observe(ago);
        int256 delta = int256(cumulatives[1]) - int256(cumulatives[0]);
        tick = delta / int256(uint256(window));
        if (delta < 0 && delta % int256(uint256(window)) != 0) --tick;
    }

    /// @dev On an L2 with a sequencer-uptime feed: refuse while down and during the grace period after.
    function _checkSequencer() private view {
        address feed = _sequencerFeed;
        (, int256 answer, uint256 startedAt,,) = AggregatorV3Interface(feed).latestRoundData();
        if (answer != 0) revert SequencerDown();
        uint256 grace = _sequencerGrace;
        if (startedAt == 0 || block.timestamp - startedAt <= grace) revert SequencerGracePeriod(startedAt, grace);
    }

    /// @dev The budget available now under config `b` (active).
    function _availableBudget(LossBoundConfig memory b) private view returns (uint256) {
        Budget memory s = _budget;
        return RollingBucket.available(s.available, s.lastUpdate, b.capacity, b.refillPeriod, block.timestamp);
    }
}
