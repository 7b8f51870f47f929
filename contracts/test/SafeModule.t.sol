// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeTradeModule} from "../src/SafeTradeModule.sol";
import {ISafeTradeModule} from "../src/interfaces/ISafeTradeModule.sol";
import {ITradeGuard, RouterKind, Call, AssetBound} from "../src/interfaces/ITradeGuard.sol";
import {IDirectSwap, DirectProtocol, DirectRoute} from "../src/interfaces/IDirectSwap.sol";
import {MockRouter} from "./utils/Mocks.sol";
import {MockV3Factory, HostileV3Pool} from "./utils/DirectMocks.sol";
import {VaultBase} from "./utils/VaultBase.sol";
import {vm, Assert, Log} from "./utils/Vm.sol";

/// @notice The part of the real Safe 1.4.1 (deployed from its npm build artifacts) these tests call.
interface ISafeFull {
    function setup(address[] calldata owners, uint256 threshold, address to, bytes calldata data, address fallbackHandler,
        address paymentToken, uint256 payment, address paymentReceiver) external;
    function execTransaction(address to, uint256 value, bytes calldata data, uint8 operation, uint256 safeTxGas,
        uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes calldata signatures)
        external payable returns (bool);
    function enableModule(address module) external;
    function disableModule(address prevModule, address module) external;
    function isModuleEnabled(address module) external view returns (bool);
    function addOwnerWithThreshold(address owner, uint256 threshold) external;
    function removeOwner(address prevOwner, address owner, uint256 threshold) external;
    function swapOwner(address prevOwner, address oldOwner, address newOwner) external;
    function changeThreshold(uint256 threshold) external;
    function setGuard(address guard) external;
    function setFallbackHandler(address handler) external;
    function getOwners() external view returns (address[] memory);
    function getThreshold() external view returns (uint256);
    function execTransactionFromModule(address to, uint256 value, bytes calldata data, uint8 operation)
        external returns (bool);
}

interface IProxyFactory {
    function createProxyWithNonce(address singleton, bytes memory initializer, uint256 saltNonce)
        external returns (address);
}

/// @notice The module on a real Safe 1.4.1 (SafeL2 singleton, proxy factory, fallback handler from npm), with
/// the vault suite's mock routers and tokens; the Safe holds the funds, `OWNER` is its single owner.
abstract contract SafeModuleBase is VaultBase {
    string internal constant SAFE_ARTIFACTS = "../node_modules/@safe-global/safe-contracts/build/artifacts/contracts/";
    bytes32 internal constant MODULE_TX_TOPIC = keccak256("SafeModuleTransaction(address,address,uint256,bytes,uint8)");

    ISafeFull internal safe;
    SafeTradeModule internal module;

    function setUp() public virtual override {
        super.setUp(); // tokens, mock routers, and a vault we do not use here
        address singleton = _deploy(vm.getCode(string.concat(SAFE_ARTIFACTS, "SafeL2.sol/SafeL2.json")));
        address factory = _deploy(vm.getCode(string.concat(SAFE_ARTIFACTS, "proxies/SafeProxyFactory.sol/SafeProxyFactory.json")));
        address handler = _deploy(vm.getCode(
            string.concat(SAFE_ARTIFACTS, "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json")));
        address[] memory owners = new address[](1);
        owners[0] = OWNER;
        bytes memory init = abi.encodeCall(ISafeFull.setup, (owners, 1, address(0), "", handler, address(0), 0, address(0)));
        safe = ISafeFull(IProxyFactory(factory).createProxyWithNonce(singleton, init, 0));
        module = new SafeTradeModule(address(safe), MANAGER);
        _ownerTx(address(safe), abi.encodeCall(ISafeFull.enableModule, (address(module))), 0);

        vm.startPrank(address(safe)); // the module's owner is the Safe: what its owners' transactions do
        address[4] memory assets = [address(tokenA), address(tokenB), address(tokenC), address(usdt)];
        for (uint256 i; i < 4; ++i) {
            module.setAssetAllowed(assets[i], true);
            module.setUnboundedSpendAllowed(assets[i], true);
        }
        module.setRouter(address(v2), RouterKind.UniswapV2);
        module.setRouter(address(v3), RouterKind.UniswapV3SwapRouter);
        module.setPoolAllowed(address(v2), address(tokenA), address(tokenB), 0, true);
        module.setPoolAllowed(address(v2), address(tokenB), address(tokenC), 0, true);
        module.setPoolAllowed(address(v3), address(tokenA), address(tokenB), 3000, true);
        vm.stopPrank();
        tokenA.mint(address(safe), FUNDS);
    }

    function _deploy(bytes memory code) internal returns (address addr) {
        assembly ("memory-safe") {
            addr := create(0, add(code, 0x20), mload(code))
        }
        Assert.isTrue(addr != address(0), "deployment failed");
    }

    /// @dev A Safe transaction by its single owner (pre-validated signature: v = 1, r = the owner).
    function _ownerTx(address to, bytes memory data, uint8 operation) internal returns (bool) {
        bytes memory signature = abi.encodePacked(uint256(uint160(OWNER)), bytes32(0), uint8(1));
        vm.prank(OWNER);
        return safe.execTransaction(to, 0, data, operation, 0, 0, 0, address(0), address(0), signature);
    }

    function _moduleExecute(Call[] memory calls, AssetBound[] memory maxSpend, AssetBound[] memory minReceive)
        internal
        returns (uint256[] memory spent, uint256[] memory received)
    {
        vm.prank(MANAGER);
        return module.execute(calls, maxSpend, minReceive);
    }

    function _moduleRefusal(Call[] memory calls, AssetBound[] memory maxSpend, AssetBound[] memory minReceive, bytes memory err)
        internal
    {
        vm.expectRevert(err);
        vm.prank(MANAGER);
        module.execute(calls, maxSpend, minReceive);
    }

    function _buyB(uint256 amount) internal view returns (Call[] memory) {
        return _calls(_approve(address(tokenA), address(v2), amount),
            _v2Swap(amount, 1, _path(address(tokenA), address(tokenB)), address(safe)));
    }

    function _refusedTarget(address target) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITradeGuard.TargetNotAllowed.selector, target);
    }
}

/// @notice What the module does when all is well, and what the Safe's owners keep.
contract SafeModuleTest is SafeModuleBase {
    function testRouterSwapMovesTheSafesFundsOnly() public {
        vm.recordLogs();
        (uint256[] memory spent, uint256[] memory received) =
            _moduleExecute(_buyB(1000), _bound(address(tokenA), 1000), _bound(address(tokenB), 1000));
        Assert.eq(spent[0], 1000, "spent");
        Assert.eq(received[0], 1000, "received");
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS - 1000, "Safe paid");
        Assert.eq(tokenB.balanceOf(address(safe)), 1000, "Safe received");
        Assert.eq(tokenB.balanceOf(address(module)), 0, "module holds nothing");
        Assert.eq(IERC20(address(tokenA)).allowance(address(safe), address(v2)), 0, "allowance reset");
        // Every Safe call the module made was a Call (operation 0), never a DelegateCall.
        Log[] memory logs = vm.getRecordedLogs();
        uint256 moduleTxs;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(safe) || logs[i].topics[0] != MODULE_TX_TOPIC) continue;
            (,,,, uint8 operation) = abi.decode(logs[i].data, (address, address, uint256, bytes, uint8));
            Assert.eq(operation, 0, "module used DelegateCall");
            ++moduleTxs;
        }
        Assert.eq(moduleTxs, 2, "approve, swap through the Safe (the swap used the whole allowance: no reset)");
    }

    function testConfigurationIsTheSafesAlone() public {
        address[3] memory callers = [MANAGER, OWNER, ATTACKER];
        for (uint256 k; k < 3; ++k) {
            vm.expectRevert(abi.encodeWithSelector(ISafeTradeModule.NotSafe.selector, callers[k]));
            vm.prank(callers[k]);
            module.setRouter(ATTACKER, RouterKind.UniswapV2);
        }
        // Through a Safe transaction of its owners it works.
        Assert.isTrue(_ownerTx(address(module), abi.encodeCall(ITradeGuard.setAssetManager, (ATTACKER)), 0), "owner tx");
        Assert.isTrue(module.assetManager() == ATTACKER, "manager set by the Safe");
        Assert.isTrue(module.owner() == address(safe) && module.custody() == address(safe), "the Safe owns and holds");
    }

    function testOwnersDisableTheModuleAndTradingStops() public {
        _ownerTx(address(safe), abi.encodeCall(ISafeFull.disableModule, (address(1), address(module))), 0);
        vm.expectRevert(bytes("GS104"));
        _moduleExecute(_buyB(1000), _bound(address(tokenA), 1000), _bound(address(tokenB), 1000));
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS, "untouched");
    }

    function testOwnersPauseThroughTheSafe() public {
        _ownerTx(address(module), abi.encodeCall(ITradeGuard.pause, ()), 0);
        _moduleRefusal(_buyB(1000), _bound(address(tokenA), 1000), _bound(address(tokenB), 1000),
            abi.encodeWithSelector(ITradeGuard.VaultPaused.selector));
    }

    function testAModuleNeedsASafe() public {
        vm.expectRevert(abi.encodeWithSelector(ISafeTradeModule.NotASafe.selector, ATTACKER));
        new SafeTradeModule(ATTACKER, MANAGER);
    }
}

/// @notice A leaked asset-manager key against the module: each attempt reverts with its custom error.
contract SafeModuleAdversarialTest is SafeModuleBase {
    function _spendA() internal view returns (AssetBound[] memory) {
        return _bound(address(tokenA), 1000);
    }

    function _receiveB() internal view returns (AssetBound[] memory) {
        return _bound(address(tokenB), 1);
    }

    /// @dev The Safe's own management functions, each called with the Safe as target.
    function _safeAdminCalls() internal view returns (bytes[] memory data) {
        data = new bytes[](9);
        data[0] = abi.encodeCall(ISafeFull.addOwnerWithThreshold, (ATTACKER, 1));
        data[1] = abi.encodeCall(ISafeFull.removeOwner, (address(1), OWNER, 1));
        data[2] = abi.encodeCall(ISafeFull.swapOwner, (address(1), OWNER, ATTACKER));
        data[3] = abi.encodeCall(ISafeFull.changeThreshold, (1));
        data[4] = abi.encodeCall(ISafeFull.enableModule, (ATTACKER));
        data[5] = abi.encodeCall(ISafeFull.disableModule, (address(1), address(module)));
        data[6] = abi.encodeCall(ISafeFull.setGuard, (ATTACKER));
        data[7] = abi.encodeCall(ISafeFull.setFallbackHandler, (ATTACKER));
        data[8] = abi.encodeCall(ISafeFull.execTransaction,
            (ATTACKER, 1 ether, "", 1, 0, 0, 0, address(0), address(0), abi.encodePacked(uint256(uint160(MANAGER)), bytes32(0), uint8(1))));
    }

    function testChangingTheSafeThroughTheModuleIsRefused() public {
        bytes[] memory data = _safeAdminCalls();
        for (uint256 k; k < data.length; ++k) {
            _moduleRefusal(_calls(Call(address(safe), data[k])), _spendA(), _receiveB(), _refusedTarget(address(safe)));
        }
        Assert.eq(safe.getOwners().length, 1, "owners unchanged");
        Assert.isTrue(!safe.isModuleEnabled(ATTACKER), "no module enabled");
    }

    /// @dev Even if the owners wrongly registered the Safe (or the module) as a router with an allowed pool, the
    /// module never makes the Safe call itself or the module (without the check, this call would reach the Safe).
    function testTheSafeAndTheModuleAreNeverTargetsEvenIfMisconfigured() public {
        address[2] memory targets = [address(safe), address(module)];
        for (uint256 t; t < 2; ++t) {
            vm.startPrank(address(safe));
            module.setRouter(targets[t], RouterKind.UniswapV2);
            module.setPoolAllowed(targets[t], address(tokenA), address(tokenB), 0, true);
            vm.stopPrank();
            bytes memory swap = abi.encodeWithSignature("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
                1000, 1, _path(address(tokenA), address(tokenB)), address(safe), block.timestamp);
            _moduleRefusal(_calls(Call(targets[t], swap)), _spendA(), _receiveB(),
                abi.encodeWithSelector(ISafeTradeModule.ForbiddenTarget.selector, targets[t]));
        }
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS, "untouched");
    }

    function testDelegatecallTargetsAreRefused() public {
        // MultiSend / any library the Safe would delegatecall: not a router, not an asset.
        address multiSend = _deploy(vm.getCode(string.concat(SAFE_ARTIFACTS, "libraries/MultiSend.sol/MultiSend.json")));
        _moduleRefusal(_calls(Call(multiSend, abi.encodeWithSignature("multiSend(bytes)", ""))), _spendA(), _receiveB(),
            _refusedTarget(multiSend));
        // The module's Safe entry point is not callable with a DelegateCall by anyone but an enabled module, and
        // the module itself only ever passes Call (see testRouterSwapMovesTheSafesFundsOnly).
        vm.prank(MANAGER);
        vm.expectRevert(bytes("GS104"));
        safe.execTransactionFromModule(ATTACKER, 0, "", 1);
    }

    function testApproveOrTransferToTheAttackerThroughTheSafe() public {
        _moduleRefusal(_calls(_approve(address(tokenA), ATTACKER, 1000)), _spendA(), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.SpenderNotAllowed.selector, ATTACKER));
        bytes[3] memory moves = [
            abi.encodeCall(IERC20.transfer, (ATTACKER, 1000)),
            abi.encodeCall(IERC20.transferFrom, (address(safe), ATTACKER, 1000)),
            abi.encodeWithSignature("increaseAllowance(address,uint256)", ATTACKER, 1000)
        ];
        for (uint256 k; k < 3; ++k) {
            _moduleRefusal(_calls(Call(address(tokenA), moves[k])), _spendA(), _receiveB(),
                abi.encodeWithSelector(ITradeGuard.SelectorNotAllowed.selector, address(tokenA), bytes4(moves[k])));
        }
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS, "untouched");
    }

    function testSwapOutputOnlyToTheSafe() public {
        address[4] memory thieves = [MANAGER, ATTACKER, address(module), address(0)];
        for (uint256 k; k < 4; ++k) {
            _moduleRefusal(
                _calls(_approve(address(tokenA), address(v2), 10), _v2Swap(10, 1, _path(address(tokenA), address(tokenB)), thieves[k])),
                _bound(address(tokenA), 10), _receiveB(), abi.encodeWithSelector(ITradeGuard.BadRecipient.selector, thieves[k]));
            _moduleRefusal(_calls(_v3Single(address(tokenA), address(tokenB), 3000, thieves[k], 10, 1)),
                _bound(address(tokenA), 10), _receiveB(), abi.encodeWithSelector(ITradeGuard.BadRecipient.selector, thieves[k]));
        }
    }

    function testVaultSuiteMainAttacks() public {
        // A pool not on the whitelist.
        _moduleRefusal(_calls(_v2Swap(10, 1, _path(address(tokenA), address(tokenC)), address(safe))),
            _bound(address(tokenA), 10), _bound(address(tokenC), 1),
            abi.encodeWithSelector(ITradeGuard.PoolNotAllowed.selector, address(v2), address(tokenA), address(tokenC), uint24(0)));
        // A path through a token that is not allowed.
        _moduleRefusal(_calls(_v2Swap(10, 1, _path(address(tokenA), address(unlisted), address(tokenB)), address(safe))),
            _bound(address(tokenA), 10), _receiveB(), abi.encodeWithSelector(ITradeGuard.AssetNotAllowed.selector, address(unlisted)));
        // An approve above the declared max spend.
        _moduleRefusal(_calls(_approve(address(tokenA), address(v2), 1001)), _spendA(), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.AmountExceedsMaxSpend.selector, 0, address(tokenA), 1001, 1000));
        // An arbitrary target.
        _moduleRefusal(_calls(Call(ATTACKER, hex"12345678")), _spendA(), _receiveB(), _refusedTarget(ATTACKER));
        // A router that under-delivers.
        v2.setMode(MockRouter.Mode.UnderDeliver, address(0));
        _moduleRefusal(_buyB(1000), _spendA(), _bound(address(tokenB), 1000),
            abi.encodeWithSelector(ITradeGuard.ReceiveTooLow.selector, address(tokenB), 500, 1000));
        // Not the asset manager.
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.NotAssetManager.selector, ATTACKER));
        vm.prank(ATTACKER);
        module.execute(_buyB(1000), _spendA(), _receiveB());
    }

    function testReenteringTheModuleFromATokenHook() public {
        tokenA.setReenter(address(module));
        _moduleRefusal(_buyB(1000), _spendA(), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.CallFailed.selector, 1, abi.encodeWithSelector(ITradeGuard.ReentrantCall.selector)));
    }

    function testAFailedSafeCallRevertsTheWholeExecute() public {
        // The swap reverts inside the Safe's call: the approve before it is undone too (fail closed).
        _moduleRefusal(
            _calls(_approve(address(tokenA), address(v2), 1000), _v2Swap(1000, 2000, _path(address(tokenA), address(tokenB)), address(safe))),
            _spendA(), _receiveB(),
            abi.encodeWithSelector(ITradeGuard.CallFailed.selector, 1, abi.encodeWithSignature("Error(string)", "Too little received")));
        Assert.eq(IERC20(address(tokenA)).allowance(address(safe), address(v2)), 0, "no allowance left");
    }
}

/// @notice The direct path through the module: the pool's callback comes to the module, which has the Safe
/// pay exactly what is owed; hostile pools and re-entry from the callback are refused.
contract SafeModuleDirectTest is SafeModuleBase {
    MockV3Factory internal mockf;
    HostileV3Pool internal evil;

    function setUp() public override {
        super.setUp();
        mockf = new MockV3Factory();
        evil = new HostileV3Pool(address(tokenA), address(tokenB));
        mockf.register(address(evil), address(tokenA), address(tokenB), 3000);
        tokenB.mint(address(evil), FUNDS);
        vm.prank(address(safe));
        module.setDirectPoolAllowed(address(mockf), DirectProtocol.UniswapV3, address(tokenA), address(tokenB), 3000, true);
    }

    function _route(uint256 amountIn) internal view returns (DirectRoute[] memory routes) {
        address[] memory pools = new address[](1);
        pools[0] = address(evil);
        routes = new DirectRoute[](1);
        routes[0] = DirectRoute(_path(address(tokenA), address(tokenB)), pools, amountIn, 1, block.timestamp);
    }

    function testDirectV3SwapPaidByTheSafe() public {
        vm.prank(MANAGER);
        (uint256[] memory spent, uint256[] memory received) =
            module.executeDirect(_route(1000), _bound(address(tokenA), 1000), _bound(address(tokenB), 1000));
        Assert.eq(spent[0], 1000, "spent");
        Assert.eq(received[0], 1000, "received");
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS - 1000, "Safe paid the pool");
        Assert.eq(tokenB.balanceOf(address(safe)), 1000, "Safe received");
    }

    function testAPaymentTheSafeCannotMakeRevertsTheSwap() public {
        tokenB.mint(address(evil), FUNDS + 1);
        bytes memory reason = abi.encodeWithSelector(
            IERC20Errors.ERC20InsufficientBalance.selector, address(safe), FUNDS, FUNDS + 1);
        vm.expectRevert(abi.encodeWithSelector(
            ISafeTradeModule.PoolPaymentFailed.selector, address(tokenA), address(evil), FUNDS + 1, reason));
        vm.prank(MANAGER);
        module.executeDirect(_route(FUNDS + 1), _bound(address(tokenA), FUNDS + 1), _bound(address(tokenB), 1));
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS, "untouched");
    }

    function testCallbackReentryAndHostilePools() public {
        bytes memory reenter = abi.encodeCall(IDirectSwap.executeDirect,
            (_route(1), _bound(address(tokenA), 1), _bound(address(tokenB), 1)));
        evil.setMode(HostileV3Pool.Mode.Reenter, address(0), reenter);
        vm.expectRevert(abi.encodeWithSelector(ITradeGuard.ReentrantCall.selector));
        vm.prank(MANAGER);
        module.executeDirect(_route(1000), _bound(address(tokenA), 1000), _bound(address(tokenB), 1));

        evil.setMode(HostileV3Pool.Mode.AskMore, address(0), "");
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.CallbackAmountTooHigh.selector, 1001, 1000));
        vm.prank(MANAGER);
        module.executeDirect(_route(1000), _bound(address(tokenA), 1000), _bound(address(tokenB), 1));

        // A callback outside a swap (anyone calling it to make the Safe pay) is refused.
        vm.expectRevert(abi.encodeWithSelector(IDirectSwap.UnexpectedCallback.selector, ATTACKER));
        vm.prank(ATTACKER);
        module.uniswapV3SwapCallback(1000, 0, "");
        Assert.eq(tokenA.balanceOf(address(safe)), FUNDS, "untouched");
    }
}
