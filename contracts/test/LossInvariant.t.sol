// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";
import {Vault} from "../src/Vault.sol";
import {Call, AssetBound} from "../src/interfaces/IVault.sol";
import {HookToken, MockRouter} from "./utils/Mocks.sol";
import {VaultBase} from "./utils/VaultBase.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @notice The only contract the invariant run calls: trades at random rates and sizes (the key, honest or
/// sandwiching), waits, and owner reconfigurations of the bound. Records every successful execute's loss.
contract LossHandler {
    address internal constant OWNER = address(0xA11CE);
    address internal constant MANAGER = address(0xB0B);

    Vault internal immutable vault;
    HookToken internal immutable tokenA;
    HookToken internal immutable tokenB;
    MockRouter internal immutable router;
    MockV3Aggregator internal immutable feedA;
    MockV3Aggregator internal immutable feedB;

    uint256 public capBps = 100;
    uint256 public capacity = 10_000e18;
    /// @notice Set if a successful execute lost more than the cap of its value spent.
    bool public capViolated;
    uint256 public successes;

    constructor(Vault v, HookToken a, HookToken b, MockRouter r, MockV3Aggregator fa, MockV3Aggregator fb) {
        (vault, tokenA, tokenB, router, feedA, feedB) = (v, a, b, r, fa, fb);
    }

    function trade(uint256 amount, uint256 rate) external {
        amount = 1e15 + amount % 1e19; // the mock router holds 1e24 of B
        rate = 1 + rate % 3100; // B per A; the oracle says 3000
        router.setRate(rate, 1);
        Call[] memory calls = new Call[](2);
        calls[0] = Call(address(tokenA), abi.encodeWithSignature("approve(address,uint256)", address(router), amount));
        address[] memory path = new address[](2);
        (path[0], path[1]) = (address(tokenA), address(tokenB));
        calls[1] = Call(address(router), abi.encodeWithSignature(
            "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)", amount, 1, path, address(vault), block.timestamp));
        AssetBound[] memory spend = new AssetBound[](1);
        spend[0] = AssetBound(address(tokenA), amount);
        AssetBound[] memory receive_ = new AssetBound[](1);
        receive_[0] = AssetBound(address(tokenB), 1);
        vm.prank(MANAGER);
        try vault.execute(calls, spend, receive_) returns (uint256[] memory spent, uint256[] memory received) {
            uint256 valueSpent = spent[0] * 3000;
            uint256 loss = valueSpent > received[0] ? valueSpent - received[0] : 0;
            if (loss * 10_000 > valueSpent * capBps) capViolated = true;
            ++successes;
        } catch {}
    }

    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + seconds_ % 2 days);
        feedA.updateAnswer(3000e8);
        feedB.updateAnswer(1e8);
    }

    function reconfigure(uint256 newCap, uint256 newCapacity) external {
        (capBps, capacity) = (newCap % 501, 1 + newCapacity % 1e22);
        vm.prank(OWNER);
        vault.setLossBound(capBps, capacity, 1 days);
    }
}

/// @notice Invariants of the loss bound over random sequences of trades, waits and reconfigurations.
contract LossInvariantTest is VaultBase {
    LossHandler internal handler;

    function setUp() public override {
        super.setUp();
        MockV3Aggregator feedA = new MockV3Aggregator(8, 3000e8);
        MockV3Aggregator feedB = new MockV3Aggregator(8, 1e8);
        vm.startPrank(OWNER);
        vault.setPriceFeed(address(tokenA), address(feedA), 1 hours);
        vault.setPriceFeed(address(tokenB), address(feedB), 1 hours);
        vault.setLossBound(100, 10_000e18, 1 days);
        vault.setUnboundedSpendAllowed(address(tokenA), false);
        vm.stopPrank();
        handler = new LossHandler(vault, tokenA, tokenB, v2, feedA, feedB);
    }

    /// @dev Read by forge: only the handler is called.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_successNeverLosesMoreThanTheCap() public view {
        Assert.isTrue(!handler.capViolated(), "a success lost more than the cap");
    }

    function invariant_budgetNeverExceedsCapacity() public view {
        Assert.isTrue(vault.availableLossBudget() <= handler.capacity(), "budget above capacity");
    }
}
