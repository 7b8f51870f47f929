// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Vault} from "../src/Vault.sol";
import {IVault, AssetBound} from "../src/interfaces/IVault.sol";
import {ITradeGuard} from "../src/interfaces/ITradeGuard.sol";
import {IDirectSwap, DirectProtocol, DirectRoute} from "../src/interfaces/IDirectSwap.sol";
import {HookToken} from "./utils/Mocks.sol";
import {FeeToken, ReenterToken, MockV3Factory, HostileV3Pool} from "./utils/DirectMocks.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @dev Cheatcodes only this file uses (at the same address as `vm`).
interface VmFiles {
    function readFile(string calldata path) external view returns (string memory);
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function parseBytes(string calldata value) external pure returns (bytes memory);
}

VmFiles constant vmFiles = VmFiles(address(uint160(uint256(keccak256("hevm cheat code")))));

interface IV2Factory {
    function createPair(address tokenA, address tokenB) external returns (address pair);
}

interface IV2Pair {
    function mint(address to) external returns (uint256 liquidity);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
    function skim(address to) external;
    function getReserves() external view returns (uint112, uint112, uint32);
}

interface IV3Factory {
    function createPool(address tokenA, address tokenB, uint24 fee) external returns (address pool);
}

interface IV3Pool {
    function initialize(uint160 sqrtPriceX96) external;
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount, bytes calldata data)
        external
        returns (uint256, uint256);
    function token0() external view returns (address);
}

/// @notice The direct path (`executeDirect`) on the real Uniswap V2 pair and V3 pool bytecode from npm,
/// and the adversarial suite (hostile pools, tokens and callers), each refused with its expected error.
contract DirectSwapTest {
    address internal constant OWNER = address(0xA11CE);
    address internal constant MANAGER = address(0xB0B);
    uint256 internal constant FUNDS = 1_000_000e18;
    uint256 internal constant LIQ = 10_000_000e18;

    Vault internal vault;
    HookToken internal a;
    HookToken internal b;
    HookToken internal c;
    FeeToken internal fot;
    ReenterToken internal hook;
    IV2Factory internal v2f;
    IV3Factory internal v3f;
    MockV3Factory internal mockf;
    address internal pAB;
    address internal pBC;
    address internal qAB;
    address internal qBC;
    address internal pFotB; // V2 fot/B
    address internal pAFot; // V2 A/fot
    address internal pHookB; // V2 hook/B
    address internal pAHook; // V2 A/hook
    HostileV3Pool internal evil; // A/B under the mock factory
    HostileV3Pool internal evil2; // B/C under the mock factory
    address private _mint0;
    address private _mint1;

    function setUp() public {
        vm.warp(1_700_000_000);
        a = new HookToken("A");
        b = new HookToken("B");
        c = new HookToken("C");
        fot = new FeeToken();
        hook = new ReenterToken();
        vault = new Vault(OWNER, MANAGER);

        v2f = IV2Factory(_deploy(
            abi.encodePacked(_v2FactoryCode(), abi.encode(address(this)))
        ));
        v3f = IV3Factory(_deploy(vm.getCode(
            "../node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"
        )));
        mockf = new MockV3Factory();

        pAB = _pair(address(a), address(b));
        pBC = _pair(address(b), address(c));
        pFotB = _pair(address(fot), address(b));
        pAFot = _pair(address(a), address(fot));
        pHookB = _pair(address(hook), address(b));
        pAHook = _pair(address(a), address(hook));
        qAB = _pool(address(a), address(b));
        qBC = _pool(address(b), address(c));
        evil = new HostileV3Pool(address(a), address(b));
        evil2 = new HostileV3Pool(address(b), address(c));
        mockf.register(address(evil), address(a), address(b), 3000);
        mockf.register(address(evil2), address(b), address(c), 3000);
        a.mint(address(evil), LIQ);
        b.mint(address(evil), LIQ);
        b.mint(address(evil2), LIQ);
        c.mint(address(evil2), LIQ);

        vm.startPrank(OWNER);
        address[5] memory assets = [address(a), address(b), address(c), address(fot), address(hook)];
        for (uint256 i; i < assets.length; ++i) {
            vault.setAssetAllowed(assets[i], true);
            vault.setUnboundedSpendAllowed(assets[i], true);
        }
        _allowV2(address(a), address(b));
        _allowV2(address(b), address(c));
        _allowV2(address(fot), address(b));
        _allowV2(address(a), address(fot));
        _allowV2(address(hook), address(b));
        _allowV2(address(a), address(hook));
        vault.setDirectPoolAllowed(address(v3f), DirectProtocol.UniswapV3, address(a), address(b), 3000, true);
        vault.setDirectPoolAllowed(address(v3f), DirectProtocol.UniswapV3, address(b), address(c), 3000, true);
        vault.setDirectPoolAllowed(address(mockf), DirectProtocol.UniswapV3, address(a), address(b), 3000, true);
        vault.setDirectPoolAllowed(address(mockf), DirectProtocol.UniswapV3, address(b), address(c), 3000, true);
        vm.stopPrank();

        a.mint(address(vault), FUNDS);
        b.mint(address(vault), FUNDS); // intermediate stock a hostile hop could try to take
        fot.mint(address(vault), FUNDS);
        hook.mint(address(vault), FUNDS);
    }

    // ================================================================ happy paths: exact to the wei

    function testV2SingleHopPaysTheFormulaToTheVault() public {
        uint256 amountIn = 1_000e18;
        (uint112 r0, uint112 r1,) = IV2Pair(pAB).getReserves();
        (uint256 rIn, uint256 rOut) = address(a) < address(b) ? (r0, r1) : (r1, r0);
        uint256 expected = amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997); // UniswapV2Library.getAmountOut
        (uint256[] memory spent, uint256[] memory received) = _execRoute(_route2(a, b, pAB, amountIn), a, amountIn, b);
        Assert.eq(spent[0], amountIn, "spent");
        Assert.eq(received[0], expected, "received = getAmountOut");
        Assert.eq(b.balanceOf(address(vault)), FUNDS + expected, "vault balance");
    }

    /// @dev Gas: one storage slot per trade-relevant item, and nothing of the oracle guard while the loss
    /// bound is off (slot 1: its config, slot 2: its budget).
    function testTradeReadsOneSlotPerItemAndNoLossBoundWhenOff() public {
        vm.record();
        _execRoute(_route2(a, b, pAB, 1e18), a, 1e18, b);
        (bytes32[] memory reads,) = vm.accesses(address(vault));
        bytes32[] memory seen = new bytes32[](reads.length);
        uint256 distinct;
        for (uint256 i; i < reads.length; ++i) {
            Assert.isTrue(reads[i] != bytes32(uint256(1)) && reads[i] != bytes32(uint256(2)), "loss bound read while off");
            bool dup;
            for (uint256 j; j < distinct; ++j) {
                if (seen[j] == reads[i]) dup = true;
            }
            if (!dup) seen[distinct++] = reads[i];
        }
        Assert.eq(distinct, 4, "slots read: manager and flags, spend asset, receive asset, pool");
    }

    function testV3SingleHop() public {
        uint256 amountIn = 1_000e18;
        uint256 before = b.balanceOf(address(vault));
        (uint256[] memory spent, uint256[] memory received) = _execRoute(_route2(a, b, qAB, amountIn), a, amountIn, b);
        Assert.eq(spent[0], amountIn, "spent exactly the input");
        Assert.isTrue(received[0] > 990e18 && received[0] < amountIn, "about 0.3% fee");
        Assert.eq(b.balanceOf(address(vault)), before + received[0], "vault balance");
        Assert.eq(IERC20(address(a)).allowance(address(vault), qAB), 0, "no allowance");
    }

    function testTwoHopRoutesEveryMix() public {
        address[2][4] memory mixes = [[pAB, pBC], [qAB, qBC], [qAB, pBC], [pAB, qBC]];
        for (uint256 m; m < mixes.length; ++m) {
            uint256 cBefore = c.balanceOf(address(vault));
            uint256 bBefore = b.balanceOf(address(vault));
            DirectRoute memory r = _route3(a, b, c, mixes[m][0], mixes[m][1], 100e18);
            (uint256[] memory spent, uint256[] memory received) = _execRoute(r, a, 100e18, c);
            Assert.eq(spent[0], 100e18, "spent");
            Assert.isTrue(received[0] > 98e18, "received about 99.4%");
            Assert.eq(c.balanceOf(address(vault)), cBefore + received[0], "output in the vault");
            Assert.eq(b.balanceOf(address(vault)), bBefore, "intermediate untouched");
        }
    }

    function testTwoRoutesInOneCallSettleTogether() public {
        DirectRoute[] memory routes = new DirectRoute[](2);
        routes[0] = _route2(a, b, pAB, 10e18);
        routes[1] = _route3(a, b, c, qAB, pBC, 5e18);
        AssetBound[] memory receive_ = new AssetBound[](2);
        (receive_[0], receive_[1]) = (AssetBound(address(b), 1), AssetBound(address(c), 1));
        uint256 bBefore = b.balanceOf(address(vault));
        vault.checkExecuteDirect(routes, _bound(a, 15e18), receive_);
        vm.prank(MANAGER);
        (uint256[] memory spent, uint256[] memory received) = vault.executeDirect(routes, _bound(a, 15e18), receive_);
        Assert.eq(spent[0], 15e18, "both inputs");
        Assert.eq(b.balanceOf(address(vault)), bBefore + received[0], "B: the first route's output");
        Assert.eq(c.balanceOf(address(vault)), received[1], "C: the second route's output");
        // Together they may not spend more than declared, although each route alone fits.
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.SpendExceeded.selector, address(a), 15e18, 12e18));
        vm.prank(MANAGER);
        vault.executeDirect(_twoOf(routes), _bound(a, 12e18), receive_);
    }

    function testRouteShapeLimits() public {
        DirectRoute memory r = _route2(a, b, pAB, 1e18);
        r.pools = new address[](0);
        r.tokens = new address[](1);
        r.tokens[0] = address(a);
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.BadRoute.selector, 0));
        vault.checkExecuteDirect(_one(r), _bound(a, 1e18), _bound(b, 1));
        r.pools = new address[](5);
        r.tokens = new address[](6);
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.BadRoute.selector, 0));
        vault.checkExecuteDirect(_one(r), _bound(a, 1e18), _bound(b, 1));
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.BadCallCount.selector, 0, 8));
        vault.checkExecuteDirect(new DirectRoute[](0), _bound(a, 1e18), _bound(b, 1));
    }

    function testSpendLimitAppliesToTheDirectPath() public {
        vm.prank(OWNER);
        vault.setSpendLimit(address(a), 50e18, 1 days);
        DirectRoute memory r = _route2(a, b, pAB, 60e18);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.SpendLimitExceeded.selector, address(a), 60e18, 50e18));
        _execRoute(r, a, 60e18, b);
        _execRoute(_route2(a, b, pAB, 50e18), a, 50e18, b);
        Assert.eq(vault.availableSpend(address(a)), 0, "limit consumed");
    }

    function testMinOutMaxInDeadlineAndDeclarations() public {
        DirectRoute memory r = _route2(a, b, pAB, 10e18);
        r.amountOutMin = 10e18; // more than the pool gives
        vm.expectRevert(); // RouteOutputTooLow(0, out, 10e18): out is checked below
        _execRoute(r, a, 10e18, b);
        r.amountOutMin = 1;
        r.deadline = block.timestamp - 1;
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.DeadlinePassed.selector, 0, block.timestamp - 1));
        _execRoute(r, a, 10e18, b);
        r.deadline = block.timestamp;
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.AmountExceedsMaxSpend.selector, 0, address(a), 10e18, 9e18));
        _execRoute(r, a, 9e18, b);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.NotDeclaredAsReceive.selector, 0, address(b)));
        _execRoute(r, a, 10e18, c);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.NotAssetManager.selector, address(0xBAD)));
        vm.prank(address(0xBAD));
        vault.executeDirect(_one(r), _bound(a, 10e18), _bound(b, 1));
    }

    function testRouteOutputTooLowNamesTheAmount() public {
        DirectRoute memory r = _route2(a, b, pAB, 10e18);
        r.amountOutMin = 10e18;
        (uint112 r0, uint112 r1,) = IV2Pair(pAB).getReserves();
        (uint256 rIn, uint256 rOut) = address(a) < address(b) ? (r0, r1) : (r1, r0);
        uint256 out = vault.v2AmountOut(10e18, rIn, rOut, 3000);
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.RouteOutputTooLow.selector, 0, out, 10e18));
        _execRoute(r, a, 10e18, b);
    }

    // ================================================================ adversarial: pools

    function testPoolUnknownToItsFactoryCannotBeAllowedOrUsed() public {
        // Right tokens, but no factory made it: the owner cannot allow it, the manager cannot route through it.
        HostileV3Pool fake = new HostileV3Pool(address(a), address(c));
        vm.prank(OWNER);
        vm.expectRevert(
            abi.encodeWithSelector(IDirectSwap.PoolUnknownToFactory.selector, address(v3f), address(a), address(c), 3000)
        );
        vault.setDirectPoolAllowed(address(v3f), DirectProtocol.UniswapV3, address(a), address(c), 3000, true);
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.DirectPoolNotAllowed.selector, address(fake), address(a), address(c)));
        _execRoute(_route2(a, c, address(fake), 1e18), a, 1e18, c);
        // An allowed pool used for other tokens than its own.
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.DirectPoolNotAllowed.selector, pAB, address(a), address(c)));
        _execRoute(_route2(a, c, pAB, 1e18), a, 1e18, c);
    }

    function testCallbackFromAnEoaOrOutsideASwapIsRefused() public {
        vm.prank(address(0xE0A));
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, address(0xE0A)));
        vault.uniswapV3SwapCallback(1e18, -1e18, "");
        // The right pool, no swap running.
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, address(evil)));
        evil.poke(address(vault), 1e18, 0);
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, qAB));
        vm.prank(qAB);
        vault.uniswapV3SwapCallback(1e18, 0, "");
    }

    function testCallbackFromAnotherAllowedPoolIsRefused() public {
        evil.setMode(HostileV3Pool.Mode.OtherPool, address(evil2), "");
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, address(evil2)));
        _execRoute(_route2(a, b, address(evil), 1e18), a, 1e18, b);
    }

    function testSecondCallbackInOneSwapIsRefused() public {
        evil.setMode(HostileV3Pool.Mode.Twice, address(0), "");
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, address(evil)));
        _execRoute(_route2(a, b, address(evil), 1e18), a, 1e18, b);
    }

    function testCallbackAskingMoreThanTheHopInputIsRefused() public {
        evil.setMode(HostileV3Pool.Mode.AskMore, address(0), "");
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.CallbackAmountTooHigh.selector, 1e18 + 1, 1e18));
        _execRoute(_route2(a, b, address(evil), 1e18), a, 1e18, b);
    }

    function testPoolThatSkipsTheCallbackIsRefused() public {
        evil.setMode(HostileV3Pool.Mode.SkipCallback, address(0), "");
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.CallbackNotCalled.selector, address(evil)));
        _execRoute(_route2(a, b, address(evil), 1e18), a, 1e18, b);
    }

    function testReentrantCallbackIsRefused() public {
        DirectRoute memory r = _route2(a, b, qAB, 1e18);
        bytes memory again = abi.encodeCall(IDirectSwap.executeDirect, (_one(r), _bound(a, 1e18), _bound(b, 1)));
        evil.setMode(HostileV3Pool.Mode.Reenter, address(0), again);
        vm.expectRevert(ITradeGuard.ReentrantCall.selector);
        _execRoute(_route2(a, b, address(evil), 1e18), a, 1e18, b);
    }

    function testHopThatUnderDeliversCannotTakeTheVaultsIntermediateStock() public {
        // evil (A->B) reports 1e18 out but sends half; the next hop (real B->C pool) is owed 1e18 of B: paid
        // from the vault's own B stock, which the intermediate check refuses.
        evil.setMode(HostileV3Pool.Mode.UnderDeliver, address(0), "");
        uint256 stock = b.balanceOf(address(vault));
        vm.expectRevert(
            abi.encodeWithSelector(ITradeGuard.UndeclaredAssetDecreased.selector, address(b), stock, stock - 0.5e18)
        );
        _execRoute(_route3(a, b, c, address(evil), qBC, 1e18), a, 1e18, c);
        // Single hop: the receive check refuses it.
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.ReceiveTooLow.selector, address(b), 0.5e18, 1e18));
        _exec(_route2(a, b, address(evil), 1e18), a, 1e18, b, 1e18);
    }

    function testPathThatRepeatsATokenIsRefused() public {
        // A -> B -> C -> B: the last hop would pay B back out of what the route made.
        address[] memory tokens = new address[](4);
        (tokens[0], tokens[1], tokens[2], tokens[3]) = (address(a), address(b), address(c), address(b));
        address[] memory pools = new address[](3);
        (pools[0], pools[1], pools[2]) = (pAB, pBC, pBC);
        DirectRoute memory r = DirectRoute(tokens, pools, 1e18, 1, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.InvalidPath.selector, 0));
        vault.checkExecuteDirect(_one(r), _bound(a, 1e18), _bound(b, 1));
        // A malformed route: tokens.length != pools.length + 1.
        r.pools = new address[](1);
        r.pools[0] = pAB;
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.BadRoute.selector, 0));
        vault.checkExecuteDirect(_one(r), _bound(a, 1e18), _bound(b, 1));
    }

    function testOutputOnlyEverReachesTheVault() public {
        // No recipient in a route: the last hop of every protocol pays the vault; nobody else gains.
        uint256 out = _exec(_route3(a, b, c, qAB, pBC, 10e18), a, 10e18, c, 0).received0;
        Assert.eq(c.balanceOf(address(vault)), out, "V2 last hop to the vault");
        uint256 out2 = _exec(_route3(a, b, c, pAB, qBC, 10e18), a, 10e18, c, 0).received0;
        Assert.eq(c.balanceOf(address(vault)), out + out2, "V3 last hop to the vault");
        Assert.eq(c.balanceOf(MANAGER), 0, "manager");
    }

    // ================================================================ adversarial: tokens

    function testFeeOnTransferFirstHopIsRefusedByThePair() public {
        vm.expectRevert(bytes("UniswapV2: K"));
        _execRoute(_route2(fot, b, pFotB, 1e18), fot, 1e18, b);
    }

    function testFeeOnTransferMiddleHopIsRefusedByThePair() public {
        vm.expectRevert(bytes("UniswapV2: K"));
        _execRoute(_route3(a, fot, b, pAFot, pFotB, 1e18), a, 1e18, b);
    }

    function testFeeOnTransferLastHopIsRefusedByTheReceiveCheck() public {
        DirectRoute memory r = _route2(b, fot, address(0), 1e18);
        r.pools[0] = pFotB;
        (uint112 r0, uint112 r1,) = IV2Pair(pFotB).getReserves();
        (uint256 rIn, uint256 rOut) = address(b) < address(fot) ? (r0, r1) : (r1, r0);
        uint256 out = vault.v2AmountOut(1e18, rIn, rOut, 3000);
        uint256 got = out - out / 100;
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.ReceiveTooLow.selector, address(fot), got, out));
        _exec(r, b, 1e18, fot, out);
    }

    function testDonatedBalanceInAPairDoesNotChangeWhatTheVaultGets() public {
        b.mint(pAB, 5e18); // donation: surplus the pair keeps
        (uint112 r0, uint112 r1,) = IV2Pair(pAB).getReserves();
        (uint256 rIn, uint256 rOut) = address(a) < address(b) ? (r0, r1) : (r1, r0);
        uint256 expected = vault.v2AmountOut(1e18, rIn, rOut, 3000);
        Assert.eq(_exec(_route2(a, b, pAB, 1e18), a, 1e18, b, 0).received0, expected, "reserves, not balances");
    }

    function testSkimBetweenHopsIsRefusedByThePair() public {
        // A -> HOOK (pair 1 sends HOOK to pair 2) -> B; the HOOK transfer skims pair 2 to an attacker.
        hook.arm(pHookB, abi.encodeCall(IV2Pair.skim, (address(0xBAD))));
        vm.expectRevert(bytes("UniswapV2: INSUFFICIENT_INPUT_AMOUNT"));
        _execRoute(_route3(a, hook, b, pAHook, pHookB, 1e18), a, 1e18, b);
    }

    function testHookTokenReenteringDuringTheSwapIsRefused() public {
        DirectRoute memory r = _route2(hook, b, pHookB, 1e18);
        hook.arm(address(vault), abi.encodeCall(IDirectSwap.executeDirect, (_one(r), _bound(hook, 1e18), _bound(b, 1))));
        vm.expectRevert(ITradeGuard.ReentrantCall.selector);
        _execRoute(r, hook, 1e18, b);
        // Re-entering the callback from a token hook while a V3 hop pays is refused too.
        hook.arm(address(vault), abi.encodeCall(IDirectSwap.uniswapV3SwapCallback, (1e18, 1e18, "")));
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, address(hook)));
        _execRoute(r, hook, 1e18, b);
    }

    // ================================================================ fuzz: the V2 output vs the pair's K check

    function testFuzzV2OutputIsTheMostThePairAccepts(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) public {
        reserveIn = 1e6 + reserveIn % 1e30;
        reserveOut = 1e6 + reserveOut % 1e30;
        amountIn = 1 + amountIn % (reserveIn * 10);
        HookToken x = new HookToken("X");
        HookToken y = new HookToken("Y");
        address pair = v2f.createPair(address(x), address(y));
        x.mint(pair, reserveIn);
        y.mint(pair, reserveOut);
        IV2Pair(pair).mint(address(0xdead));
        uint256 out = vault.v2AmountOut(amountIn, reserveIn, reserveOut, 3000);
        x.mint(pair, amountIn);
        bool xIs0 = address(x) < address(y);
        // One wei more: the pair refuses (K or liquidity), so the vault can never be short-changed by rounding.
        try IV2Pair(pair).swap(xIs0 ? 0 : out + 1, xIs0 ? out + 1 : 0, address(this), "") {
            revert("the pair accepted one wei more than v2AmountOut");
        } catch {}
        if (out == 0) return;
        IV2Pair(pair).swap(xIs0 ? 0 : out, xIs0 ? out : 0, address(this), "");
        Assert.eq(y.balanceOf(address(this)), out, "paid exactly");
    }

    // ================================================================ helpers

    struct Result {
        uint256 spent0;
        uint256 received0;
    }

    function _exec(DirectRoute memory r, IERC20 spend, uint256 maxSpend, IERC20 out, uint256 minReceive)
        internal
        returns (Result memory res)
    {
        vm.prank(MANAGER);
        (uint256[] memory spent, uint256[] memory received) =
            vault.executeDirect(_one(r), _bound(spend, maxSpend), _bound(out, minReceive == 0 ? 1 : minReceive));
        if (spent.length != 0) (res.spent0, res.received0) = (spent[0], received[0]); // empty under expectRevert
    }

    function _execRoute(DirectRoute memory r, IERC20 spend, uint256 maxSpend, IERC20 out)
        internal
        returns (uint256[] memory spent, uint256[] memory received)
    {
        vm.prank(MANAGER);
        return vault.executeDirect(_one(r), _bound(spend, maxSpend), _bound(out, 1));
    }

    function _twoOf(DirectRoute[] memory routes) internal pure returns (DirectRoute[] memory out) {
        out = new DirectRoute[](2);
        (out[0], out[1]) = (routes[0], routes[1]);
        out[0].amountIn = 10e18;
        out[1].amountIn = 5e18; // each <= 12e18, together 15e18
    }

    function _one(DirectRoute memory r) internal pure returns (DirectRoute[] memory routes) {
        routes = new DirectRoute[](1);
        routes[0] = r;
    }

    function _bound(IERC20 asset, uint256 amount) internal pure returns (AssetBound[] memory bounds) {
        bounds = new AssetBound[](1);
        bounds[0] = AssetBound(address(asset), amount);
    }

    function _route2(IERC20 x, IERC20 y, address pool, uint256 amountIn) internal view returns (DirectRoute memory r) {
        r.tokens = new address[](2);
        (r.tokens[0], r.tokens[1]) = (address(x), address(y));
        r.pools = new address[](1);
        r.pools[0] = pool;
        (r.amountIn, r.amountOutMin, r.deadline) = (amountIn, 1, block.timestamp);
    }

    function _route3(IERC20 x, IERC20 y, IERC20 z, address p1, address p2, uint256 amountIn)
        internal
        view
        returns (DirectRoute memory r)
    {
        r.tokens = new address[](3);
        (r.tokens[0], r.tokens[1], r.tokens[2]) = (address(x), address(y), address(z));
        r.pools = new address[](2);
        (r.pools[0], r.pools[1]) = (p1, p2);
        (r.amountIn, r.amountOutMin, r.deadline) = (amountIn, 1, block.timestamp);
    }

    function _allowV2(address x, address y) internal {
        vault.setDirectPoolAllowed(address(v2f), DirectProtocol.UniswapV2, x, y, 3000, true);
    }

    function _pair(address x, address y) internal returns (address pair) {
        pair = v2f.createPair(x, y);
        HookToken(x).mint(pair, LIQ);
        HookToken(y).mint(pair, LIQ);
        IV2Pair(pair).mint(address(this));
    }

    function _pool(address x, address y) internal returns (address pool) {
        pool = v3f.createPool(x, y, 3000);
        (_mint0, _mint1) = x < y ? (x, y) : (y, x);
        IV3Pool(pool).initialize(2 ** 96); // price 1
        IV3Pool(pool).mint(address(this), -887220, 887220, uint128(LIQ), "");
    }

    /// @dev Pays a pool's mint in `_pool` (both tokens of these tests mint freely).
    function uniswapV3MintCallback(uint256 owed0, uint256 owed1, bytes calldata) external {
        HookToken(_mint0).mint(msg.sender, owed0);
        HookToken(_mint1).mint(msg.sender, owed1);
    }

    /// @dev The waffle artifact has two `bytecode` fields (getCode refuses it): read the top-level hex.
    function _v2FactoryCode() internal view returns (bytes memory) {
        string memory json = vmFiles.readFile("../node_modules/@uniswap/v2-core/build/UniswapV2Factory.json");
        return vmFiles.parseBytes(string.concat("0x", vmFiles.parseJsonString(json, ".bytecode")));
    }

    function _deploy(bytes memory code) internal returns (address deployed) {
        assembly ("memory-safe") {
            deployed := create(0, add(code, 0x20), mload(code))
        }
        Assert.isTrue(deployed != address(0), "deploy failed");
    }
}
