// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVault, Call, AssetBound} from "../src/interfaces/IVault.sol";
import {ITradeGuard} from "../src/interfaces/ITradeGuard.sol";
import {MockRouter} from "./utils/Mocks.sol";
import {VaultBase} from "./utils/VaultBase.sol";
import {vm, Assert} from "./utils/Vm.sol";

/// @notice Properties: bounds hold on every success, no allowance survives, canonical decoding is strict,
/// the rolling limit never exceeds its capacity.
contract FuzzTest is VaultBase {
    function testFuzzBoundsHoldAndNoAllowanceSurvives(
        uint96 amountIn,
        uint96 approveExtra,
        uint96 maxSpend,
        uint96 minOut,
        uint8 rateNum,
        uint8 modeSeed,
        bool tether
    ) public {
        vm.assume(amountIn > 0 && minOut > 0 && rateNum > 0);
        v2.setRate(rateNum, 100);
        v2.setMode(MockRouter.Mode(modeSeed % 4), address(0)); // Honest, UnderDeliver, ReenterVault, PullHalf
        address spendToken = tether ? address(usdt) : address(tokenA);
        uint256 approveAmount = uint256(amountIn) + approveExtra;
        Call[] memory calls = _calls(
            _approve(spendToken, address(v2), approveAmount),
            _v2Swap(amountIn, minOut, _path(spendToken, address(tokenB)), address(vault))
        );
        uint256 spendBefore = _balance(spendToken);
        vm.prank(MANAGER);
        try vault.execute(calls, _bound(spendToken, maxSpend), _bound(address(tokenB), minOut)) returns (
            uint256[] memory spent, uint256[] memory received
        ) {
            Assert.isTrue(spent[0] <= maxSpend, "spent at most max");
            Assert.isTrue(received[0] >= minOut, "received at least min");
            Assert.eq(spendBefore - _balance(spendToken), spent[0], "spent matches the balance");
            Assert.eq(_balance(address(tokenB)), received[0], "received matches the balance");
        } catch {
            Assert.eq(_balance(spendToken), spendBefore, "a refusal moves nothing");
        }
        _assertNoAllowances();
    }

    function testFuzzTrailingBytesAreNonCanonical(bytes memory extra) public {
        vm.assume(extra.length > 0);
        Call memory swap = _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), address(vault));
        _expectRefusal(
            _calls(Call(address(v2), bytes.concat(swap.data, extra))),
            _bound(address(tokenA), 10),
            _bound(address(tokenB), 1),
            abi.encodeWithSelector(ITradeGuard.NonCanonicalCalldata.selector, 0)
        );
    }

    function testFuzzDirtyAddressWordIsNonCanonical(uint96 high, uint8 word) public {
        vm.assume(high != 0);
        // approve(spender) word 0, or the V3 single swap's tokenIn, tokenOut, recipient (words 0, 1, 3).
        Call memory c = _v3Single(address(tokenA), address(tokenB), 3000, address(vault), 10, 1);
        uint256 w = [uint256(0), 1, 3][word % 3];
        bytes memory data = c.data;
        assembly {
            let p := add(add(data, 36), mul(w, 32))
            mstore(p, or(mload(p), shl(160, high)))
        }
        _expectRefusal(_calls(Call(address(v3), data)), _bound(address(tokenA), 10), _bound(address(tokenB), 1),
            abi.encodeWithSelector(ITradeGuard.NonCanonicalCalldata.selector, 0));
    }

    function testFuzzSpendLimitNeverExceedsCapacity(uint96 capacity, uint32 period, uint64[4] memory spends, uint32[4] memory waits)
        public
    {
        vm.assume(capacity > 0 && period > 0);
        vm.prank(OWNER);
        vault.setSpendLimit(address(tokenA), capacity, period);
        for (uint256 k; k < 4; ++k) {
            vm.warp(block.timestamp + waits[k]);
            uint256 available = vault.availableSpend(address(tokenA));
            Assert.isTrue(available <= capacity, "available <= capacity");
            uint256 amount = spends[k];
            if (amount == 0) continue;
            Call[] memory calls = _calls(
                _approve(address(tokenA), address(v2), amount),
                _v2Swap(amount, 1, _path(address(tokenA), address(tokenB)), address(vault))
            );
            vm.prank(MANAGER);
            try vault.execute(calls, _bound(address(tokenA), amount), _bound(address(tokenB), 1)) {
                Assert.isTrue(amount <= available, "spent only what was available");
                Assert.eq(vault.availableSpend(address(tokenA)), available - amount, "consumed exactly");
            } catch (bytes memory err) {
                Assert.isTrue(amount > available, "refused only above the limit");
                Assert.isTrue(
                    keccak256(err) == keccak256(abi.encodeWithSelector(ITradeGuard.SpendLimitExceeded.selector, address(tokenA), amount, available)),
                    "SpendLimitExceeded"
                );
            }
        }
    }

    function _balance(address token) internal view returns (uint256 b) {
        (, bytes memory ret) = token.staticcall(abi.encodeWithSignature("balanceOf(address)", address(vault)));
        b = abi.decode(ret, (uint256));
    }
}
