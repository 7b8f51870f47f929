// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Takes 1% of every transfer that is not a mint (a fee-on-transfer token).
contract FeeToken is ERC20 {
    constructor() ERC20("FEE", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value / 100;
        super._update(from, address(0xFEE), fee);
        super._update(from, to, value - fee);
    }
}

/// @notice After each transfer, when armed, calls `target` with `data` once and bubbles its revert.
contract ReenterToken is ERC20 {
    address public target;
    bytes public data;

    constructor() ERC20("HOOK", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata data_) external {
        (target, data) = (target_, data_);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = target;
        if (t == address(0) || from == address(0)) return;
        target = address(0); // once
        (bool ok, bytes memory ret) = t.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

/// @notice A factory that knows whatever pools it is told about (for hostile pools under a known factory).
contract MockV3Factory {
    mapping(address => mapping(address => mapping(uint24 => address))) public getPool;

    function register(address pool, address tokenA, address tokenB, uint24 fee) external {
        getPool[tokenA][tokenB][fee] = pool;
        getPool[tokenB][tokenA][fee] = pool;
    }
}

interface IV3Callback {
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}

/// @notice A V3-like pool at a 1:1 price that turns hostile by `mode`.
contract HostileV3Pool {
    enum Mode {
        Honest,
        AskMore,
        Twice,
        OtherPool,
        Reenter,
        UnderDeliver,
        SkipCallback
    }

    address public immutable token0;
    address public immutable token1;
    Mode public mode;
    address public other;
    bytes public reenterData;

    constructor(address tokenA, address tokenB) {
        (token0, token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
    }

    function setMode(Mode m, address other_, bytes calldata reenterData_) external {
        (mode, other, reenterData) = (m, other_, reenterData_);
    }

    /// @notice Call `vault`'s callback directly (outside any swap, or as "another pool" during one).
    function poke(address vault, int256 amount0, int256 amount1) external {
        IV3Callback(vault).uniswapV3SwapCallback(amount0, amount1, "");
    }

    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1)
    {
        uint256 amountIn = uint256(amountSpecified);
        (address tokenIn, address tokenOut) = zeroForOne ? (token0, token1) : (token1, token0);
        uint256 out = amountIn;
        Mode m = mode;
        IERC20(tokenOut).transfer(recipient, m == Mode.UnderDeliver ? out / 2 : out);
        int256 owed = int256(m == Mode.AskMore ? amountIn + 1 : amountIn);
        (amount0, amount1) = zeroForOne ? (owed, -int256(out)) : (-int256(out), owed);
        uint256 before = IERC20(tokenIn).balanceOf(address(this));
        if (m == Mode.Reenter) _call(msg.sender, reenterData);
        if (m == Mode.OtherPool) HostileV3Pool(other).poke(msg.sender, amount0, amount1);
        if (m != Mode.SkipCallback) IV3Callback(msg.sender).uniswapV3SwapCallback(amount0, amount1, data);
        if (m == Mode.Twice) IV3Callback(msg.sender).uniswapV3SwapCallback(amount0, amount1, data);
        if (m != Mode.SkipCallback) require(IERC20(tokenIn).balanceOf(address(this)) >= before + amountIn, "IIA");
    }

    function _call(address target, bytes memory data) private {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
