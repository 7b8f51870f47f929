// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ITradeGuard, RouterKind, Call, AssetBound} from "../interfaces/ITradeGuard.sol";
import {IUniswapV2Router, IUniswapV3SwapRouter, IUniswapSwapRouter02} from "../interfaces/IUniswapRouters.sol";
import {CanonicalCalldata, Swap} from "../libraries/CanonicalCalldata.sol";
import {IDirectSwap, DirectRoute} from "../interfaces/IDirectSwap.sol";
import {GuardConfig} from "./GuardConfig.sol";

/// @title TradeGuard
/// @notice The trade guard, custody-independent: every check of `execute` (router calls) and
/// `executeDirect` (straight through factory-confirmed pools, see `DirectSwap`) before, during and after
/// the swaps: declared assets, the whitelist, canonical calldata, spends within max and rolling limits,
/// receives at least min, undeclared path tokens not decreased, the oracle loss bound (`OracleGuard`).
/// @dev A custody inherits it and supplies the hooks: `_custody` (whose balances are measured; the only
/// allowed swap recipient), `_custodyCall` (a router-path call made as the custody), `_custodyApproveZero`
/// (reset an allowance as the custody), `_payPool` (pay a pool from the custody's funds), and the
/// authorisation hooks `_checkConfigAuth` / `_isGuardAdmin`. The guard contract itself is what calls the
/// pools on the direct path and receives the V3 callbacks.
abstract contract TradeGuard is GuardConfig {
    uint256 public constant MAX_CALLS = 8;
    /// @notice Bound on maxSpend.length + minReceive.length.
    uint256 public constant MAX_ASSETS = 8;
    uint256 private constant NOT_FOUND = type(uint256).max;

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
        bool lossBound; // the loss bound is on (read once, from the control slot)
        Swap swap; // scratch for the call being checked
    }

    /// @dev 1 while `execute`, `executeDirect` or a custody function guarded by `nonReentrant` runs. A full word: setting it needs no read-modify-write.
    uint256 private transient _entered;

    modifier nonReentrant() {
        if (_entered != 0) revert ReentrantCall();
        _entered = 1;
        _;
        _entered = 0;
    }

    /// @param assetManager_ Hot wallet that may `execute` and `pause`; zero for none yet.
    constructor(address assetManager_) GuardConfig(assetManager_) {}

    // ================================================================ custody hooks

    // `_custody()` (declared in `DirectSwap`): the address holding the funds; balances are measured there,
    // swap outputs go there, it is the only allowed router recipient.

    /// @dev Call `target` with `data` (no value) as the custody; revert `CallFailed(i, returndata)` if it
    /// fails or, when `isApprove`, returns something other than nothing or an ABI-encoded `true`.
    function _custodyCall(uint256 i, address target, bytes calldata data, bool isApprove) internal virtual;

    /// @dev As the custody, `IERC20(token).approve(spender, 0)`; whether it succeeded (returning nothing
    /// or `true`). The guard then re-reads the allowance.
    function _custodyApproveZero(address token, address spender) internal virtual returns (bool);

    // ================================================================ trading

    /// @inheritdoc ITradeGuard
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
            _custodyCall(i, c.target, c.data, plan.approveCallMask & (1 << i) != 0);
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
        (address manager, bool isPaused) = (_control.assetManager, _control.paused);
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
        if (plan.lossBound) _chargeLoss(plan.spendAssets, spent, plan.receiveAssets, received);
        emit Executed(msg.sender, plan.spendAssets, spent, plan.receiveAssets, received);
    }

    /// @inheritdoc ITradeGuard
    function checkExecute(Call[] calldata calls, AssetBound[] calldata maxSpend, AssetBound[] calldata minReceive)
        external
        view
        override
    {
        _plan(calls, maxSpend, minReceive);
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
            bool lossBound = _control.lossBound; // warm in a trade: `_checkManager` read the slot
            plan.lossBound = lossBound;

            plan.spendAssets = new address[](maxSpend.length);
            for (uint256 k; k < maxSpend.length; ++k) {
                address asset = maxSpend[k].asset;
                if (_checkDeclarable(plan.spendAssets, k, asset, true, lossBound)) plan.limitedSpendMask |= 1 << k;
                plan.spendAssets[k] = asset;
            }
            plan.receiveAssets = new address[](minReceive.length);
            for (uint256 k; k < minReceive.length; ++k) {
                (address asset, uint256 amount) = (minReceive[k].asset, minReceive[k].amount);
                if (_indexOf(plan.spendAssets, plan.spendAssets.length, asset) != NOT_FOUND) {
                    revert AssetInBothLists(asset);
                }
                if (amount == 0) revert ZeroMinReceive(asset);
                _checkDeclarable(plan.receiveAssets, k, asset, false, lossBound);
                plan.receiveAssets[k] = asset;
            }
        }
    }

    /// @dev An allowed asset not already among the first `count` entries of its list and, to be spent,
    /// bounded (a spend limit, a price under the active loss bound, or the unbounded opt-in); returns
    /// whether it has a rolling spend limit (read in the same slot).
    function _checkDeclarable(address[] memory list, uint256 count, address asset, bool spend, bool lossBound)
        private
        view
        returns (bool limited)
    {
        TargetConfig storage config = _targets[asset];
        (bool allowed, uint128 capacity, bool unbounded) = (config.allowed, config.capacity, config.unbounded);
        if (!allowed) revert AssetNotAllowed(asset);
        if (_indexOf(list, count, asset) != NOT_FOUND) revert DuplicateAsset(asset);
        limited = capacity != 0;
        if (spend && !limited && !unbounded && !(lossBound && _isPriced(asset))) revert AssetUnbounded(asset);
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
        if (s.recipient != _custody()) revert BadRecipient(s.recipient);
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
            if (!_custodyApproveZero(token, spender) || _allowance(token, spender) != 0) {
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

    /// @dev `IERC20(token).balanceOf(custody)` in scratch space; bubbles the token's revert.
    function _balanceOf(address token) internal view returns (uint256 amount) {
        address custody = _custody();
        assembly ("memory-safe") {
            mstore(0x00, 0x70a08231) // balanceOf(address)
            mstore(0x20, custody)
            // Yul evaluates arguments right to left: the staticcall runs before returndatasize is read.
            if iszero(and(gt(returndatasize(), 31), staticcall(gas(), token, 0x1c, 0x24, 0x00, 0x20))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            amount := mload(0x00)
        }
    }

    /// @dev `IERC20(token).allowance(custody, spender)`, built past the free memory pointer.
    function _allowance(address token, address spender) private view returns (uint256 amount) {
        address custody = _custody();
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, shl(224, 0xdd62ed3e)) // allowance(address,address)
            mstore(add(m, 0x04), custody)
            mstore(add(m, 0x24), spender)
            if iszero(and(gt(returndatasize(), 31), staticcall(gas(), token, m, 0x44, 0x00, 0x20))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            amount := mload(0x00)
        }
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

}
