// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TradeGuard} from "../../src/guard/TradeGuard.sol";

/// @notice The part of a Safe a module uses: it holds the funds and makes a call for its enabled module,
/// reporting failure by its return value (it does not revert), as `Safe.execTransactionFromModule` does.
contract MockSafe {
    address public module;

    function enableModule(address module_) external {
        require(module == address(0), "set");
        module = module_;
    }

    function execTransactionFromModuleReturnData(address to, uint256 value, bytes memory data, uint8 operation)
        external
        returns (bool success, bytes memory returnData)
    {
        require(msg.sender == module, "GS104");
        require(operation == 0 && value == 0, "call only");
        (success, returnData) = to.call(data);
    }
}

/// @notice The trade guard with a custody other than itself (the shape of #18's Safe module): the Safe holds
/// the funds and makes the router-path calls and the pool payments; this contract calls the pools and
/// receives the V3 callback. Test-only; it shows the hooks are all a custody needs.
contract ModuleGuard is TradeGuard {
    address public immutable owner;
    MockSafe public immutable safe;

    error NotOwner(address caller);

    constructor(address owner_, address manager_, MockSafe safe_) TradeGuard(manager_) {
        (owner, safe) = (owner_, safe_);
    }

    function _checkConfigAuth() internal view override {
        if (msg.sender != owner) revert NotOwner(msg.sender);
    }

    function _isGuardAdmin(address account) internal view override returns (bool) {
        return account == owner;
    }

    function _custody() internal view override returns (address) {
        return address(safe);
    }

    function _payPool(address token, address pool, uint256 amount) internal override {
        (bool ok, bytes memory ret) = _exec(token, abi.encodeCall(IERC20.transfer, (pool, amount)));
        require(ok && _trueOrNothing(ret), "pay failed");
    }

    function _custodyCall(uint256 i, address target, bytes calldata data, bool isApprove) internal override {
        (bool ok, bytes memory ret) = _exec(target, data);
        if (!ok || (isApprove && !_trueOrNothing(ret))) revert CallFailed(i, ret);
    }

    function _custodyApproveZero(address token, address spender) internal override returns (bool) {
        (bool ok, bytes memory ret) = _exec(token, abi.encodeCall(IERC20.approve, (spender, 0)));
        return ok && _trueOrNothing(ret);
    }

    function _exec(address to, bytes memory data) private returns (bool, bytes memory) {
        return safe.execTransactionFromModuleReturnData(to, 0, data, 0);
    }

    function _trueOrNothing(bytes memory ret) private pure returns (bool) {
        return ret.length == 0 || (ret.length >= 32 && uint256(bytes32(ret)) == 1);
    }
}
