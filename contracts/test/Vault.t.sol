// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IVault, RouterKind, Call, AssetBound} from "../src/interfaces/IVault.sol";
import {ITradeGuard} from "../src/interfaces/ITradeGuard.sol";
import {MockRouter} from "./utils/Mocks.sol";
import {VaultBase} from "./utils/VaultBase.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @notice Accepted trades through each router ABI, configuration, roles and spend limits.
contract VaultTest is VaultBase {
    // ---------------------------------------------------------------- accepted swaps

    function testV2SwapApproveSwapReset() public {
        (uint256[] memory spent, uint256[] memory received) = _execute(
            _calls(_approve(address(tokenA), address(v2), 100e18), _v2Swap(100e18, 99e18, _path(address(tokenA), address(tokenB)), address(vault))),
            _bound(address(tokenA), 100e18),
            _bound(address(tokenB), 99e18)
        );
        Assert.eq(spent[0], 100e18, "spent");
        Assert.eq(received[0], 100e18, "received");
        Assert.eq(tokenB.balanceOf(address(vault)), 100e18, "vault B");
        Assert.eq(tokenA.balanceOf(address(vault)), FUNDS - 100e18, "vault A");
        _assertNoAllowances();
    }

    function testV2TwoHopTracksIntermediate() public {
        (, uint256[] memory received) = _execute(
            _calls(
                _approve(address(tokenA), address(v2), 5e18),
                _v2Swap(5e18, 1, _path(address(tokenA), address(tokenB), address(tokenC)), address(vault))
            ),
            _bound(address(tokenA), 5e18),
            _bound(address(tokenC), 1)
        );
        Assert.eq(received[0], 5e18, "received C");
    }

    function testV3SingleAndPath() public {
        _execute(
            _calls(_approve(address(tokenA), address(v3), 7e18), _v3Single(address(tokenA), address(tokenB), 3000, address(vault), 7e18, 7e18)),
            _bound(address(tokenA), 7e18),
            _bound(address(tokenB), 7e18)
        );
        bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(tokenB), uint24(500), address(tokenC));
        (, uint256[] memory received) = _execute(
            _calls(_approve(address(tokenA), address(v3), 3e18), _v3Path(path, address(vault), 3e18, 3e18)),
            _bound(address(tokenA), 3e18),
            _bound(address(tokenC), 3e18)
        );
        Assert.eq(received[0], 3e18, "received C");
        _assertNoAllowances();
    }

    function testSwapRouter02AllVariants() public {
        _execute(
            _calls(_approve(address(tokenA), address(r02), 1e18), _r02Single(address(tokenA), address(tokenB), 3000, address(vault), 1e18, 1)),
            _bound(address(tokenA), 1e18),
            _bound(address(tokenB), 1)
        );
        bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(tokenB), uint24(500), address(tokenC));
        _execute(
            _calls(_approve(address(tokenA), address(r02), 1e18), _r02Path(path, address(vault), 1e18, 1)),
            _bound(address(tokenA), 1e18),
            _bound(address(tokenC), 1)
        );
        _execute(
            _calls(_approve(address(tokenA), address(r02), 1e18), _r02V2(1e18, 1, _path(address(tokenA), address(tokenB)), address(vault))),
            _bound(address(tokenA), 1e18),
            _bound(address(tokenB), 1)
        );
        Assert.eq(tokenB.balanceOf(address(vault)), 2e18, "B received");
        Assert.eq(tokenC.balanceOf(address(vault)), 1e18, "C received");
        _assertNoAllowances();
    }

    function testTetherLikeLeftoverAllowanceIsReset() public {
        v2.setMode(MockRouter.Mode.PullHalf, address(0));
        (uint256[] memory spent,) = _execute(
            _calls(_approve(address(usdt), address(v2), 1000), _v2Swap(1000, 400, _path(address(usdt), address(tokenB)), address(vault))),
            _bound(address(usdt), 1000),
            _bound(address(tokenB), 400)
        );
        Assert.eq(spent[0], 500, "router pulled half");
        Assert.eq(_allowance(address(usdt), address(v2)), 0, "USDT allowance reset");
        // A second trade can approve again: the non-zero -> non-zero trap of USDT never triggers.
        _execute(
            _calls(_approve(address(usdt), address(v2), 1000), _v2Swap(1000, 400, _path(address(usdt), address(tokenB)), address(vault))),
            _bound(address(usdt), 1000),
            _bound(address(tokenB), 400)
        );
    }

    /// @dev Approvals are recorded per (spend asset index, spender): a leftover allowance on the second
    /// spend asset, and on a second spender of the first, is reset too; a repeated approval once.
    function testLeftoverAllowancesOfEverySpendAssetAndSpenderAreReset() public {
        tokenC.mint(address(vault), 100);
        Call[] memory calls = new Call[](5);
        calls[0] = _approve(address(tokenA), address(v2), 100);
        calls[1] = _approve(address(tokenC), address(v2), 7); // never used: left over
        calls[2] = _approve(address(tokenA), address(v3), 9); // never used: left over
        calls[3] = _v2Swap(100, 1, _path(address(tokenA), address(tokenB)), address(vault));
        calls[4] = _approve(address(tokenC), address(v2), 5); // same pair again, left over
        AssetBound[] memory maxSpend = new AssetBound[](2);
        (maxSpend[0], maxSpend[1]) = (AssetBound(address(tokenA), 100), AssetBound(address(tokenC), 10));
        (uint256[] memory spent, uint256[] memory received) = _execute(calls, maxSpend, _bound(address(tokenB), 1));
        Assert.eq(spent[0], 100, "spent A");
        Assert.eq(spent[1], 0, "spent C");
        Assert.isTrue(received[0] > 0, "received B");
        _assertNoAllowances();
    }

    function testCheckExecuteMatchesExecuteRefusal() public {
        Call[] memory calls = _calls(_approve(address(tokenA), ATTACKER, 1));
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.SpenderNotAllowed.selector, ATTACKER));
        vault.checkExecute(calls, _bound(address(tokenA), 1), _bound(address(tokenB), 1));
        // A valid plan passes the dry run from any caller.
        vault.checkExecute(
            _calls(_approve(address(tokenA), address(v2), 1)), _bound(address(tokenA), 1), _bound(address(tokenB), 1)
        );
    }

    // ---------------------------------------------------------------- configuration and roles

    function testConfigViewsAndOrderIndependentPools() public view {
        Assert.isTrue(vault.isAssetAllowed(address(tokenA)), "A allowed");
        Assert.isTrue(!vault.isAssetAllowed(address(unlisted)), "X not allowed");
        Assert.isTrue(vault.routerKind(address(v3)) == RouterKind.UniswapV3SwapRouter, "v3 kind");
        Assert.isTrue(vault.isPoolAllowed(address(v2), address(tokenB), address(tokenA), 0), "B/A == A/B");
        Assert.isTrue(!vault.isPoolAllowed(address(v2), address(tokenA), address(tokenC), 0), "A/C not allowed");
        Assert.isTrue(!vault.isPoolAllowed(address(v3), address(tokenA), address(tokenB), 500), "fee tier matters");
        Assert.eq(vault.availableSpend(address(tokenA)), type(uint256).max, "unlimited");
    }

    function testOwnerOnlyConfigurationAndWithdraw() public {
        address[2] memory outsiders = [MANAGER, ATTACKER];
        for (uint256 k; k < 2; ++k) {
            address who = outsiders[k];
            bytes memory err = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, who);
            vm.expectRevert(err);
            vm.prank(who);
            vault.setAssetAllowed(address(unlisted), true);
            vm.expectRevert(err);
            vm.prank(who);
            vault.setRouter(who, RouterKind.UniswapV2);
            vm.expectRevert(err);
            vm.prank(who);
            vault.setPoolAllowed(address(v2), address(tokenA), address(tokenC), 0, true);
            vm.expectRevert(err);
            vm.prank(who);
            vault.setSpendLimit(address(tokenA), 0, 0);
            vm.expectRevert(err);
            vm.prank(who);
            vault.setAssetManager(who);
            vm.expectRevert(err);
            vm.prank(who);
            vault.withdraw(address(tokenA), 1);
            vm.expectRevert(err);
            vm.prank(who);
            vault.unpause();
            vm.expectRevert(err);
            vm.prank(who);
            vault.transferOwnership(who);
        }
    }

    function testWithdrawGoesToOwnerOnly() public {
        vm.prank(OWNER);
        vault.withdraw(address(usdt), 123);
        Assert.eq(usdt.balanceOf(OWNER), 123, "owner got USDT");
    }

    function testWithdrawOfEverythingCannotBeFrontRun() public {
        uint256 funds = tokenA.balanceOf(address(vault));
        // A leaked manager key front-runs the owner's exact-amount withdraw with a dust trade...
        _execute(_calls(_approve(address(tokenA), address(v2), 1),
                _v2Swap(1, 1, _path(address(tokenA), address(tokenB)), address(vault))),
            _bound(address(tokenA), 1), _bound(address(tokenB), 1));
        vm.expectRevert();
        vm.prank(OWNER);
        vault.withdraw(address(tokenA), funds);
        // ... but "all of it" still takes everything that is left.
        vm.prank(OWNER);
        vault.withdraw(address(tokenA), type(uint256).max);
        Assert.eq(tokenA.balanceOf(OWNER), funds - 1, "owner got the whole balance");
        Assert.eq(tokenA.balanceOf(address(vault)), 0, "vault emptied");
    }

    function testPoolsBelongToTheRoutersKind() public {
        vm.startPrank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.RouterNotSet.selector, address(unlisted)));
        vault.setPoolAllowed(address(unlisted), address(tokenA), address(tokenB), 0, true);
        vm.expectRevert(abi.encodeWithSelector(
            ITradeGuard.FeeNotValidForRouter.selector, address(v2), RouterKind.UniswapV2, uint24(500)));
        vault.setPoolAllowed(address(v2), address(tokenA), address(tokenB), 500, true);
        vm.expectRevert(abi.encodeWithSelector(
            ITradeGuard.FeeNotValidForRouter.selector, address(v3), RouterKind.UniswapV3SwapRouter, uint24(0)));
        vault.setPoolAllowed(address(v3), address(tokenA), address(tokenB), 0, true);

        // Setting the same kind again keeps the pools.
        vault.setRouter(address(v2), RouterKind.UniswapV2);
        Assert.isTrue(vault.isPoolAllowed(address(v2), address(tokenA), address(tokenB), 0), "unchanged kind");
        // Changing a router's kind forgets its pools, with an event; restoring the kind does NOT restore them.
        vm.expectEmit(address(vault));
        emit ITradeGuard.RouterPoolsCleared(address(v2), RouterKind.UniswapV2, 1);
        vault.setRouter(address(v2), RouterKind.UniswapV3SwapRouter02);
        Assert.isTrue(!vault.isPoolAllowed(address(v2), address(tokenA), address(tokenB), 0), "kind changed");
        vault.setRouter(address(v2), RouterKind.None);
        Assert.isTrue(!vault.isPoolAllowed(address(v2), address(tokenA), address(tokenB), 0), "router removed");
        vault.setRouter(address(v2), RouterKind.UniswapV2);
        Assert.isTrue(!vault.isPoolAllowed(address(v2), address(tokenA), address(tokenB), 0), "no silent revival");
        vm.stopPrank();
        _expectRefusal(
            _calls(_v2Swap(1, 1, _path(address(tokenA), address(tokenB)), address(vault))),
            _bound(address(tokenA), 1),
            _bound(address(tokenB), 1),
            abi.encodeWithSelector(ITradeGuard.PoolNotAllowed.selector, address(v2), address(tokenA), address(tokenB), uint24(0))
        );
        vm.prank(OWNER);
        vault.setPoolAllowed(address(v2), address(tokenA), address(tokenB), 0, true);
        Assert.isTrue(vault.isPoolAllowed(address(v2), address(tokenA), address(tokenB), 0), "allowed again explicitly");
    }

    function testRenounceDisabledAndTwoStepOwnership() public {
        vm.expectRevert(abi.encodeWithSelector(IVault.RenounceOwnershipDisabled.selector));
        vm.prank(OWNER);
        vault.renounceOwnership();
        vm.prank(OWNER);
        vault.transferOwnership(ATTACKER);
        Assert.isTrue(vault.owner() == OWNER, "owner until accepted");
        vm.prank(ATTACKER);
        vault.acceptOwnership();
        Assert.isTrue(vault.owner() == ATTACKER, "accepted");
    }

    function testPauseByManagerUnpauseByOwnerOnly() public {
        vm.prank(ATTACKER);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.NotOwnerOrAssetManager.selector, ATTACKER));
        vault.pause();
        vm.prank(MANAGER);
        vault.pause();
        Assert.isTrue(vault.paused(), "paused");
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 1)),
            _bound(address(tokenA), 1),
            _bound(address(tokenB), 1),
            abi.encodeWithSelector(ITradeGuard.VaultPaused.selector)
        );
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, MANAGER));
        vm.prank(MANAGER);
        vault.unpause();
        vm.prank(OWNER);
        vault.unpause();
        Assert.isTrue(!vault.paused(), "unpaused");
    }

    function testPauseAndUnpauseAreIdempotentWithOneEventEach() public {
        vm.recordLogs();
        vm.prank(MANAGER);
        vault.pause();
        vm.prank(OWNER);
        vault.pause(); // already paused: no second Paused, no revert
        Assert.eq(vm.getRecordedLogs().length, 1, "one Paused event");
        vm.prank(OWNER);
        vault.unpause();
        vm.prank(OWNER);
        vault.unpause(); // not paused: no revert, no event
        Assert.eq(vm.getRecordedLogs().length, 1, "one Unpaused event");
        Assert.isTrue(!vault.paused(), "unpaused");
    }

    function testSetAssetManagerReplacesTheHotWallet() public {
        vm.prank(OWNER);
        vault.setAssetManager(ATTACKER);
        Assert.isTrue(vault.assetManager() == ATTACKER, "new manager");
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 1)),
            _bound(address(tokenA), 1),
            _bound(address(tokenB), 1),
            abi.encodeWithSelector(ITradeGuard.NotAssetManager.selector, MANAGER)
        );
    }

    // ---------------------------------------------------------------- spend limits

    function testSpendLimitRefillsLinearly() public {
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), 150e18, 1 days);
        Assert.eq(vault.availableSpend(address(tokenA)), 150e18, "starts full");
        _swapA(100e18);
        Assert.eq(vault.availableSpend(address(tokenA)), 50e18, "consumed");
        _expectRefusal(
            _swapACalls(100e18),
            _bound(address(tokenA), 100e18),
            _bound(address(tokenB), 1),
            abi.encodeWithSelector(ITradeGuard.SpendLimitExceeded.selector, address(tokenA), 100e18, 50e18)
        );
        vm.warp(block.timestamp + 12 hours);
        Assert.eq(vault.availableSpend(address(tokenA)), 125e18, "half a period refills half the capacity");
        _swapA(100e18);
        vm.warp(block.timestamp + 10 days);
        Assert.eq(vault.availableSpend(address(tokenA)), 150e18, "capped at capacity");
    }

    function testSpendLimitChangeKeepsConsumption() public {
        vm.startPrank(OWNER);
        vault.setSpendLimit(address(tokenA), 100e18, 1 days);
        vm.stopPrank();
        _swapA(80e18);
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), 200e18, 1 days);
        Assert.eq(vault.availableSpend(address(tokenA)), 20e18, "raising the capacity does not refill at once");
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), 0, 0);
        Assert.eq(vault.availableSpend(address(tokenA)), type(uint256).max, "0 removes the limit");
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.BadSpendLimit.selector, 1, 0));
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), 1, 0);
    }

    function _swapACalls(uint256 amount) internal view returns (Call[] memory) {
        return _calls(_approve(address(tokenA), address(v2), amount), _v2Swap(amount, 1, _path(address(tokenA), address(tokenB)), address(vault)));
    }

    function _swapA(uint256 amount) internal {
        _execute(_swapACalls(amount), _bound(address(tokenA), amount), _bound(address(tokenB), 1));
    }
}
