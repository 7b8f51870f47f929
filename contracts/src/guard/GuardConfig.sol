// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITradeGuard, RouterKind} from "../interfaces/ITradeGuard.sol";
import {OracleGuard} from "./OracleGuard.sol";
import {DirectSwap} from "./DirectSwap.sol";
import {IDirectSwap, DirectProtocol} from "../interfaces/IDirectSwap.sol";
import {RollingBucket} from "../libraries/RollingBucket.sol";

/// @title GuardConfig
/// @notice The trade guard's configuration and its views, custody-independent: the asset manager and the
/// pause, allowed assets, routers and their pools, direct pools, rolling spend limits, unbounded opt-ins.
/// @dev Configuration is authorised by the custody (`_checkConfigAuth`, from `OracleGuard`); `pause` also
/// by whoever `_isGuardAdmin` accepts. The trade itself is in `TradeGuard`.
abstract contract GuardConfig is ITradeGuard, OracleGuard, DirectSwap {
    /// @dev One slot per address, whether a router (`kind`, `epoch` of its pool whitelist) or an asset
    /// (`allowed`, spend limit with capacity 0 = none, `unbounded` opt-in): a call's target is dispatched
    /// with a single storage read.
    struct TargetConfig {
        RouterKind kind;
        bool allowed;
        uint64 refillPeriod;
        uint128 capacity;
        bool unbounded;
        uint32 epoch;
    }

    /// @dev Rolling-limit state: `available` as of `lastUpdate` (seconds).
    struct SpendState {
        uint128 available;
        uint64 lastUpdate;
    }

    /// @dev The slot every trade reads first: who may trade, the pause, whether the loss bound is on.
    struct Control {
        address assetManager;
        bool paused;
        bool lossBound;
    }

    Control internal _control;

    mapping(address target => TargetConfig) internal _targets;
    mapping(address asset => SpendState) internal _spend;
    mapping(bytes32 poolKey => bool) internal _pools;

    /// @param assetManager_ Hot wallet that may `execute` and `pause`; zero for none yet.
    constructor(address assetManager_) {
        _control.assetManager = assetManager_;
        emit AssetManagerSet(address(0), assetManager_);
    }

    /// @dev Whether `account` may pause besides the asset manager (the custody's owner).
    function _isGuardAdmin(address account) internal view virtual returns (bool);

    // ================================================================ configuration

    /// @inheritdoc ITradeGuard
    function setAssetAllowed(address asset, bool allowed) external override {
        _checkConfigAuth();
        if (asset == address(0)) revert ZeroAddress();
        _targets[asset].allowed = allowed;
        emit AssetAllowedSet(asset, allowed);
    }

    /// @inheritdoc ITradeGuard
    function setRouter(address router, RouterKind kind) external override {
        _checkConfigAuth();
        if (router == address(0)) revert ZeroAddress();
        TargetConfig storage config = _targets[router];
        RouterKind previous = config.kind;
        if (previous == kind) return; // unchanged: its pools stay as they are
        if (previous != RouterKind.None) {
            // A new epoch: every pool allowed so far for this router is gone, also if this kind comes back.
            uint32 epoch = config.epoch + 1;
            config.epoch = epoch;
            emit RouterPoolsCleared(router, previous, epoch);
        }
        config.kind = kind;
        emit RouterSet(router, kind);
    }

    /// @inheritdoc ITradeGuard
    function setPoolAllowed(address router, address tokenA, address tokenB, uint24 fee, bool allowed)
        external
        override
    {
        _checkConfigAuth();
        if (router == address(0) || tokenA == address(0) || tokenB == address(0)) revert ZeroAddress();
        if (tokenA == tokenB) revert SameToken(tokenA);
        RouterKind kind = _targets[router].kind;
        if (kind == RouterKind.None) revert RouterNotSet(router);
        // V2 Router02 has V2 pairs only (fee 0), SwapRouter V3 pools only (fee > 0); SwapRouter02 has both.
        if ((kind == RouterKind.UniswapV2 && fee != 0) || (kind == RouterKind.UniswapV3SwapRouter && fee == 0)) {
            revert FeeNotValidForRouter(router, kind, fee);
        }
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        _pools[_poolKey(router, kind, _targets[router].epoch, token0, token1, fee)] = allowed;
        emit PoolAllowedSet(router, token0, token1, fee, allowed);
    }

    /// @inheritdoc IDirectSwap
    function setDirectPoolAllowed(
        address factory,
        DirectProtocol protocol,
        address tokenA,
        address tokenB,
        uint24 fee,
        bool allowed
    ) external override {
        _checkConfigAuth();
        if (factory == address(0) || tokenA == address(0) || tokenB == address(0)) revert ZeroAddress();
        if (tokenA == tokenB) revert SameToken(tokenA);
        _setDirectPoolAllowed(factory, protocol, tokenA, tokenB, fee, allowed);
    }

    /// @inheritdoc ITradeGuard
    function setSpendLimit(address asset, uint256 capacity, uint256 refillPeriod) external override {
        _checkConfigAuth();
        if (asset == address(0)) revert ZeroAddress();
        TargetConfig memory config = _targets[asset];
        if (capacity == 0) {
            config.capacity = 0;
            config.refillPeriod = 0;
            delete _spend[asset];
        } else {
            if (capacity > type(uint128).max || refillPeriod == 0 || refillPeriod > type(uint64).max) {
                revert BadSpendLimit(capacity, refillPeriod);
            }
            uint256 available = config.capacity == 0 ? capacity : _min(_available(config, _spend[asset]), capacity);
            config.capacity = uint128(capacity);
            config.refillPeriod = uint64(refillPeriod);
            _spend[asset] = SpendState(uint128(available), uint64(block.timestamp));
        }
        _targets[asset] = config;
        emit SpendLimitSet(asset, capacity, config.refillPeriod);
    }

    /// @inheritdoc ITradeGuard
    function setUnboundedSpendAllowed(address asset, bool allowed) external override {
        _checkConfigAuth();
        if (asset == address(0)) revert ZeroAddress();
        _targets[asset].unbounded = allowed;
        emit UnboundedSpendAllowedSet(asset, allowed);
    }

    /// @inheritdoc ITradeGuard
    function setAssetManager(address manager) external override {
        _checkConfigAuth();
        emit AssetManagerSet(_control.assetManager, manager);
        _control.assetManager = manager;
    }

    /// @inheritdoc ITradeGuard
    function pause() external override {
        if (msg.sender != _control.assetManager && !_isGuardAdmin(msg.sender)) {
            revert NotOwnerOrAssetManager(msg.sender);
        }
        if (_control.paused) return;
        _control.paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc ITradeGuard
    function unpause() external override {
        _checkConfigAuth();
        if (!_control.paused) return;
        _control.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @dev Kept in the control slot (see `OracleGuard._setLossBoundFlag`).
    function _setLossBoundFlag(bool active) internal override {
        _control.lossBound = active;
    }

    // ================================================================ views

    /// @inheritdoc ITradeGuard
    function assetManager() external view override returns (address) {
        return _control.assetManager;
    }

    /// @inheritdoc ITradeGuard
    function paused() external view override returns (bool) {
        return _control.paused;
    }

    /// @inheritdoc ITradeGuard
    function isUnboundedSpendAllowed(address asset) external view override returns (bool) {
        return _targets[asset].unbounded;
    }

    /// @inheritdoc ITradeGuard
    function isAssetAllowed(address asset) external view override returns (bool) {
        return _targets[asset].allowed;
    }

    /// @inheritdoc ITradeGuard
    function routerKind(address router) external view override returns (RouterKind) {
        return _targets[router].kind;
    }

    /// @inheritdoc ITradeGuard
    function isPoolAllowed(address router, address tokenA, address tokenB, uint24 fee)
        external
        view
        override
        returns (bool)
    {
        TargetConfig memory config = _targets[router];
        if (config.kind == RouterKind.None) return false;
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        return _pools[_poolKey(router, config.kind, config.epoch, token0, token1, fee)];
    }

    /// @inheritdoc ITradeGuard
    function availableSpend(address asset) external view override returns (uint256) {
        TargetConfig memory config = _targets[asset];
        return config.capacity == 0 ? type(uint256).max : _available(config, _spend[asset]);
    }

    /// @inheritdoc ITradeGuard
    function spendLimit(address asset) external view override returns (uint256 capacity, uint256 refillPeriod) {
        TargetConfig memory config = _targets[asset];
        return (config.capacity, config.refillPeriod);
    }

    // ================================================================ helpers

    /// @dev Linear refill since the last update, rounded down (toward less spendable), capped at capacity.
    function _available(TargetConfig memory config, SpendState memory state) internal view returns (uint256) {
        return RollingBucket.available(
            state.available, state.lastUpdate, config.capacity, config.refillPeriod, block.timestamp
        );
    }

    /// @dev The router's kind and epoch are part of the key: any change of kind (evented, see `setRouter`)
    /// starts a new epoch, so no pool allowed before comes back silently, not even with the same kind.
    function _poolKey(address router, RouterKind kind, uint32 epoch, address token0, address token1, uint24 fee)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(router, kind, epoch, token0, token1, fee));
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
