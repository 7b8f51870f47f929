// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";
import {IVault, Call, AssetBound} from "../src/interfaces/IVault.sol";
import {ITradeGuard} from "../src/interfaces/ITradeGuard.sol";
import {IOracleGuard} from "../src/interfaces/IOracleGuard.sol";
import {TestToken} from "../src/mocks/TestToken.sol";
import {TickPrice} from "../src/libraries/TickPrice.sol";
import {MockRouter, MockTwapPool, ZeroRevertToken} from "./utils/Mocks.sol";
import {VaultBase} from "./utils/VaultBase.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @notice The oracle-priced loss bound: A = $3000, B = C = $1 (Chainlink's own MockV3Aggregator, 8
/// decimals), cap 1% of the value spent, budget $10,000 per day. The mock routers play the pools: an
/// attacker holding the key "sandwiches" by moving a router's rate before the vault's trade.
contract OracleGuardTest is VaultBase {
    uint256 internal constant CAP_BPS = 100;
    uint256 internal constant BUDGET = 10_000e18;
    uint256 internal constant HEARTBEAT = 1 hours;

    MockV3Aggregator internal feedA;
    MockV3Aggregator internal feedB;
    MockV3Aggregator internal feedC;

    function setUp() public override {
        super.setUp();
        feedA = new MockV3Aggregator(8, 3000e8);
        feedB = new MockV3Aggregator(8, 1e8);
        feedC = new MockV3Aggregator(8, 1e8);
        vm.startPrank(OWNER);
        vault.setPriceFeed(address(tokenA), address(feedA), HEARTBEAT);
        vault.setPriceFeed(address(tokenB), address(feedB), HEARTBEAT);
        vault.setPriceFeed(address(tokenC), address(feedC), HEARTBEAT);
        vault.setLossBound(CAP_BPS, BUDGET, 1 days);
        // Bounded by their prices now: no opt-in needed.
        vault.setUnboundedSpendAllowed(address(tokenA), false);
        vault.setUnboundedSpendAllowed(address(tokenB), false);
        vault.setUnboundedSpendAllowed(address(tokenC), false);
        vm.stopPrank();
        _setRates(3000, 1); // the fair price
    }

    function _setRates(uint256 num, uint256 den) internal {
        v2.setRate(num, den);
        v3.setRate(num, den);
        r02.setRate(num, den);
    }

    /// @dev Sell `amount` A for at least 1 B (a key that does not care) through router `r` (0 V2, 1 V3,
    /// 2 SwapRouter02, 3 V2 multi-hop A-B-C, 4 V3 multi-hop A-B-C).
    function _sell(uint256 r, uint256 amount) internal view returns (Call[] memory calls, address out) {
        address spender = r == 0 || r == 3 ? address(v2) : r == 2 ? address(r02) : address(v3);
        Call memory swap;
        out = address(tokenB);
        if (r == 0) swap = _v2Swap(amount, 1, _path(address(tokenA), address(tokenB)), address(vault));
        if (r == 1) swap = _v3Single(address(tokenA), address(tokenB), 3000, address(vault), amount, 1);
        if (r == 2) swap = _r02Single(address(tokenA), address(tokenB), 3000, address(vault), amount, 1);
        if (r == 3) swap = _v2Swap(amount, 1, _path(address(tokenA), address(tokenB), address(tokenC)), address(vault));
        if (r == 4) {
            bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(tokenB), uint24(500), address(tokenC));
            swap = _v3Path(path, address(vault), amount, 1);
        }
        if (r >= 3) out = address(tokenC);
        calls = _calls(_approve(address(tokenA), spender, amount), swap);
    }

    // ---------------------------------------------------------------- the sandwich

    function testSandwichRefusedByTheCapThroughEveryRouterKindAndMultiHop() public {
        _setRates(1, 1); // the attacker moved every pool: 1 A buys 1 B ($1) instead of 3000
        for (uint256 r; r < 5; ++r) {
            (Call[] memory calls, address out) = _sell(r, 300e18);
            uint256 valueSpent = 900_000e18;
            uint256 loss = valueSpent - 300e18;
            _expectRefusal(calls, _bound(address(tokenA), 300e18), _bound(out, 1),
                abi.encodeWithSelector(IOracleGuard.LossCapExceeded.selector, loss, valueSpent / 100, valueSpent));
        }
        Assert.eq(tokenA.balanceOf(address(vault)), FUNDS, "nothing left the vault");
    }

    function testFairTradeChargesItsLossToTheBudget() public {
        _setRates(2991, 1); // 0.3% worse than the oracle: within the 1% cap
        (Call[] memory calls,) = _sell(0, 100e18);
        _execute(calls, _bound(address(tokenA), 100e18), _bound(address(tokenB), 1));
        Assert.eq(vault.availableLossBudget(), BUDGET - 900e18, "loss of $900 charged");
    }

    function testPatientAttackerLosesAtMostTheBudgetPerPeriod() public {
        uint256 budget = 1_000e18;
        vm.prank(OWNER);
        vault.setLossBound(CAP_BPS, budget, 1 days);
        _setRates(2990, 1); // each trade of 10 A loses $100 (0.33%, under the cap)
        (Call[] memory calls,) = _sell(0, 10e18);
        uint256 vaultValueBefore = _vaultValue();
        for (uint256 k; k < 10; ++k) {
            _execute(calls, _bound(address(tokenA), 10e18), _bound(address(tokenB), 1));
        }
        Assert.eq(vault.availableLossBudget(), 0, "budget spent");
        _expectRefusal(calls, _bound(address(tokenA), 10e18), _bound(address(tokenB), 1),
            abi.encodeWithSelector(IOracleGuard.LossBudgetExceeded.selector, 100e18, 0));
        Assert.eq(vaultValueBefore - _vaultValue(), budget, "the vault lost exactly the budget");
        // The budget refills linearly: half a day, half the budget, 5 more trades.
        vm.warp(block.timestamp + 12 hours);
        feedA.updateAnswer(3000e8);
        feedB.updateAnswer(1e8);
        Assert.eq(vault.availableLossBudget(), budget / 2, "half refilled");
        (calls,) = _sell(0, 10e18); // a fresh deadline
        for (uint256 k; k < 5; ++k) {
            _execute(calls, _bound(address(tokenA), 10e18), _bound(address(tokenB), 1));
        }
        _expectRefusal(calls, _bound(address(tokenA), 10e18), _bound(address(tokenB), 1),
            abi.encodeWithSelector(IOracleGuard.LossBudgetExceeded.selector, 100e18, 0));
    }

    function _vaultValue() internal view returns (uint256) {
        return tokenA.balanceOf(address(vault)) * 3000 + tokenB.balanceOf(address(vault));
    }

    // ---------------------------------------------------------------- fail closed on bad prices

    function testStaleZeroAndNegativePricesRefuseNamingTheAsset() public {
        (Call[] memory calls,) = _sell(0, 1e18);
        AssetBound[] memory spend = _bound(address(tokenA), 1e18);
        AssetBound[] memory recv = _bound(address(tokenB), 1);

        feedA.updateAnswer(0);
        _expectRefusal(calls, spend, recv, abi.encodeWithSelector(IOracleGuard.PriceNotPositive.selector, address(tokenA), int256(0)));
        feedA.updateAnswer(-1);
        _expectRefusal(calls, spend, recv, abi.encodeWithSelector(IOracleGuard.PriceNotPositive.selector, address(tokenA), int256(-1)));
        feedA.updateAnswer(3000e8);
        uint256 updatedAt = 1_700_000_000; // setUp's time (a literal: via-IR may re-read block.timestamp)
        vm.warp(updatedAt + HEARTBEAT + 1);
        feedA.updateAnswer(3000e8); // A is fresh, B is now stale
        (calls,) = _sell(0, 1e18); // a fresh deadline
        _expectRefusal(calls, spend, recv,
            abi.encodeWithSelector(IOracleGuard.PriceStale.selector, address(tokenB), updatedAt, HEARTBEAT));
        feedB.updateAnswer(1e8);
        _execute(calls, spend, recv);
    }

    function testUnpricedAssetUnderTheBoundIsRefused() public {
        vm.prank(OWNER);
        vault.removePriceSource(address(tokenB));
        (Call[] memory calls,) = _sell(0, 1e18);
        _expectRefusal(calls, _bound(address(tokenA), 1e18), _bound(address(tokenB), 1),
            abi.encodeWithSelector(IOracleGuard.AssetNotPriced.selector, address(tokenB)));
    }

    function testOddDecimalsAreNormalised() public {
        TestToken usdc = new TestToken("USD Coin", "USDC", 6);
        TestToken wbtc = new TestToken("Wrapped BTC", "WBTC", 8);
        MockV3Aggregator feed18 = new MockV3Aggregator(18, 1e18); // $1 with 18 decimals
        MockV3Aggregator feed0 = new MockV3Aggregator(0, 60_000); // $60,000 with 0 decimals
        vm.startPrank(OWNER);
        vault.setPriceFeed(address(usdc), address(feed18), HEARTBEAT);
        vault.setPriceFeed(address(wbtc), address(feed0), HEARTBEAT);
        vm.stopPrank();
        address[] memory assets = new address[](3);
        (assets[0], assets[1], assets[2]) = (address(usdc), address(wbtc), address(tokenA));
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (2_500_000, 1e8 / 2, 1e18); // 2.5 USDC, 0.5 WBTC, 1 A
        (uint256 valueSpent,,,) = vault.quoteLoss(assets, amounts, new address[](0), new uint256[](0));
        Assert.eq(valueSpent, 2.5e18 + 30_000e18 + 3000e18, "values in 18-decimal USD");
    }

    function testSequencerDownAndGracePeriod() public {
        MockV3Aggregator uptime = new MockV3Aggregator(0, 0); // 0: up, started now
        vm.prank(OWNER);
        vault.setSequencerFeed(address(uptime), 1 hours);
        (Call[] memory calls,) = _sell(0, 1e18);
        AssetBound[] memory spend = _bound(address(tokenA), 1e18);
        AssetBound[] memory recv = _bound(address(tokenB), 1);
        _expectRefusal(calls, spend, recv,
            abi.encodeWithSelector(IOracleGuard.SequencerGracePeriod.selector, block.timestamp, 1 hours));
        uptime.updateAnswer(1);
        _expectRefusal(calls, spend, recv, abi.encodeWithSelector(IOracleGuard.SequencerDown.selector));
    }

    // ---------------------------------------------------------------- TWAP

    function testTwapManipulatedInOneBlockKeepsTheBound() public {
        // C is priced by a V3 pool C/B over 30 minutes, B by its feed; C's fair price is 1 B (tick 0).
        MockTwapPool pool = new MockTwapPool(address(tokenC), address(tokenB), 0);
        vm.warp(block.timestamp + 1 hours);
        feedA.updateAnswer(3000e8);
        feedB.updateAnswer(1e8);
        vm.startPrank(OWNER);
        vault.removePriceSource(address(tokenC));
        vm.expectRevert(abi.encodeWithSelector(IOracleGuard.TwapWindowTooShort.selector, 60, 300));
        vault.setPriceTwap(address(tokenC), address(pool), 60);
        vault.setPriceTwap(address(tokenC), address(pool), 30 minutes);
        vm.stopPrank();
        tokenC.mint(address(vault), 1000e18);

        (uint256 fair,,,) = _quote(address(tokenC), 1000e18);
        Assert.isTrue(fair > 999e18 && fair <= 1000e18, "C ~ $1 from the TWAP");
        // The attacker crashes C in this block (tick -> C worth 1/1000 B) and sells the vault's C into it.
        bool cIsToken0 = address(tokenC) < address(tokenB);
        pool.setTick(cIsToken0 ? int24(-69078) : int24(69078));
        (uint256 same,,,) = _quote(address(tokenC), 1000e18);
        Assert.eq(same, fair, "same-block manipulation does not move the TWAP");
        v2.setRate(1, 1000);
        vm.prank(OWNER);
        vault.setPoolAllowed(address(v2), address(tokenC), address(tokenB), 0, true);
        Call[] memory calls = _calls(
            _approve(address(tokenC), address(v2), 1000e18),
            _v2Swap(1000e18, 1, _path(address(tokenC), address(tokenB)), address(vault))
        );
        uint256 loss = fair - 1e18;
        _expectRefusal(calls, _bound(address(tokenC), 1000e18), _bound(address(tokenB), 1),
            abi.encodeWithSelector(IOracleGuard.LossCapExceeded.selector, loss, fair / 100, fair));
        // Held for a whole window the manipulation would move the TWAP: that costs the attacker 30 minutes
        // of arbitrage against the pool, and each execute is still capped by value and by the budget.
    }

    function testTwapNeedsAFeedPricedQuote() public {
        MockTwapPool pool = new MockTwapPool(address(tokenC), address(unlisted), 0);
        vm.expectRevert(abi.encodeWithSelector(IOracleGuard.TwapQuoteNotFeedPriced.selector, address(tokenC), address(unlisted)));
        vm.prank(OWNER);
        vault.setPriceTwap(address(tokenC), address(pool), 30 minutes);
    }

    function testTickPriceConversion() public pure {
        Assert.eq(TickPrice.convert(1e18, 0, false), 1e18, "tick 0");
        uint256 twice = TickPrice.convert(1e18, 6932, false); // 1.0001^6932 = 2.00001...
        Assert.isTrue(twice > 2.0000e18 && twice < 2.0001e18, "tick 6932 doubles");
        uint256 half = TickPrice.convert(1e18, -6932, true);
        Assert.isTrue(half > 0.49997e18 && half < 0.5e18, "tick -6932 halves");
    }

    function _quote(address asset, uint256 amount) internal view returns (uint256, uint256, uint256, uint256) {
        address[] memory assets = new address[](1);
        assets[0] = asset;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        return vault.quoteLoss(assets, amounts, new address[](0), new uint256[](0));
    }

    // ---------------------------------------------------------------- bounded by default

    function testUnboundedSpendAssetNeedsTheOwnersOptIn() public {
        vm.prank(OWNER);
        vault.disableLossBound();
        (Call[] memory calls,) = _sell(0, 1e18);
        AssetBound[] memory spend = _bound(address(tokenA), 1e18);
        AssetBound[] memory recv = _bound(address(tokenB), 1);
        _expectRefusal(calls, spend, recv, abi.encodeWithSelector(ITradeGuard.AssetUnbounded.selector, address(tokenA)));
        // A spend limit bounds it ...
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), 10e18, 1 days);
        _execute(calls, spend, recv);
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), 0, 0);
        _expectRefusal(calls, spend, recv, abi.encodeWithSelector(ITradeGuard.AssetUnbounded.selector, address(tokenA)));
        // ... or the explicit opt-in, with its own event.
        vm.expectEmit(address(vault));
        emit ITradeGuard.UnboundedSpendAllowedSet(address(tokenA), true);
        vm.prank(OWNER);
        vault.setUnboundedSpendAllowed(address(tokenA), true);
        _execute(calls, spend, recv);
    }

    // ---------------------------------------------------------------- review fixes

    function testIncidentBatchSucceedsAfterTheKeyActsFirst() public {
        ZeroRevertToken zr = new ZeroRevertToken();
        zr.mint(address(vault), 100e18);
        vm.startPrank(OWNER);
        vault.setAssetAllowed(address(zr), true);
        vault.setUnboundedSpendAllowed(address(zr), true);
        vault.setPoolAllowed(address(v2), address(zr), address(tokenB), 0, true);
        vm.stopPrank();
        vm.prank(OWNER);
        vault.disableLossBound(); // zr has no price
        v2.setRate(1, 1);
        // The key acts first: it sells all of the zero-reverting token and pauses.
        _execute(_calls(_approve(address(zr), address(v2), 100e18),
                _v2Swap(100e18, 1, _path(address(zr), address(tokenB)), address(vault))),
            _bound(address(zr), 100e18), _bound(address(tokenB), 1));
        vm.prank(MANAGER);
        vault.pause();
        // The owner's incident batch: pause, withdraw all of every asset, rotate the key. Nothing reverts.
        vm.startPrank(OWNER);
        vault.pause();
        vault.withdraw(address(zr), type(uint256).max);
        vault.withdraw(address(tokenA), type(uint256).max);
        vault.withdraw(address(tokenB), type(uint256).max);
        vault.setAssetManager(address(0));
        vm.stopPrank();
        Assert.eq(tokenA.balanceOf(OWNER), FUNDS, "owner has the A");
        Assert.eq(tokenB.balanceOf(OWNER), 100e18, "owner has the B");
        Assert.isTrue(vault.assetManager() == address(0) && vault.paused(), "key rotated, paused");
    }

    function testWithdrawEthRescuesForcedEth() public {
        vm.deal(address(vault), 1 ether);
        vm.expectRevert();
        vm.prank(MANAGER);
        vault.withdrawEth();
        uint256 before = OWNER.balance;
        vm.prank(OWNER);
        vault.withdrawEth();
        Assert.eq(OWNER.balance - before, 1 ether, "owner got the ETH");
        Assert.eq(address(vault).balance, 0, "vault has none");
    }

    // ---------------------------------------------------------------- properties

    /// @dev A successful execute never loses more than the cap of its value spent (at the oracle price).
    function testFuzzSuccessNeverLosesMoreThanTheCap(uint96 amountIn, uint16 rate, uint8 router) public {
        vm.assume(rate > 0);
        amountIn = uint96(amountIn % 1e19 + 1e9); // the mock routers hold 1e24 of each token
        vm.prank(OWNER);
        vault.setLossBound(CAP_BPS, type(uint128).max, 1 days); // only the cap binds
        _setRates(rate, 1);
        uint256 r = router % 5;
        (Call[] memory calls, address out) = _sell(r, amountIn);
        vm.prank(MANAGER);
        try vault.execute(calls, _bound(address(tokenA), amountIn), _bound(out, 1)) returns (
            uint256[] memory spent, uint256[] memory received
        ) {
            uint256 valueSpent = spent[0] * 3000;
            uint256 valueReceived = received[0];
            uint256 loss = valueSpent > valueReceived ? valueSpent - valueReceived : 0;
            Assert.isTrue(loss * 10_000 <= valueSpent * CAP_BPS, "loss within the cap");
            Assert.isTrue(rate >= 2970, "only a rate within 1% of the oracle passes");
        } catch {
            Assert.isTrue(rate < 2970, "a rate within 1% passes");
        }
    }

    /// @dev Whatever the trades, waits and reconfigurations, the budget never exceeds its capacity.
    function testFuzzBudgetNeverExceedsCapacity(uint64 capacity, uint16[4] memory rates, uint32[4] memory waits, uint64 newCapacity)
        public
    {
        vm.assume(capacity > 0);
        vm.prank(OWNER);
        vault.setLossBound(CAP_BPS, capacity, 1 days);
        for (uint256 k; k < 4; ++k) {
            vm.warp(block.timestamp + waits[k] % 2 days);
            feedA.updateAnswer(3000e8);
            feedB.updateAnswer(1e8);
            _setRates(2970 + rates[k] % 60, 1);
            (Call[] memory calls,) = _sell(0, 1e15);
            vm.prank(MANAGER);
            try vault.execute(calls, _bound(address(tokenA), 1e15), _bound(address(tokenB), 1)) {} catch {}
            Assert.isTrue(vault.availableLossBudget() <= capacity, "budget <= capacity");
            if (k == 1) {
                vm.prank(OWNER);
                vault.setLossBound(CAP_BPS, newCapacity, 1 days);
                capacity = newCapacity;
                Assert.isTrue(vault.availableLossBudget() <= capacity, "budget <= new capacity");
            }
        }
    }
}
