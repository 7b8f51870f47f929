// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Vault} from "../../src/Vault.sol";
import {IVault, RouterKind, Call, AssetBound} from "../../src/interfaces/IVault.sol";
import {IUniswapV2Router, IUniswapV3SwapRouter, IUniswapSwapRouter02} from "../../src/interfaces/IUniswapRouters.sol";
import {TetherLikeToken} from "../../src/mocks/TetherLikeToken.sol";
import {HookToken, MockRouter} from "./Mocks.sol";
import {vm, Assert} from "./Vm.sol";

/// @notice A configured, funded vault with mock routers of every kind, and call builders.
abstract contract VaultBase {
    address internal constant OWNER = address(0xA11CE);
    address internal constant MANAGER = address(0xB0B);
    address internal constant ATTACKER = address(0xBAD);
    uint256 internal constant FUNDS = 1_000_000e18;

    Vault internal vault;
    HookToken internal tokenA;
    HookToken internal tokenB;
    HookToken internal tokenC;
    HookToken internal unlisted;
    TetherLikeToken internal usdt;
    MockRouter internal v2;
    MockRouter internal v3;
    MockRouter internal r02;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        tokenA = new HookToken("A");
        tokenB = new HookToken("B");
        tokenC = new HookToken("C");
        unlisted = new HookToken("X");
        usdt = new TetherLikeToken("Tether-like", "USDT");
        v2 = new MockRouter();
        v3 = new MockRouter();
        r02 = new MockRouter();
        vault = new Vault(OWNER, MANAGER);

        vm.startPrank(OWNER);
        vault.setAssetAllowed(address(tokenA), true);
        vault.setAssetAllowed(address(tokenB), true);
        vault.setAssetAllowed(address(tokenC), true);
        vault.setAssetAllowed(address(usdt), true);
        vault.setRouter(address(v2), RouterKind.UniswapV2);
        vault.setRouter(address(v3), RouterKind.UniswapV3SwapRouter);
        vault.setRouter(address(r02), RouterKind.UniswapV3SwapRouter02);
        vault.setPoolAllowed(address(v2), address(tokenA), address(tokenB), 0, true);
        vault.setPoolAllowed(address(v2), address(tokenB), address(tokenC), 0, true);
        vault.setPoolAllowed(address(v2), address(usdt), address(tokenB), 0, true);
        vault.setPoolAllowed(address(v3), address(tokenA), address(tokenB), 3000, true);
        vault.setPoolAllowed(address(v3), address(tokenB), address(tokenC), 500, true);
        vault.setPoolAllowed(address(r02), address(tokenA), address(tokenB), 3000, true);
        vault.setPoolAllowed(address(r02), address(tokenB), address(tokenC), 500, true);
        vault.setPoolAllowed(address(r02), address(tokenA), address(tokenB), 0, true);
        // The first-wave tests trade unbounded assets: opt in explicitly (bounded-by-default otherwise).
        vault.setUnboundedSpendAllowed(address(tokenA), true);
        vault.setUnboundedSpendAllowed(address(tokenB), true);
        vault.setUnboundedSpendAllowed(address(tokenC), true);
        vault.setUnboundedSpendAllowed(address(usdt), true);
        vm.stopPrank();

        tokenA.mint(address(vault), FUNDS);
        usdt.mint(address(vault), FUNDS);
        MockRouter[3] memory routers = [v2, v3, r02];
        for (uint256 r; r < 3; ++r) {
            tokenA.mint(address(routers[r]), FUNDS);
            tokenB.mint(address(routers[r]), FUNDS);
            tokenC.mint(address(routers[r]), FUNDS);
            usdt.mint(address(routers[r]), FUNDS);
        }
    }

    // ---------------------------------------------------------------- builders

    function _approve(address token, address spender, uint256 amount) internal pure returns (Call memory) {
        return Call(token, abi.encodeCall(IERC20.approve, (spender, amount)));
    }

    function _path(address a, address b) internal pure returns (address[] memory p) {
        p = new address[](2);
        (p[0], p[1]) = (a, b);
    }

    function _path(address a, address b, address c) internal pure returns (address[] memory p) {
        p = new address[](3);
        (p[0], p[1], p[2]) = (a, b, c);
    }

    function _v2Swap(uint256 amountIn, uint256 minOut, address[] memory path, address to)
        internal
        view
        returns (Call memory)
    {
        return Call(
            address(v2),
            abi.encodeCall(IUniswapV2Router.swapExactTokensForTokens, (amountIn, minOut, path, to, block.timestamp))
        );
    }

    function _v3Single(address tokenIn, address tokenOut, uint24 fee, address to, uint256 amountIn, uint256 minOut)
        internal
        view
        returns (Call memory)
    {
        IUniswapV3SwapRouter.ExactInputSingleParams memory p = IUniswapV3SwapRouter.ExactInputSingleParams(
            tokenIn, tokenOut, fee, to, block.timestamp, amountIn, minOut, 0
        );
        return Call(address(v3), abi.encodeCall(IUniswapV3SwapRouter.exactInputSingle, (p)));
    }

    function _v3Path(bytes memory path, address to, uint256 amountIn, uint256 minOut)
        internal
        view
        returns (Call memory)
    {
        IUniswapV3SwapRouter.ExactInputParams memory p =
            IUniswapV3SwapRouter.ExactInputParams(path, to, block.timestamp, amountIn, minOut);
        return Call(address(v3), abi.encodeCall(IUniswapV3SwapRouter.exactInput, (p)));
    }

    function _r02Single(address tokenIn, address tokenOut, uint24 fee, address to, uint256 amountIn, uint256 minOut)
        internal
        view
        returns (Call memory)
    {
        IUniswapSwapRouter02.ExactInputSingleParams memory p =
            IUniswapSwapRouter02.ExactInputSingleParams(tokenIn, tokenOut, fee, to, amountIn, minOut, 0);
        return Call(address(r02), abi.encodeCall(IUniswapSwapRouter02.exactInputSingle, (p)));
    }

    function _r02Path(bytes memory path, address to, uint256 amountIn, uint256 minOut)
        internal
        view
        returns (Call memory)
    {
        IUniswapSwapRouter02.ExactInputParams memory p = IUniswapSwapRouter02.ExactInputParams(path, to, amountIn, minOut);
        return Call(address(r02), abi.encodeCall(IUniswapSwapRouter02.exactInput, (p)));
    }

    function _r02V2(uint256 amountIn, uint256 minOut, address[] memory path, address to)
        internal
        view
        returns (Call memory)
    {
        return Call(address(r02), abi.encodeCall(IUniswapSwapRouter02.swapExactTokensForTokens, (amountIn, minOut, path, to)));
    }

    function _calls(Call memory a) internal pure returns (Call[] memory c) {
        c = new Call[](1);
        c[0] = a;
    }

    function _calls(Call memory a, Call memory b) internal pure returns (Call[] memory c) {
        c = new Call[](2);
        (c[0], c[1]) = (a, b);
    }

    function _bound(address asset, uint256 amount) internal pure returns (AssetBound[] memory b) {
        b = new AssetBound[](1);
        b[0] = AssetBound(asset, amount);
    }

    function _execute(Call[] memory calls, AssetBound[] memory maxSpend, AssetBound[] memory minReceive)
        internal
        returns (uint256[] memory spent, uint256[] memory received)
    {
        vm.prank(MANAGER);
        return vault.execute(calls, maxSpend, minReceive);
    }

    /// @dev Expect `execute` by the manager to revert with exactly `err`.
    function _expectRefusal(
        Call[] memory calls,
        AssetBound[] memory maxSpend,
        AssetBound[] memory minReceive,
        bytes memory err
    ) internal {
        vm.expectRevert(err);
        vm.prank(MANAGER);
        vault.execute(calls, maxSpend, minReceive);
    }

    function _allowance(address token, address spender) internal view returns (uint256) {
        return IERC20(token).allowance(address(vault), spender);
    }

    function _assertNoAllowances() internal view {
        address[5] memory tokens = [address(tokenA), address(tokenB), address(tokenC), address(usdt), address(unlisted)];
        address[3] memory spenders = [address(v2), address(v3), address(r02)];
        for (uint256 t; t < 5; ++t) {
            for (uint256 s; s < 3; ++s) {
                Assert.eq(_allowance(tokens[t], spenders[s]), 0, "leftover allowance");
            }
        }
    }
}
