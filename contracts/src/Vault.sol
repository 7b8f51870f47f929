// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IVault, RouterKind, Call, AssetBound} from "./interfaces/IVault.sol";
import {IUniswapV2Router, IUniswapV3SwapRouter, IUniswapSwapRouter02} from "./interfaces/IUniswapRouters.sol";
import {CanonicalCalldata, Swap} from "./libraries/CanonicalCalldata.sol";

/// @title Vault
/// @notice Holds the funds; its one asset manager may only swap them through whitelisted routers and
/// pools, back into the vault, within declared per-asset bounds and rolling spend limits.
/// @dev No upgradeability, no receive/fallback, no delegatecall, no ETH value in any call.
contract Vault is IVault, Ownable2Step {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_CALLS = 8;
    /// @notice Bound on maxSpend.length + minReceive.length.
    uint256 public constant MAX_ASSETS = 8;
    /// @dev Declared assets plus at most two intermediate tokens per swap (4-token paths).
    uint256 private constant MAX_TRACKED = MAX_ASSETS + 2 * MAX_CALLS;

    /// @dev One slot per asset. capacity 0 = no spend limit.
    struct AssetConfig {
        bool allowed;
        uint64 refillPeriod;
        uint128 capacity;
    }

    /// @dev Rolling-limit state: `available` as of `lastUpdate` (seconds).
    struct SpendState {
        uint128 available;
        uint64 lastUpdate;
    }

    /// @dev What `_plan` found: tokens to snapshot (declared spend, declared receive, then intermediates),
    /// approvals to reset, and which calls are approvals (bit i set).
    struct Plan {
        address[] tracked;
        uint256 trackedCount;
        address[] approvedTokens;
        address[] approvedSpenders;
        uint256 approvalCount;
        uint256 approveCallMask;
    }

    address public override assetManager;
    bool public override paused;

    mapping(address asset => AssetConfig) private _assets;
    mapping(address asset => SpendState) private _spend;
    mapping(address router => RouterKind) private _routers;
    mapping(bytes32 poolKey => bool) private _pools;

    bool private transient _entered;

    modifier nonReentrant() {
        if (_entered) revert ReentrantCall();
        _entered = true;
        _;
        _entered = false;
    }

    /// @param owner_ Configures, unpauses and receives withdrawals (two-step transferable).
    /// @param assetManager_ Hot wallet that may `execute` and `pause`; zero for none yet.
    constructor(address owner_, address assetManager_) Ownable(owner_) {
        assetManager = assetManager_;
        emit AssetManagerSet(address(0), assetManager_);
    }

    // ================================================================ trading

    /// @inheritdoc IVault
    function execute(Call[] calldata calls, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        external
        override
        nonReentrant
        returns (uint256[] memory spent, uint256[] memory received)
    {
        if (msg.sender != assetManager) revert NotAssetManager(msg.sender);
        if (paused) revert VaultPaused();

        Plan memory plan = _plan(calls, maxSpend, minReceive);
        uint256[] memory before = new uint256[](plan.trackedCount);
        for (uint256 t; t < plan.trackedCount; ++t) {
            before[t] = IERC20(plan.tracked[t]).balanceOf(address(this));
        }

        for (uint256 i; i < calls.length; ++i) {
            // Target and data were validated by _plan; value is always 0.
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].data);
            if (!ok) revert CallFailed(i, ret);
            if (plan.approveCallMask & (1 << i) != 0 && !_returnedTrueOrNothing(ret)) revert CallFailed(i, ret);
        }

        _resetApprovals(plan);
        (spent, received) = _settle(plan, before, maxSpend, minReceive);
    }

    /// @inheritdoc IVault
    function checkExecute(Call[] calldata calls, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        external
        view
        override
    {
        _plan(calls, maxSpend, minReceive);
    }

    // ================================================================ owner configuration

    /// @inheritdoc IVault
    function setAssetAllowed(address asset, bool allowed) external override onlyOwner {
        if (asset == address(0)) revert ZeroAddress();
        _assets[asset].allowed = allowed;
        emit AssetAllowedSet(asset, allowed);
    }

    /// @inheritdoc IVault
    function setRouter(address router, RouterKind kind) external override onlyOwner {
        if (router == address(0)) revert ZeroAddress();
        _routers[router] = kind;
        emit RouterSet(router, kind);
    }

    /// @inheritdoc IVault
    function setPoolAllowed(address router, address tokenA, address tokenB, uint24 fee, bool allowed)
        external
        override
        onlyOwner
    {
        if (router == address(0) || tokenA == address(0) || tokenB == address(0)) revert ZeroAddress();
        if (tokenA == tokenB) revert SameToken(tokenA);
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        _pools[_poolKey(router, token0, token1, fee)] = allowed;
        emit PoolAllowedSet(router, token0, token1, fee, allowed);
    }

    /// @inheritdoc IVault
    function setSpendLimit(address asset, uint256 capacity, uint256 refillPeriod) external override onlyOwner {
        if (asset == address(0)) revert ZeroAddress();
        AssetConfig memory config = _assets[asset];
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
        _assets[asset] = config;
        emit SpendLimitSet(asset, capacity, config.refillPeriod);
    }

    /// @inheritdoc IVault
    function setAssetManager(address manager) external override onlyOwner {
        emit AssetManagerSet(assetManager, manager);
        assetManager = manager;
    }

    /// @inheritdoc IVault
    function withdraw(address asset, uint256 amount) external override onlyOwner nonReentrant {
        address to = owner();
        emit Withdrawn(asset, to, amount);
        IERC20(asset).safeTransfer(to, amount);
    }

    /// @inheritdoc IVault
    function pause() external override {
        if (msg.sender != owner() && msg.sender != assetManager) revert NotOwnerOrAssetManager(msg.sender);
        paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IVault
    function unpause() external override onlyOwner {
        if (!paused) revert NotPaused();
        paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Disabled: a vault without an owner could never be withdrawn from.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceOwnershipDisabled();
    }

    // ================================================================ views

    /// @inheritdoc IVault
    function isAssetAllowed(address asset) external view override returns (bool) {
        return _assets[asset].allowed;
    }

    /// @inheritdoc IVault
    function routerKind(address router) external view override returns (RouterKind) {
        return _routers[router];
    }

    /// @inheritdoc IVault
    function isPoolAllowed(address router, address tokenA, address tokenB, uint24 fee)
        external
        view
        override
        returns (bool)
    {
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        return _pools[_poolKey(router, token0, token1, fee)];
    }

    /// @inheritdoc IVault
    function availableSpend(address asset) external view override returns (uint256) {
        AssetConfig memory config = _assets[asset];
        return config.capacity == 0 ? type(uint256).max : _available(config, _spend[asset]);
    }

    /// @inheritdoc IVault
    function spendLimit(address asset) external view override returns (uint256 capacity, uint256 refillPeriod) {
        AssetConfig memory config = _assets[asset];
        return (config.capacity, config.refillPeriod);
    }

    // ================================================================ checks before the calls

    /// @dev Every check that needs no call: the declared assets, then each call against the whitelist.
    function _plan(Call[] calldata calls, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        private
        view
        returns (Plan memory plan)
    {
        if (calls.length == 0 || calls.length > MAX_CALLS) revert BadCallCount(calls.length, MAX_CALLS);
        uint256 declared = maxSpend.length + minReceive.length;
        if (declared > MAX_ASSETS) revert TooManyAssets(declared, MAX_ASSETS);

        plan.tracked = new address[](MAX_TRACKED);
        for (uint256 k; k < maxSpend.length; ++k) {
            _declare(plan, maxSpend[k].asset);
        }
        for (uint256 k; k < minReceive.length; ++k) {
            address asset = minReceive[k].asset;
            if (_indexOf(maxSpend, asset) != type(uint256).max) revert AssetInBothLists(asset);
            if (minReceive[k].amount == 0) revert ZeroMinReceive(asset);
            _declare(plan, asset);
        }

        plan.approvedTokens = new address[](calls.length);
        plan.approvedSpenders = new address[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            _checkCall(plan, i, calls[i], maxSpend, minReceive);
        }
    }

    /// @dev Dispatch on the target: a whitelisted router (swap) or an allowed asset (approve), nothing else.
    function _checkCall(
        Plan memory plan,
        uint256 i,
        Call calldata call,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive
    ) private view {
        address target = call.target;
        bytes calldata data = call.data;
        if (data.length < 4) revert NonCanonicalCalldata(i);
        bytes4 selector = bytes4(data[:4]);
        RouterKind kind = _routers[target];
        if (kind != RouterKind.None) {
            _checkSwap(plan, i, target, _decodeSwap(i, target, kind, selector, data), maxSpend, minReceive);
        } else if (_assets[target].allowed) {
            if (selector != IERC20.approve.selector) revert SelectorNotAllowed(target, selector);
            _checkApprove(plan, i, target, data, maxSpend);
        } else {
            revert TargetNotAllowed(target);
        }
    }

    function _declare(Plan memory plan, address asset) private view {
        if (!_assets[asset].allowed) revert AssetNotAllowed(asset);
        if (_contains(plan, asset)) revert DuplicateAsset(asset);
        plan.tracked[plan.trackedCount++] = asset;
    }

    function _checkApprove(Plan memory plan, uint256 i, address token, bytes calldata data, AssetBound[] calldata maxSpend)
        private
        view
    {
        (address spender, uint256 amount) = CanonicalCalldata.decodeApprove(i, data);
        uint256 k = _indexOf(maxSpend, token);
        if (k == type(uint256).max) revert NotDeclaredAsSpend(i, token);
        if (_routers[spender] == RouterKind.None) revert SpenderNotAllowed(spender);
        if (amount > maxSpend[k].amount) revert AmountExceedsMaxSpend(i, token, amount, maxSpend[k].amount);

        plan.approveCallMask |= 1 << i;
        for (uint256 a; a < plan.approvalCount; ++a) {
            if (plan.approvedTokens[a] == token && plan.approvedSpenders[a] == spender) return;
        }
        plan.approvedTokens[plan.approvalCount] = token;
        plan.approvedSpenders[plan.approvalCount++] = spender;
    }

    /// @dev Decode a router call with the strict decoder of its (router kind, selector); refuse any other.
    function _decodeSwap(uint256 i, address router, RouterKind kind, bytes4 selector, bytes calldata data)
        private
        pure
        returns (Swap memory s)
    {
        if (kind == RouterKind.UniswapV2) {
            if (selector != IUniswapV2Router.swapExactTokensForTokens.selector) revert SelectorNotAllowed(router, selector);
            return CanonicalCalldata.decodeV2(i, data, true);
        }
        bool v1 = kind == RouterKind.UniswapV3SwapRouter;
        if (selector == (v1 ? IUniswapV3SwapRouter.exactInputSingle.selector : IUniswapSwapRouter02.exactInputSingle.selector)) {
            uint256 priceLimit;
            (s, priceLimit) = CanonicalCalldata.decodeV3Single(i, data, v1);
            if (priceLimit != 0) revert PriceLimitNotAllowed(i);
            return s;
        }
        if (selector == (v1 ? IUniswapV3SwapRouter.exactInput.selector : IUniswapSwapRouter02.exactInput.selector)) {
            return CanonicalCalldata.decodeV3Path(i, data, v1);
        }
        if (!v1 && selector == IUniswapSwapRouter02.swapExactTokensForTokens.selector) {
            return CanonicalCalldata.decodeV2(i, data, false);
        }
        revert SelectorNotAllowed(router, selector);
    }

    /// @dev The whitelist and bound checks of one decoded swap; records its intermediate tokens.
    function _checkSwap(
        Plan memory plan,
        uint256 i,
        address router,
        Swap memory s,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive
    ) private view {
        // The recipient rule also refuses the routers' sentinels (0, 1 = msg.sender, 2 = router).
        if (s.recipient != address(this)) revert BadRecipient(s.recipient);
        if (s.hasDeadline && s.deadline < block.timestamp) revert DeadlinePassed(i, s.deadline);
        if (s.amountIn == 0) revert ZeroAmountIn(i);
        if (s.amountOutMin == 0) revert ZeroAmountOutMin(i);

        uint256 last = s.tokens.length - 1;
        for (uint256 k; k <= last; ++k) {
            address token = s.tokens[k];
            if (!_assets[token].allowed) revert AssetNotAllowed(token);
            for (uint256 j; j < k; ++j) {
                if (s.tokens[j] == token) revert InvalidPath(i);
            }
        }
        uint256 spendIndex = _indexOf(maxSpend, s.tokens[0]);
        if (spendIndex == type(uint256).max) revert NotDeclaredAsSpend(i, s.tokens[0]);
        if (s.amountIn > maxSpend[spendIndex].amount) {
            revert AmountExceedsMaxSpend(i, s.tokens[0], s.amountIn, maxSpend[spendIndex].amount);
        }
        if (_indexOf(minReceive, s.tokens[last]) == type(uint256).max) revert NotDeclaredAsReceive(i, s.tokens[last]);

        _checkPools(plan, router, s);
    }

    /// @dev Every hop must be a whitelisted pool of `router`; intermediate tokens get tracked.
    function _checkPools(Plan memory plan, address router, Swap memory s) private view {
        uint256 hops = s.fees.length;
        for (uint256 k; k < hops; ++k) {
            (address a, address b, uint24 fee) = (s.tokens[k], s.tokens[k + 1], s.fees[k]);
            (address token0, address token1) = a < b ? (a, b) : (b, a);
            // Fee 0 names a V2 pair: a V3 hop may never use it.
            if ((!s.v2Pairs && fee == 0) || !_pools[_poolKey(router, token0, token1, fee)]) {
                revert PoolNotAllowed(router, a, b, fee);
            }
            if (k > 0 && !_contains(plan, a)) plan.tracked[plan.trackedCount++] = a;
        }
    }

    // ================================================================ checks after the calls

    /// @dev Reset every approval made (tolerating tokens that return nothing) and prove it is zero.
    function _resetApprovals(Plan memory plan) private {
        for (uint256 a; a < plan.approvalCount; ++a) {
            address token = plan.approvedTokens[a];
            address spender = plan.approvedSpenders[a];
            if (IERC20(token).allowance(address(this), spender) == 0) continue;
            (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.approve, (spender, 0)));
            if (!ok || !_returnedTrueOrNothing(ret) || IERC20(token).allowance(address(this), spender) != 0) {
                revert AllowanceNotReset(token, spender);
            }
        }
    }

    /// @dev Measure the deltas, enforce the bounds, consume the spend limits and emit `Executed`.
    function _settle(
        Plan memory plan,
        uint256[] memory before,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive
    ) private returns (uint256[] memory spent, uint256[] memory received) {
        uint256 nSpend = maxSpend.length;
        spent = new uint256[](nSpend);
        received = new uint256[](minReceive.length);
        address[] memory spendAssets = new address[](nSpend);
        address[] memory receiveAssets = new address[](minReceive.length);

        for (uint256 t; t < plan.trackedCount; ++t) {
            address asset = plan.tracked[t];
            uint256 balance = IERC20(asset).balanceOf(address(this));
            if (t < nSpend) {
                uint256 amount = before[t] > balance ? before[t] - balance : 0;
                if (amount > maxSpend[t].amount) revert SpendExceeded(asset, amount, maxSpend[t].amount);
                _consumeSpendLimit(asset, amount);
                spent[t] = amount;
                spendAssets[t] = asset;
            } else if (t < nSpend + minReceive.length) {
                uint256 r = t - nSpend;
                uint256 amount = balance > before[t] ? balance - before[t] : 0;
                if (amount < minReceive[r].amount) revert ReceiveTooLow(asset, amount, minReceive[r].amount);
                received[r] = amount;
                receiveAssets[r] = asset;
            } else if (balance < before[t]) {
                revert UndeclaredAssetDecreased(asset, before[t], balance);
            }
        }
        emit Executed(msg.sender, spendAssets, spent, receiveAssets, received);
    }

    function _consumeSpendLimit(address asset, uint256 amount) private {
        AssetConfig memory config = _assets[asset];
        if (config.capacity == 0 || amount == 0) return;
        uint256 available = _available(config, _spend[asset]);
        if (amount > available) revert SpendLimitExceeded(asset, amount, available);
        _spend[asset] = SpendState(uint128(available - amount), uint64(block.timestamp));
    }

    // ================================================================ helpers

    /// @dev Linear refill since the last update, rounded down (toward less spendable), capped at capacity.
    function _available(AssetConfig memory config, SpendState memory state) private view returns (uint256) {
        uint256 refill = (block.timestamp - state.lastUpdate) * config.capacity / config.refillPeriod;
        return _min(uint256(state.available) + refill, config.capacity);
    }

    function _poolKey(address router, address token0, address token1, uint24 fee) private pure returns (bytes32) {
        return keccak256(abi.encode(router, token0, token1, fee));
    }

    /// @dev ERC-20 success: no return data (USDT-like) or an ABI-encoded `true`.
    function _returnedTrueOrNothing(bytes memory ret) private pure returns (bool) {
        return ret.length == 0 || (ret.length >= 32 && uint256(bytes32(ret)) == 1);
    }

    function _indexOf(AssetBound[] calldata bounds, address asset) private pure returns (uint256) {
        for (uint256 k; k < bounds.length; ++k) {
            if (bounds[k].asset == asset) return k;
        }
        return type(uint256).max;
    }

    function _contains(Plan memory plan, address asset) private pure returns (bool) {
        for (uint256 t; t < plan.trackedCount; ++t) {
            if (plan.tracked[t] == asset) return true;
        }
        return false;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
