// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IVault, RouterKind, Call, AssetBound} from "./interfaces/IVault.sol";
import {OracleGuard} from "./guard/OracleGuard.sol";
import {RollingBucket} from "./libraries/RollingBucket.sol";
import {IUniswapV2Router, IUniswapV3SwapRouter, IUniswapSwapRouter02} from "./interfaces/IUniswapRouters.sol";
import {CanonicalCalldata, Swap} from "./libraries/CanonicalCalldata.sol";
import {DirectSwap} from "./guard/DirectSwap.sol";
import {IDirectSwap, DirectProtocol, DirectRoute} from "./interfaces/IDirectSwap.sol";

/// @title Vault
/// @notice Holds the funds; its one asset manager may only swap them through whitelisted routers and
/// pools, back into the vault, within declared per-asset bounds, rolling spend limits and an oracle-priced
/// loss bound (per execute and per period, see `OracleGuard`). An asset can be spent only if something
/// bounds it: a spend limit, a price under the active loss bound, or the owner's explicit unbounded opt-in.
/// Two paths: `execute` (approve + router calls) and `executeDirect` (straight through factory-confirmed
/// Uniswap V2 pairs and V3 pools, see `DirectSwap`); the same asset checks settle both.
/// @dev No upgradeability, no receive/fallback, no delegatecall, no ETH value in any call.
contract Vault is IVault, OracleGuard, DirectSwap, Ownable2Step {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_CALLS = 8;
    /// @notice Bound on maxSpend.length + minReceive.length.
    uint256 public constant MAX_ASSETS = 8;
    uint256 private constant NOT_FOUND = type(uint256).max;

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

    /// @dev What `_plan` found: the declared spend and receive assets (their bounds are read from calldata
    /// where needed: `maxSpend[k]` belongs to `spendAssets[k]`), undeclared intermediate path tokens (to
    /// snapshot; allocated only for a multi-hop path), the approvals to reset (`spender | spendIndex << 160`,
    /// unique), which calls are approvals (bit i set) and which spend assets have a rolling limit (bit t set).
    struct Plan {
        address[] spendAssets;
        address[] receiveAssets;
        address[] intermediates;
        uint256 intermediateCount;
        uint256[] approvals;
        uint256 approvalCount;
        uint256 approveCallMask;
        uint256 limitedSpendMask;
        Swap swap; // scratch for the call being checked
    }

    address public override assetManager;
    bool public override paused;

    mapping(address target => TargetConfig) private _targets;
    mapping(address asset => SpendState) private _spend;
    mapping(bytes32 poolKey => bool) private _pools;

    /// @dev 1 while `execute` or `withdraw` runs. A full word: setting it needs no read-modify-write.
    uint256 private transient _entered;

    modifier nonReentrant() {
        if (_entered != 0) revert ReentrantCall();
        _entered = 1;
        _;
        _entered = 0;
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
        _checkManager();
        Plan memory plan = _plan(calls, maxSpend, minReceive);
        // Balances before the calls; the settle steps overwrite them in place with the deltas.
        spent = _balances(plan.spendAssets, plan.spendAssets.length);
        received = _balances(plan.receiveAssets, plan.receiveAssets.length);
        uint256[] memory intermediateBefore;
        if (plan.intermediateCount != 0) intermediateBefore = _balances(plan.intermediates, plan.intermediateCount);

        for (uint256 i; i < calls.length; ++i) {
            Call calldata c = calls[i];
            _makeCall(i, c.target, c.data, plan.approveCallMask & (1 << i) != 0);
        }

        _resetApprovals(plan);
        _settle(plan, maxSpend, minReceive, spent, received, intermediateBefore);
    }

    /// @inheritdoc IDirectSwap
    function executeDirect(DirectRoute[] calldata routes, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        external
        override
        nonReentrant
        returns (uint256[] memory spent, uint256[] memory received)
    {
        _checkManager();
        Plan memory plan = _planDirect(routes, maxSpend, minReceive);
        spent = _balances(plan.spendAssets, plan.spendAssets.length);
        received = _balances(plan.receiveAssets, plan.receiveAssets.length);
        uint256[] memory intermediateBefore;
        if (plan.intermediateCount != 0) intermediateBefore = _balances(plan.intermediates, plan.intermediateCount);

        for (uint256 i; i < routes.length; ++i) {
            _swapRoute(i, routes[i]);
        }
        _settle(plan, maxSpend, minReceive, spent, received, intermediateBefore);
    }

    /// @inheritdoc IDirectSwap
    function checkExecuteDirect(
        DirectRoute[] calldata routes,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive
    ) external view override {
        _planDirect(routes, maxSpend, minReceive);
    }

    /// @dev The caller is the asset manager and the vault is not paused (one slot, read once).
    function _checkManager() private view {
        (address manager, bool isPaused) = (assetManager, paused);
        if (msg.sender != manager) revert NotAssetManager(msg.sender);
        if (isPaused) revert VaultPaused();
    }

    /// @dev The checks after the swaps, the same for both paths: spends (max, rolling limit), receives
    /// (min), intermediate balances, the loss bound; then the `Executed` event. `spent`/`received` hold
    /// the balances before and are overwritten with the deltas.
    function _settle(
        Plan memory plan,
        AssetBound[] calldata maxSpend,
        AssetBound[] calldata minReceive,
        uint256[] memory spent,
        uint256[] memory received,
        uint256[] memory intermediateBefore
    ) private {
        _settleSpends(plan, maxSpend, spent);
        _settleReceives(plan, minReceive, received);
        _checkIntermediates(plan, intermediateBefore);
        _chargeLoss(plan.spendAssets, spent, plan.receiveAssets, received);
        emit Executed(msg.sender, plan.spendAssets, spent, plan.receiveAssets, received);
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
        _targets[asset].allowed = allowed;
        emit AssetAllowedSet(asset, allowed);
    }

    /// @inheritdoc IVault
    function setRouter(address router, RouterKind kind) external override onlyOwner {
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

    /// @inheritdoc IVault
    function setPoolAllowed(address router, address tokenA, address tokenB, uint24 fee, bool allowed)
        external
        override
        onlyOwner
    {
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
    ) external override onlyOwner {
        if (factory == address(0) || tokenA == address(0) || tokenB == address(0)) revert ZeroAddress();
        if (tokenA == tokenB) revert SameToken(tokenA);
        _setDirectPoolAllowed(factory, protocol, tokenA, tokenB, fee, allowed);
    }

    /// @inheritdoc IVault
    function setSpendLimit(address asset, uint256 capacity, uint256 refillPeriod) external override onlyOwner {
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

    /// @inheritdoc IVault
    function setUnboundedSpendAllowed(address asset, bool allowed) external override onlyOwner {
        if (asset == address(0)) revert ZeroAddress();
        _targets[asset].unbounded = allowed;
        emit UnboundedSpendAllowedSet(asset, allowed);
    }

    /// @inheritdoc IVault
    function setAssetManager(address manager) external override onlyOwner {
        emit AssetManagerSet(assetManager, manager);
        assetManager = manager;
    }

    /// @inheritdoc IVault
    function withdraw(address asset, uint256 amount) external override onlyOwner nonReentrant {
        address to = owner();
        if (amount == type(uint256).max) amount = _balanceOf(asset); // all of it: immune to front-running dust
        if (amount == 0) return; // nothing to send: a token that reverts on zero transfers cannot block this
        emit Withdrawn(asset, to, amount);
        IERC20(asset).safeTransfer(to, amount);
    }

    /// @inheritdoc IVault
    function withdrawEth() external override onlyOwner nonReentrant {
        uint256 amount = address(this).balance;
        if (amount == 0) return;
        address to = owner();
        emit EthWithdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }

    /// @inheritdoc IVault
    function pause() external override {
        if (msg.sender != owner() && msg.sender != assetManager) revert NotOwnerOrAssetManager(msg.sender);
        if (paused) return;
        paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IVault
    function unpause() external override onlyOwner {
        if (!paused) return;
        paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Disabled: a vault without an owner could never be withdrawn from.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceOwnershipDisabled();
    }

    /// @dev Configuration of the oracle guard: the owner only.
    function _checkConfigAuth() internal view override {
        _checkOwner();
    }

    // ================================================================ views

    /// @inheritdoc IVault
    function isUnboundedSpendAllowed(address asset) external view override returns (bool) {
        return _targets[asset].unbounded;
    }

    /// @inheritdoc IVault
    function isAssetAllowed(address asset) external view override returns (bool) {
        return _targets[asset].allowed;
    }

    /// @inheritdoc IVault
    function routerKind(address router) external view override returns (RouterKind) {
        return _targets[router].kind;
    }

    /// @inheritdoc IVault
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

    /// @inheritdoc IVault
    function availableSpend(address asset) external view override returns (uint256) {
        TargetConfig memory config = _targets[asset];
        return config.capacity == 0 ? type(uint256).max : _available(config, _spend[asset]);
    }

    /// @inheritdoc IVault
    function spendLimit(address asset) external view override returns (uint256 capacity, uint256 refillPeriod) {
        TargetConfig memory config = _targets[asset];
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
        plan = _planAssets(maxSpend, minReceive);
        plan.approvals = new uint256[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            Call calldata c = calls[i];
            _checkCall(plan, maxSpend, i, c.target, c.data);
        }
    }

    /// @dev Every check of `executeDirect` that touches no pool: the declared assets, then each route.
    function _planDirect(DirectRoute[] calldata routes, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        private
        view
        returns (Plan memory plan)
    {
        if (routes.length == 0 || routes.length > MAX_CALLS) revert BadCallCount(routes.length, MAX_CALLS);
        plan = _planAssets(maxSpend, minReceive);
        for (uint256 i; i < routes.length; ++i) {
            _checkRoute(plan, maxSpend, i, routes[i]);
        }
    }

    /// @dev A route: its shape, amounts and deadline, declared end tokens, allowed path tokens without
    /// repeats, every hop an allowed direct pool of its two tokens; undeclared intermediates get tracked.
    function _checkRoute(Plan memory plan, AssetBound[] calldata maxSpend, uint256 i, DirectRoute calldata r)
        private
        view
    {
        address[] calldata tokens = r.tokens;
        address[] calldata pools = r.pools;
        uint256 hops = pools.length;
        if (hops == 0 || hops > MAX_HOPS || tokens.length != hops + 1) revert BadRoute(i);
        if (r.deadline < block.timestamp) revert DeadlinePassed(i, r.deadline);
        if (r.amountIn == 0) revert ZeroAmountIn(i);
        if (r.amountOutMin == 0) revert ZeroAmountOutMin(i);
        unchecked {
            uint256 spendIndex = _indexOf(plan.spendAssets, plan.spendAssets.length, tokens[0]);
            if (spendIndex == NOT_FOUND) revert NotDeclaredAsSpend(i, tokens[0]);
            uint256 max = maxSpend[spendIndex].amount;
            if (r.amountIn > max) revert AmountExceedsMaxSpend(i, tokens[0], r.amountIn, max);
            if (_indexOf(plan.receiveAssets, plan.receiveAssets.length, tokens[hops]) == NOT_FOUND) {
                revert NotDeclaredAsReceive(i, tokens[hops]);
            }
            for (uint256 k; k <= hops; ++k) {
                address token = tokens[k];
                for (uint256 j; j < k; ++j) {
                    if (tokens[j] == token) revert InvalidPath(i);
                }
                if (k == hops) break; // the declared end token: allowed, checked in `_planAssets`
                if (_directConfig(pools[k], token, tokens[k + 1]) == 0) {
                    revert DirectPoolNotAllowed(pools[k], token, tokens[k + 1]);
                }
                if (k == 0) continue; // the declared spend token
                if (!_targets[token].allowed) revert AssetNotAllowed(token);
                if (!_isTracked(plan, token)) {
                    if (plan.intermediates.length == 0) plan.intermediates = new address[]((MAX_HOPS - 1) * MAX_CALLS);
                    plan.intermediates[plan.intermediateCount++] = token;
                }
            }
        }
    }

    /// @dev The declared spend and receive assets: allowed, unique, in one list only, spends bounded.
    function _planAssets(AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        private
        view
        returns (Plan memory plan)
    {
        unchecked {
            uint256 declared = maxSpend.length + minReceive.length;
            if (declared > MAX_ASSETS) revert TooManyAssets(declared, MAX_ASSETS);

            plan.spendAssets = new address[](maxSpend.length);
            for (uint256 k; k < maxSpend.length; ++k) {
                address asset = maxSpend[k].asset;
                if (_checkDeclarable(plan.spendAssets, k, asset, true)) plan.limitedSpendMask |= 1 << k;
                plan.spendAssets[k] = asset;
            }
            plan.receiveAssets = new address[](minReceive.length);
            for (uint256 k; k < minReceive.length; ++k) {
                (address asset, uint256 amount) = (minReceive[k].asset, minReceive[k].amount);
                if (_indexOf(plan.spendAssets, plan.spendAssets.length, asset) != NOT_FOUND) {
                    revert AssetInBothLists(asset);
                }
                if (amount == 0) revert ZeroMinReceive(asset);
                _checkDeclarable(plan.receiveAssets, k, asset, false);
                plan.receiveAssets[k] = asset;
            }
        }
    }

    /// @dev An allowed asset not already among the first `count` entries of its list and, to be spent,
    /// bounded (a spend limit, a price under the active loss bound, or the unbounded opt-in); returns
    /// whether it has a rolling spend limit (read in the same slot).
    function _checkDeclarable(address[] memory list, uint256 count, address asset, bool spend)
        private
        view
        returns (bool limited)
    {
        TargetConfig storage config = _targets[asset];
        (bool allowed, uint128 capacity, bool unbounded) = (config.allowed, config.capacity, config.unbounded);
        if (!allowed) revert AssetNotAllowed(asset);
        if (_indexOf(list, count, asset) != NOT_FOUND) revert DuplicateAsset(asset);
        limited = capacity != 0;
        if (spend && !limited && !unbounded && !_isPricedUnderBound(asset)) revert AssetUnbounded(asset);
    }

    /// @dev Dispatch on the target: a whitelisted router (swap) or an allowed asset (approve), nothing else.
    function _checkCall(Plan memory plan, AssetBound[] calldata maxSpend, uint256 i, address target, bytes calldata data)
        private
        view
    {
        if (data.length < 4) revert NonCanonicalCalldata(i);
        bytes4 selector = bytes4(data);
        TargetConfig storage config = _targets[target];
        (RouterKind kind, bool allowed) = (config.kind, config.allowed); // one SLOAD, no memory copy
        if (kind != RouterKind.None) {
            Swap memory s = plan.swap;
            _decodeSwap(i, target, kind, selector, data, s);
            _checkSwap(plan, maxSpend, i, target, kind, s);
        } else if (allowed) {
            if (selector != IERC20.approve.selector) revert SelectorNotAllowed(target, selector);
            _checkApprove(plan, maxSpend, i, target, data);
        } else {
            revert TargetNotAllowed(target);
        }
    }

    function _checkApprove(Plan memory plan, AssetBound[] calldata maxSpend, uint256 i, address token, bytes calldata data)
        private
        view
    {
        (address spender, uint256 amount) = CanonicalCalldata.decodeApprove(i, data);
        uint256 k = _indexOf(plan.spendAssets, plan.spendAssets.length, token);
        if (k == NOT_FOUND) revert NotDeclaredAsSpend(i, token);
        if (_targets[spender].kind == RouterKind.None) revert SpenderNotAllowed(spender);
        uint256 max = maxSpend[k].amount;
        if (amount > max) revert AmountExceedsMaxSpend(i, token, amount, max);

        plan.approveCallMask |= 1 << i;
        uint256 approval = uint256(uint160(spender)) | k << 160; // k < MAX_ASSETS
        uint256 count = plan.approvalCount;
        for (uint256 a; a < count; ++a) {
            if (plan.approvals[a] == approval) return;
        }
        plan.approvals[count] = approval;
        plan.approvalCount = count + 1;
    }

    /// @dev Decode a router call with the strict decoder of its (router kind, selector) into `s`; refuse any other.
    function _decodeSwap(uint256 i, address router, RouterKind kind, bytes4 selector, bytes calldata data, Swap memory s)
        private
        pure
    {
        if (kind == RouterKind.UniswapV2) {
            if (selector != IUniswapV2Router.swapExactTokensForTokens.selector) revert SelectorNotAllowed(router, selector);
            return CanonicalCalldata.decodeV2(i, data, true, s);
        }
        bool v1 = kind == RouterKind.UniswapV3SwapRouter;
        if (selector == (v1 ? IUniswapV3SwapRouter.exactInputSingle.selector : IUniswapSwapRouter02.exactInputSingle.selector)) {
            if (CanonicalCalldata.decodeV3Single(i, data, v1, s) != 0) revert PriceLimitNotAllowed(i);
            return;
        }
        if (selector == (v1 ? IUniswapV3SwapRouter.exactInput.selector : IUniswapSwapRouter02.exactInput.selector)) {
            return CanonicalCalldata.decodeV3Path(i, data, v1, s);
        }
        if (!v1 && selector == IUniswapSwapRouter02.swapExactTokensForTokens.selector) {
            return CanonicalCalldata.decodeV2(i, data, false, s);
        }
        revert SelectorNotAllowed(router, selector);
    }

    /// @dev The whitelist and bound checks of one decoded swap; records its intermediate tokens.
    function _checkSwap(
        Plan memory plan,
        AssetBound[] calldata maxSpend,
        uint256 i,
        address router,
        RouterKind kind,
        Swap memory s
    ) private view {
        // The recipient rule also refuses the routers' sentinels (0, 1 = msg.sender, 2 = router).
        if (s.recipient != address(this)) revert BadRecipient(s.recipient);
        if (s.hasDeadline && s.deadline < block.timestamp) revert DeadlinePassed(i, s.deadline);
        if (s.amountIn == 0) revert ZeroAmountIn(i);
        if (s.amountOutMin == 0) revert ZeroAmountOutMin(i);

        unchecked {
            uint256 last = s.count - 1; // count >= 2, checked by the decoder
            address tokenIn = s.tokens[0];
            address tokenOut = s.tokens[last];
            uint256 spendIndex = _indexOf(plan.spendAssets, plan.spendAssets.length, tokenIn);
            bool outDeclared = _indexOf(plan.receiveAssets, plan.receiveAssets.length, tokenOut) != NOT_FOUND;
            for (uint256 k; k <= last; ++k) {
                address token = s.tokens[k];
                // A declared end token passed the allowed check in `_plan` (no state change since): skip
                // re-reading its slot. Errors and their order are those of checking every token here.
                bool known = (k == 0 && spendIndex != NOT_FOUND) || (k == last && outDeclared);
                if (!known && !_targets[token].allowed) revert AssetNotAllowed(token);
                for (uint256 j; j < k; ++j) {
                    if (s.tokens[j] == token) revert InvalidPath(i);
                }
            }
            if (spendIndex == NOT_FOUND) revert NotDeclaredAsSpend(i, tokenIn);
            uint256 max = maxSpend[spendIndex].amount;
            if (s.amountIn > max) revert AmountExceedsMaxSpend(i, tokenIn, s.amountIn, max);
            if (!outDeclared) revert NotDeclaredAsReceive(i, tokenOut);
        }
        _checkPools(plan, router, kind, s);
    }

    /// @dev Every hop must be a whitelisted pool of `router`; undeclared intermediate tokens get tracked.
    function _checkPools(Plan memory plan, address router, RouterKind kind, Swap memory s) private view {
        uint32 epoch = _targets[router].epoch; // warm: the dispatch read this slot
        unchecked {
            uint256 hops = s.count - 1;
            for (uint256 k; k < hops; ++k) {
                // A V2 hop is fee 0 by definition: `s.fees` may still hold an earlier V3 call's fees.
                (address a, address b, uint24 fee) = (s.tokens[k], s.tokens[k + 1], s.v2Pairs ? 0 : s.fees[k]);
                (address token0, address token1) = a < b ? (a, b) : (b, a);
                // Fee 0 names a V2 pair: a V3 hop may never use it.
                if ((!s.v2Pairs && fee == 0) || !_pools[_poolKey(router, kind, epoch, token0, token1, fee)]) {
                    revert PoolNotAllowed(router, a, b, fee);
                }
                if (k > 0 && !_isTracked(plan, a)) {
                    // At most 2 per call (4 path tokens).
                    if (plan.intermediates.length == 0) plan.intermediates = new address[](2 * MAX_CALLS);
                    plan.intermediates[plan.intermediateCount++] = a;
                }
            }
        }
    }

    // ================================================================ checks after the calls

    /// @dev Reset every approval made (tolerating tokens that return nothing) and prove it is zero.
    function _resetApprovals(Plan memory plan) private {
        for (uint256 a; a < plan.approvalCount; ++a) {
            uint256 approval = plan.approvals[a];
            address token = plan.spendAssets[approval >> 160];
            address spender = address(uint160(approval));
            if (_allowance(token, spender) == 0) continue;
            (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.approve, (spender, 0)));
            if (!ok || !_returnedTrueOrNothing(ret) || _allowance(token, spender) != 0) {
                revert AllowanceNotReset(token, spender);
            }
        }
    }

    /// @dev Balance decrease of each spend asset: within its max, then consumed from its rolling limit.
    /// `amounts` holds the balances before the calls and is overwritten with the amounts spent.
    function _settleSpends(Plan memory plan, AssetBound[] calldata maxSpend, uint256[] memory amounts) private {
        for (uint256 t; t < amounts.length; ++t) {
            address asset = plan.spendAssets[t];
            (uint256 before, uint256 balance) = (amounts[t], _balanceOf(asset));
            uint256 amount = before > balance ? before - balance : 0;
            uint256 max = maxSpend[t].amount;
            if (amount > max) revert SpendExceeded(asset, amount, max);
            if (plan.limitedSpendMask & (1 << t) != 0) _consumeSpendLimit(asset, amount);
            amounts[t] = amount;
        }
    }

    /// @dev Balance increase of each receive asset: at least its min. `amounts` holds the balances before
    /// the calls and is overwritten with the amounts received.
    function _settleReceives(Plan memory plan, AssetBound[] calldata minReceive, uint256[] memory amounts)
        private
        view
    {
        for (uint256 t; t < amounts.length; ++t) {
            address asset = plan.receiveAssets[t];
            (uint256 before, uint256 balance) = (amounts[t], _balanceOf(asset));
            uint256 amount = balance > before ? balance - before : 0;
            uint256 min = minReceive[t].amount;
            if (amount < min) revert ReceiveTooLow(asset, amount, min);
            amounts[t] = amount;
        }
    }

    /// @dev An undeclared intermediate token's balance must not have decreased.
    function _checkIntermediates(Plan memory plan, uint256[] memory before) private view {
        for (uint256 t; t < before.length; ++t) {
            address asset = plan.intermediates[t];
            uint256 balance = _balanceOf(asset);
            if (balance < before[t]) revert UndeclaredAssetDecreased(asset, before[t], balance);
        }
    }

    /// @dev Only for an asset with a limit (capacity != 0).
    function _consumeSpendLimit(address asset, uint256 amount) private {
        if (amount == 0) return;
        TargetConfig memory config = _targets[asset];
        uint256 available = _available(config, _spend[asset]);
        if (amount > available) revert SpendLimitExceeded(asset, amount, available);
        _spend[asset] = SpendState(uint128(available - amount), uint64(block.timestamp));
    }

    // ================================================================ helpers

    /// @dev The direct path pays a pool from the vault's own balance (no allowance is ever given).
    function _payPool(address token, address pool, uint256 amount) internal override {
        IERC20(token).safeTransfer(pool, amount);
    }

    /// @dev Linear refill since the last update, rounded down (toward less spendable), capped at capacity.
    function _available(TargetConfig memory config, SpendState memory state) private view returns (uint256) {
        return RollingBucket.available(
            state.available, state.lastUpdate, config.capacity, config.refillPeriod, block.timestamp
        );
    }

    /// @dev Call `target` with `data` and no value; revert `CallFailed(i, returndata)` if it fails or, for an
    /// approval, returns something other than nothing (USDT-like) or an ABI-encoded `true`. Return data is
    /// copied to memory only on failure.
    function _makeCall(uint256 i, address target, bytes calldata data, bool isApprove) private {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            ok := call(gas(), target, 0, m, data.length, 0x00, 0x20)
            if and(ok, isApprove) {
                ok := or(iszero(returndatasize()), and(gt(returndatasize(), 31), eq(mload(0x00), 1)))
            }
        }
        if (!ok) {
            uint256 size;
            assembly ("memory-safe") {
                size := returndatasize()
            }
            bytes memory reason = new bytes(size);
            assembly ("memory-safe") {
                returndatacopy(add(reason, 0x20), 0x00, size)
            }
            revert CallFailed(i, reason);
        }
    }

    /// @dev `IERC20(token).balanceOf(address(this))` in scratch space; bubbles the token's revert.
    function _balanceOf(address token) private view returns (uint256 amount) {
        assembly ("memory-safe") {
            mstore(0x00, 0x70a08231) // balanceOf(address)
            mstore(0x20, address())
            // Yul evaluates arguments right to left: the staticcall runs before returndatasize is read.
            if iszero(and(gt(returndatasize(), 31), staticcall(gas(), token, 0x1c, 0x24, 0x00, 0x20))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            amount := mload(0x00)
        }
    }

    /// @dev `IERC20(token).allowance(address(this), spender)`, built past the free memory pointer.
    function _allowance(address token, address spender) private view returns (uint256 amount) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, shl(224, 0xdd62ed3e)) // allowance(address,address)
            mstore(add(m, 0x04), address())
            mstore(add(m, 0x24), spender)
            if iszero(and(gt(returndatasize(), 31), staticcall(gas(), token, m, 0x44, 0x00, 0x20))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            amount := mload(0x00)
        }
    }

    /// @dev The router's kind and epoch are part of the key: any change of kind (evented, see `setRouter`)
    /// starts a new epoch, so no pool allowed before comes back silently, not even with the same kind.
    function _poolKey(address router, RouterKind kind, uint32 epoch, address token0, address token1, uint24 fee)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(router, kind, epoch, token0, token1, fee));
    }

    /// @dev ERC-20 success: no return data (USDT-like) or an ABI-encoded `true`.
    function _returnedTrueOrNothing(bytes memory ret) private pure returns (bool) {
        return ret.length == 0 || (ret.length >= 32 && uint256(bytes32(ret)) == 1);
    }

    /// @dev Index of `asset` among the first `count` entries of `list`, or `NOT_FOUND`.
    function _indexOf(address[] memory list, uint256 count, address asset) private pure returns (uint256) {
        for (uint256 k; k < count; ++k) {
            if (list[k] == asset) return k;
        }
        return NOT_FOUND;
    }

    /// @dev Whether `asset` is already snapshotted: declared, or an intermediate already recorded.
    function _isTracked(Plan memory plan, address asset) private pure returns (bool) {
        return _indexOf(plan.spendAssets, plan.spendAssets.length, asset) != NOT_FOUND
            || _indexOf(plan.receiveAssets, plan.receiveAssets.length, asset) != NOT_FOUND
            || _indexOf(plan.intermediates, plan.intermediateCount, asset) != NOT_FOUND;
    }

    /// @dev `_balanceOf` of the first `count` tokens of `tokens`.
    function _balances(address[] memory tokens, uint256 count) private view returns (uint256[] memory amounts) {
        amounts = new uint256[](count);
        for (uint256 t; t < count; ++t) {
            amounts[t] = _balanceOf(tokens[t]);
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
