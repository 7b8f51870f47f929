// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ITradeGuard, RouterKind, Call, AssetBound} from "../src/interfaces/ITradeGuard.sol";
import {DirectProtocol, DirectRoute} from "../src/interfaces/IDirectSwap.sol";
import {IUniswapV2Router} from "../src/interfaces/IUniswapRouters.sol";
import {HookToken, MockRouter} from "./utils/Mocks.sol";
import {MockSafe, ModuleGuard} from "./utils/ExternalCustody.sol";
import {vmFiles, IV2Factory, IV2Pair, IV3Factory, IV3Pool} from "./DirectSwap.t.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @notice `TradeGuard` with a custody other than itself (a Safe-like holder driven by a module): both paths
/// measure, pay from and deliver to the custody; the guard contract never holds a token.
contract TradeGuardCustodyTest {
    address internal constant OWNER = address(0xA11CE);
    address internal constant MANAGER = address(0xB0B);
    uint256 internal constant FUNDS = 1_000_000e18;
    uint256 internal constant LIQ = 10_000_000e18;

    MockSafe internal safe;
    ModuleGuard internal guard;
    HookToken internal a;
    HookToken internal b;
    HookToken internal c;
    MockRouter internal router;
    address internal pAB; // V2
    address internal qBC; // V3
    address private _mint0;
    address private _mint1;

    function setUp() public {
        vm.warp(1_700_000_000);
        (a, b, c) = (new HookToken("A"), new HookToken("B"), new HookToken("C"));
        safe = new MockSafe();
        guard = new ModuleGuard(OWNER, MANAGER, safe);
        safe.enableModule(address(guard));
        router = new MockRouter();

        IV2Factory v2f = IV2Factory(_deploy(abi.encodePacked(_v2FactoryCode(), abi.encode(address(this)))));
        IV3Factory v3f = IV3Factory(_deploy(vm.getCode(
            "../node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"
        )));
        pAB = v2f.createPair(address(a), address(b));
        a.mint(pAB, LIQ);
        b.mint(pAB, LIQ);
        IV2Pair(pAB).mint(address(this));
        qBC = v3f.createPool(address(b), address(c), 3000);
        (_mint0, _mint1) = address(b) < address(c) ? (address(b), address(c)) : (address(c), address(b));
        IV3Pool(qBC).initialize(2 ** 96);
        IV3Pool(qBC).mint(address(this), -887220, 887220, uint128(LIQ), "");

        vm.startPrank(OWNER);
        address[3] memory assets = [address(a), address(b), address(c)];
        for (uint256 i; i < 3; ++i) {
            guard.setAssetAllowed(assets[i], true);
            guard.setUnboundedSpendAllowed(assets[i], true);
        }
        guard.setDirectPoolAllowed(address(v2f), DirectProtocol.UniswapV2, address(a), address(b), 3000, true);
        guard.setDirectPoolAllowed(address(v3f), DirectProtocol.UniswapV3, address(b), address(c), 3000, true);
        guard.setRouter(address(router), RouterKind.UniswapV2);
        guard.setPoolAllowed(address(router), address(a), address(b), 0, true);
        vm.stopPrank();

        a.mint(address(safe), FUNDS);
        b.mint(address(router), FUNDS);
    }

    function testDirectTwoHopV2ThenV3PaysFromAndDeliversToTheCustody() public {
        DirectRoute[] memory routes = new DirectRoute[](1);
        routes[0].tokens = new address[](3);
        (routes[0].tokens[0], routes[0].tokens[1], routes[0].tokens[2]) = (address(a), address(b), address(c));
        routes[0].pools = new address[](2);
        (routes[0].pools[0], routes[0].pools[1]) = (pAB, qBC);
        (routes[0].amountIn, routes[0].amountOutMin, routes[0].deadline) = (100e18, 1, block.timestamp);

        vm.prank(MANAGER);
        (uint256[] memory spent, uint256[] memory received) =
            guard.executeDirect(routes, _bound(a, 100e18), _bound(c, 98e18));
        Assert.eq(spent[0], 100e18, "spent from the safe");
        Assert.eq(a.balanceOf(address(safe)), FUNDS - 100e18, "safe paid the V2 pair");
        Assert.eq(c.balanceOf(address(safe)), received[0], "output in the safe");
        Assert.eq(b.balanceOf(address(safe)), 0, "intermediate passed through");
        Assert.eq(a.balanceOf(address(guard)) + b.balanceOf(address(guard)) + c.balanceOf(address(guard)), 0, "guard holds nothing");
    }

    function testRouterPathCallsAsTheCustodyAndResetsItsApproval() public {
        Call[] memory calls = new Call[](2);
        calls[0] = Call(address(a), abi.encodeCall(IERC20.approve, (address(router), 10e18)));
        calls[1] = _v2Swap(10e18, address(safe));
        vm.prank(MANAGER);
        (uint256[] memory spent, uint256[] memory received) = guard.execute(calls, _bound(a, 10e18), _bound(b, 10e18));
        Assert.eq(spent[0], 10e18, "spent");
        Assert.eq(received[0], 10e18, "received");
        Assert.eq(b.balanceOf(address(safe)), 10e18, "output in the safe");
        Assert.eq(a.allowance(address(safe), address(router)), 0, "approval reset");
    }

    function testTheGuardItselfIsNotAnAllowedRecipient() public {
        Call[] memory calls = new Call[](2);
        calls[0] = Call(address(a), abi.encodeCall(IERC20.approve, (address(router), 10e18)));
        calls[1] = _v2Swap(10e18, address(guard));
        vm.prank(MANAGER);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.BadRecipient.selector, address(guard)));
        guard.execute(calls, _bound(a, 10e18), _bound(b, 1));
    }

    function testAuthorisationHooks() public {
        vm.prank(MANAGER);
        vm.expectRevert(abi.encodeWithSelector(ModuleGuard.NotOwner.selector, MANAGER));
        guard.setAssetAllowed(address(c), false);
        vm.prank(address(0xBAD));
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.NotOwnerOrAssetManager.selector, address(0xBAD)));
        guard.pause();
        vm.prank(OWNER);
        guard.pause();
        vm.prank(MANAGER);
        vm.expectRevert(ITradeGuard.VaultPaused.selector);
        guard.execute(new Call[](1), _bound(a, 1), _bound(b, 1));
    }

    function _v2Swap(uint256 amountIn, address to) internal view returns (Call memory) {
        address[] memory path = new address[](2);
        (path[0], path[1]) = (address(a), address(b));
        return Call(
            address(router),
            abi.encodeCall(IUniswapV2Router.swapExactTokensForTokens, (amountIn, 1, path, to, block.timestamp))
        );
    }

    function _bound(IERC20 asset, uint256 amount) internal pure returns (AssetBound[] memory bounds) {
        bounds = new AssetBound[](1);
        bounds[0] = AssetBound(address(asset), amount);
    }

    /// @dev Pays the V3 pool's mint in `setUp` (the test tokens mint freely).
    function uniswapV3MintCallback(uint256 owed0, uint256 owed1, bytes calldata) external {
        HookToken(_mint0).mint(msg.sender, owed0);
        HookToken(_mint1).mint(msg.sender, owed1);
    }

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
