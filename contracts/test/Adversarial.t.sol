// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IVault, Call, AssetBound} from "../src/interfaces/IVault.sol";
import {ITradeGuard} from "../src/interfaces/ITradeGuard.sol";
import {IUniswapV2Router} from "../src/interfaces/IUniswapRouters.sol";
import {MockRouter} from "./utils/Mocks.sol";
import {VaultBase} from "./utils/VaultBase.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @notice The attacks a leaked asset-manager key can try; each must revert with its custom error.
contract AdversarialTest is VaultBase {
    AssetBound[] internal noBounds;

    function _spendA(uint256 amount) internal view returns (AssetBound[] memory) {
        return _bound(address(tokenA), amount);
    }

    function _receiveB() internal view returns (AssetBound[] memory) {
        return _bound(address(tokenB), 1);
    }

    function _err(bytes4 selector, address a) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, a);
    }

    // ---------------------------------------------------------------- recipients

    function testSwapToManagerOrZero() public {
        address[2] memory thieves = [MANAGER, address(0)];
        for (uint256 k; k < 2; ++k) {
            _expectRefusal(
                _calls(_approve(address(tokenA), address(v2), 10), _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), thieves[k])),
                _spendA(10), _receiveB(), _err(ITradeGuard.BadRecipient.selector, thieves[k])
            );
            _expectRefusal(
                _calls(_v3Single(address(tokenA), address(tokenB), 3000, thieves[k], 10, 1)),
                _spendA(10), _receiveB(), _err(ITradeGuard.BadRecipient.selector, thieves[k])
            );
        }
    }

    function testSwapRouter02SentinelRecipients() public {
        bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(tokenB));
        for (uint160 sentinel; sentinel <= 2; ++sentinel) {
            address r = address(sentinel);
            _expectRefusal(_calls(_r02Single(address(tokenA), address(tokenB), 3000, r, 10, 1)), _spendA(10), _receiveB(), _err(ITradeGuard.BadRecipient.selector, r));
            _expectRefusal(_calls(_r02Path(path, r, 10, 1)), _spendA(10), _receiveB(), _err(ITradeGuard.BadRecipient.selector, r));
            _expectRefusal(_calls(_r02V2(10, 1, _path(address(tokenA), address(tokenB)), r)), _spendA(10), _receiveB(), _err(ITradeGuard.BadRecipient.selector, r));
        }
    }

    function testSwapToRouterThenSweep() public {
        Call memory sweep = Call(address(r02), abi.encodeCall(MockRouter.sweepToken, (address(tokenB), 0, MANAGER)));
        _expectRefusal(
            _calls(_r02Single(address(tokenA), address(tokenB), 3000, address(r02), 10, 1), sweep),
            _spendA(10), _receiveB(), _err(ITradeGuard.BadRecipient.selector, address(r02))
        );
        _expectRefusal(_calls(sweep), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.SelectorNotAllowed.selector, address(r02), MockRouter.sweepToken.selector));
    }

    // ---------------------------------------------------------------- pools and paths

    function testPoolTheAttackerCreatedBetweenAllowedTokens() public {
        // A and C are both allowed, but no A/C pool is whitelisted: a fresh thin pool is refused.
        _expectRefusal(
            _calls(_v2Swap(10, 1, _path(address(tokenA), address(tokenC)), address(vault))),
            _spendA(10), _bound(address(tokenC), 1),
            abi.encodeWithSelector(ITradeGuard.PoolNotAllowed.selector, address(v2), address(tokenA), address(tokenC), uint24(0))
        );
        // Same pair on V3 with a fee tier that is not whitelisted.
        _expectRefusal(
            _calls(_v3Single(address(tokenA), address(tokenB), 10000, address(vault), 10, 1)),
            _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.PoolNotAllowed.selector, address(v3), address(tokenA), address(tokenB), uint24(10000))
        );
        // Fee 0 is the V2 pair of SwapRouter02; a V3 hop can never claim it.
        _expectRefusal(
            _calls(_r02Single(address(tokenA), address(tokenB), 0, address(vault), 10, 1)),
            _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.PoolNotAllowed.selector, address(r02), address(tokenA), address(tokenB), uint24(0))
        );
    }

    /// @dev One scratch `Swap` serves every call of an execute: a V2 path after a V3 call must be checked as
    /// fee-0 pairs, never against the fee tier the V3 call left behind (a thin V2 pair of two allowed tokens
    /// would otherwise pass as the whitelisted V3 pool of the same tokens).
    function testV2HopNeverInheritsAnEarlierV3Fee() public {
        tokenB.mint(address(vault), 100);
        bytes memory lonelyV2 = abi.encodeWithSelector(
            ITradeGuard.PoolNotAllowed.selector, address(r02), address(tokenB), address(tokenC), uint24(0));
        Call memory approve = _approve(address(tokenB), address(r02), 100);
        Call memory v2Swap = _r02V2(90, 1, _path(address(tokenB), address(tokenC)), address(vault));
        _expectRefusal(_calls(approve, v2Swap), _bound(address(tokenB), 100), _bound(address(tokenC), 1), lonelyV2);

        Call[] memory calls = new Call[](3);
        calls[0] = approve;
        calls[1] = _r02Single(address(tokenB), address(tokenC), 500, address(vault), 10, 1); // allowed V3 pool
        calls[2] = v2Swap;
        _expectRefusal(calls, _bound(address(tokenB), 100), _bound(address(tokenC), 1), lonelyV2);
        _assertNoAllowances();
    }

    /// @dev The other face of the same scratch state: allowed V3 and V2 swaps in one execute pass in any order.
    function testV3ThenV2SwapsOnAllowedPoolsPass() public {
        Call[] memory calls = new Call[](4);
        calls[0] = _approve(address(tokenA), address(v3), 10);
        calls[1] = _v3Single(address(tokenA), address(tokenB), 3000, address(vault), 10, 1);
        calls[2] = _approve(address(tokenA), address(v2), 10);
        calls[3] = _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault));
        _execute(calls, _spendA(20), _receiveB());
        _assertNoAllowances();
    }

    function testPathThroughUnlistedToken() public {
        _expectRefusal(
            _calls(_v2Swap(10, 1, _path(address(tokenA), address(unlisted), address(tokenB)), address(vault))),
            _spendA(10), _receiveB(), _err(ITradeGuard.AssetNotAllowed.selector, address(unlisted))
        );
        bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(unlisted), uint24(500), address(tokenB));
        _expectRefusal(_calls(_v3Path(path, address(vault), 10, 1)), _spendA(10), _receiveB(),
            _err(ITradeGuard.AssetNotAllowed.selector, address(unlisted)));
    }

    /// @dev An undeclared, unlisted first or last path token is refused as not allowed (the vault only
    /// skips re-reading the allow flag of declared end tokens), and a repeat before an unlisted token
    /// is reported first, as when every token is checked in path order.
    function testPathEndsOnUnlistedTokenAndCheckOrder() public {
        _expectRefusal(
            _calls(_v2Swap(10, 1, _path(address(unlisted), address(tokenB)), address(vault))),
            _spendA(10), _receiveB(), _err(ITradeGuard.AssetNotAllowed.selector, address(unlisted))
        );
        _expectRefusal(
            _calls(_v2Swap(10, 1, _path(address(tokenA), address(unlisted)), address(vault))),
            _spendA(10), _receiveB(), _err(ITradeGuard.AssetNotAllowed.selector, address(unlisted))
        );
        // Declared end tokens used the other way round: allowed, but not declared on that side.
        _expectRefusal(
            _calls(_v2Swap(10, 1, _path(address(tokenB), address(tokenA)), address(vault))),
            _spendA(10), _receiveB(), abi.encodeWithSelector(ITradeGuard.NotDeclaredAsSpend.selector, 0, address(tokenB))
        );
        address[] memory p = new address[](3);
        (p[0], p[1], p[2]) = (address(tokenA), address(tokenA), address(unlisted));
        _expectRefusal(_calls(_v2Swap(10, 1, p, address(vault))), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.InvalidPath.selector, 0));
        (p[0], p[1], p[2]) = (address(tokenA), address(unlisted), address(tokenA));
        _expectRefusal(_calls(_v2Swap(10, 1, p, address(vault))), _spendA(10), _receiveB(),
            _err(ITradeGuard.AssetNotAllowed.selector, address(unlisted)));
    }

    function testPathWithRepeatedToken() public {
        address[] memory p = new address[](3);
        (p[0], p[1], p[2]) = (address(tokenA), address(tokenB), address(tokenA));
        _expectRefusal(_calls(_v2Swap(10, 1, p, address(vault))), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.InvalidPath.selector, 0));
    }

    function testV3PathWithTrailingBytes() public {
        bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(tokenB), hex"deadbeef");
        _expectRefusal(_calls(_v3Path(path, address(vault), 10, 1)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.InvalidPath.selector, 0));
    }

    // ---------------------------------------------------------------- approvals and token calls

    function testApproveToNonRouter() public {
        _expectRefusal(_calls(_approve(address(tokenA), MANAGER, 10)), _spendA(10), _receiveB(),
            _err(ITradeGuard.SpenderNotAllowed.selector, MANAGER));
    }

    function testApproveMoreThanMaxSpend() public {
        _expectRefusal(_calls(_approve(address(tokenA), address(v2), 11)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.AmountExceedsMaxSpend.selector, 0, address(tokenA), 11, 10));
    }

    function testApproveOfUndeclaredAsset() public {
        _expectRefusal(_calls(_approve(address(usdt), address(v2), 1)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.NotDeclaredAsSpend.selector, 0, address(usdt)));
    }

    function testTokenTransferAndFriendsRefused() public {
        bytes[4] memory datas = [
            abi.encodeCall(IERC20.transfer, (MANAGER, 10)),
            abi.encodeCall(IERC20.transferFrom, (address(vault), MANAGER, 10)),
            abi.encodeWithSignature("increaseAllowance(address,uint256)", MANAGER, 10),
            abi.encodeCall(IERC20Permit.permit, (address(vault), MANAGER, 10, 0, 0, 0, 0))
        ];
        for (uint256 k; k < 4; ++k) {
            _expectRefusal(_calls(Call(address(tokenA), datas[k])), _spendA(10), _receiveB(),
                abi.encodeWithSelector(ITradeGuard.SelectorNotAllowed.selector, address(tokenA), bytes4(datas[k])));
        }
    }

    function testArbitraryTargetAndSelector() public {
        _expectRefusal(_calls(Call(ATTACKER, hex"12345678")), _spendA(10), _receiveB(),
            _err(ITradeGuard.TargetNotAllowed.selector, ATTACKER));
        _expectRefusal(_calls(Call(address(unlisted), abi.encodeCall(IERC20.approve, (address(v2), 1)))), _spendA(10), _receiveB(),
            _err(ITradeGuard.TargetNotAllowed.selector, address(unlisted)));
        bytes4[4] memory routerSelectors = [
            bytes4(0xac9650d8), // multicall(bytes[])
            bytes4(0x49404b7c), // unwrapWETH9(uint256,address)
            bytes4(0x12210e8a), // refundETH()
            bytes4(0x5c11d795) // swapExactTokensForTokensSupportingFeeOnTransferTokens
        ];
        for (uint256 k; k < 4; ++k) {
            _expectRefusal(_calls(Call(address(v2), abi.encodePacked(routerSelectors[k], uint256(1)))), _spendA(10), _receiveB(),
                abi.encodeWithSelector(ITradeGuard.SelectorNotAllowed.selector, address(v2), routerSelectors[k]));
        }
        // A router ABI sent to a router of another kind is refused too.
        Call memory v3call = _v3Single(address(tokenA), address(tokenB), 3000, address(vault), 10, 1);
        _expectRefusal(_calls(Call(address(r02), v3call.data)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.SelectorNotAllowed.selector, address(r02), bytes4(v3call.data)));
    }

    function testEthValueRefused() public {
        vm.deal(MANAGER, 1 ether);
        Call[] memory calls = _calls(_approve(address(tokenA), address(v2), 1));
        vm.prank(MANAGER);
        (bool ok, bytes memory ret) =
            address(vault).call{value: 1}(abi.encodeCall(ITradeGuard.execute, (calls, _spendA(1), _receiveB())));
        Assert.isTrue(!ok && ret.length == 0, "execute is not payable");
        vm.prank(MANAGER);
        (ok,) = address(vault).call{value: 1}("");
        Assert.isTrue(!ok, "no receive()");
    }

    // ---------------------------------------------------------------- canonical calldata

    function testNonCanonicalEncodingsOfAValidSwap() public {
        Call memory swap = _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault));
        bytes memory good = swap.data;

        // Trailing bytes after an otherwise valid encoding.
        _expectNonCanonical(bytes.concat(good, bytes32(0)));
        // Dirty high bits in the recipient word (word 3): a lenient decoder would mask them away.
        bytes memory dirty = bytes.concat(good);
        dirty[4 + 3 * 32] = 0x01;
        _expectNonCanonical(dirty);
        // The path offset points one word further, to a second copy of the array: same values decoded,
        // different bytes.
        bytes memory shifted = abi.encodePacked(
            IUniswapV2Router.swapExactTokensForTokens.selector,
            uint256(10), uint256(1), uint256(0xc0), uint256(uint160(address(vault))), block.timestamp, uint256(0),
            uint256(2), uint256(uint160(address(tokenA))), uint256(uint160(address(tokenB)))
        );
        _expectNonCanonical(shifted);
        // Calldata shorter than a selector.
        _expectNonCanonical(hex"38ed17");
    }

    function testV3PathWithDirtyPadding() public {
        bytes memory path = abi.encodePacked(address(tokenA), uint24(3000), address(tokenB));
        Call memory swap = _v3Path(path, address(vault), 10, 1);
        bytes memory data = swap.data;
        data[data.length - 1] = 0x01; // path is 43 bytes: the last 21 bytes of its word are padding
        _expectRefusal(_calls(Call(address(v3), data)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.NonCanonicalCalldata.selector, 0));
    }

    function _expectNonCanonical(bytes memory data) internal {
        _expectRefusal(_calls(Call(address(v2), data)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.NonCanonicalCalldata.selector, 0));
    }

    // ---------------------------------------------------------------- malicious counterparties

    function testMaliciousRouterReentersExecute() public {
        v2.setMode(MockRouter.Mode.ReenterVault, address(0));
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 10), _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault))),
            _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.CallFailed.selector, 1, abi.encodeWithSelector(ITradeGuard.ReentrantCall.selector))
        );
    }

    function testMaliciousTokenReentersExecute() public {
        tokenA.setReenter(address(vault));
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 10), _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault))),
            _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.CallFailed.selector, 1, abi.encodeWithSelector(ITradeGuard.ReentrantCall.selector))
        );
    }

    function testRouterThatUnderDelivers() public {
        v2.setMode(MockRouter.Mode.UnderDeliver, address(0));
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 100), _v2Swap(100, 90, _path(address(tokenA), address(tokenB)), address(vault))),
            _spendA(100), _bound(address(tokenB), 90),
            abi.encodeWithSelector(ITradeGuard.ReceiveTooLow.selector, address(tokenB), 50, 90)
        );
    }

    function testRouterRevertReasonIsCarried() public {
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 100), _v2Swap(100, 101, _path(address(tokenA), address(tokenB)), address(vault))),
            _spendA(100), _bound(address(tokenB), 101),
            abi.encodeWithSelector(ITradeGuard.CallFailed.selector, 1, abi.encodeWithSignature("Error(string)", "Too little received"))
        );
    }

    function testUndeclaredIntermediateMayNotDecrease() public {
        tokenB.mint(address(vault), 5);
        v2.setMode(MockRouter.Mode.BurnFromSender, address(tokenB));
        _expectRefusal(
            _calls(_approve(address(tokenA), address(v2), 10), _v2Swap(10, 1, _path(address(tokenA), address(tokenB), address(tokenC)), address(vault))),
            _spendA(10), _bound(address(tokenC), 1),
            abi.encodeWithSelector(ITradeGuard.UndeclaredAssetDecreased.selector, address(tokenB), 5, 4)
        );
    }

    function testRepeatedApproveAndSwapCannotExceedMaxSpend() public {
        Call[] memory calls = new Call[](4);
        calls[0] = _approve(address(tokenA), address(v2), 100);
        calls[1] = _v2Swap(100, 1, _path(address(tokenA), address(tokenB)), address(vault));
        calls[2] = calls[0];
        calls[3] = calls[1];
        _expectRefusal(calls, _spendA(100), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.SpendExceeded.selector, address(tokenA), 200, 100));
    }

    // ---------------------------------------------------------------- callers and arguments

    function testCallerOtherThanManager() public {
        Call[] memory calls = _calls(_approve(address(tokenA), address(v2), 1));
        address[3] memory callers = [ATTACKER, OWNER, address(v2)];
        for (uint256 k; k < 3; ++k) {
            vm.expectRevert(_err(ITradeGuard.NotAssetManager.selector, callers[k]));
            vm.prank(callers[k]);
            vault.execute(calls, _spendA(1), _receiveB());
        }
    }

    function testSwapBoundsAndDeclarations() public {
        _expectRefusal(_calls(_v2Swap(11, 1, _path(address(tokenA), address(tokenB)), address(vault))), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.AmountExceedsMaxSpend.selector, 0, address(tokenA), 11, 10));
        _expectRefusal(_calls(_v2Swap(0, 1, _path(address(tokenA), address(tokenB)), address(vault))), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.ZeroAmountIn.selector, 0));
        _expectRefusal(_calls(_r02Single(address(tokenA), address(tokenB), 3000, address(vault), 0, 1)), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.ZeroAmountIn.selector, 0));
        _expectRefusal(_calls(_v2Swap(10, 0, _path(address(tokenA), address(tokenB)), address(vault))), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.ZeroAmountOutMin.selector, 0));
        _expectRefusal(_calls(_v2Swap(10, 1, _path(address(tokenB), address(tokenA)), address(vault))), _bound(address(tokenC), 10), _bound(address(tokenA), 1),
            abi.encodeWithSelector(ITradeGuard.NotDeclaredAsSpend.selector, 0, address(tokenB)));
        _expectRefusal(_calls(_v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault))), _spendA(10), _bound(address(tokenC), 1),
            abi.encodeWithSelector(ITradeGuard.NotDeclaredAsReceive.selector, 0, address(tokenB)));

        Call memory late = _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault));
        vm.warp(block.timestamp + 1);
        _expectRefusal(_calls(late), _spendA(10), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.DeadlinePassed.selector, 0, block.timestamp - 1));

        Call memory limited = _v3Single(address(tokenA), address(tokenB), 3000, address(vault), 10, 1);
        limited.data[limited.data.length - 1] = 0x01; // sqrtPriceLimitX96 = 1
        _expectRefusal(_calls(limited), _spendA(10), _receiveB(), abi.encodeWithSelector(ITradeGuard.PriceLimitNotAllowed.selector, 0));
    }

    function testDeclaredAssetLists() public {
        Call[] memory one = _calls(_approve(address(tokenA), address(v2), 1));
        _expectRefusal(one, _bound(address(unlisted), 1), _receiveB(), _err(ITradeGuard.AssetNotAllowed.selector, address(unlisted)));
        AssetBound[] memory dup = new AssetBound[](2);
        (dup[0], dup[1]) = (AssetBound(address(tokenA), 1), AssetBound(address(tokenA), 2));
        _expectRefusal(one, dup, _receiveB(), _err(ITradeGuard.DuplicateAsset.selector, address(tokenA)));
        _expectRefusal(one, _spendA(1), _bound(address(tokenA), 1), _err(ITradeGuard.AssetInBothLists.selector, address(tokenA)));
        _expectRefusal(one, _spendA(1), _bound(address(tokenB), 0), _err(ITradeGuard.ZeroMinReceive.selector, address(tokenB)));
        _expectRefusal(new Call[](0), _spendA(1), _receiveB(), abi.encodeWithSelector(ITradeGuard.BadCallCount.selector, 0, 8));
        _expectRefusal(new Call[](9), _spendA(1), _receiveB(), abi.encodeWithSelector(ITradeGuard.BadCallCount.selector, 9, 8));
        _expectRefusal(one, new AssetBound[](9), noBounds, abi.encodeWithSelector(ITradeGuard.TooManyAssets.selector, 9, 8));
    }
}
