// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV3SwapRouter, IUniswapSwapRouter02} from "../../src/interfaces/IUniswapRouters.sol";
import {IVault, Call, AssetBound} from "../../src/interfaces/IVault.sol";

/// @notice ERC-20 with test hooks: anyone may mint or burn (a "buggy" token), and it can re-enter the
/// vault from `transferFrom`.
contract HookToken is ERC20 {
    address public reenterVault;

    constructor(string memory symbol) ERC20(symbol, symbol) {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function burnFrom(address from, uint256 amount) external {
        _burn(from, amount);
    }

    function setReenter(address vault) external {
        reenterVault = vault;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (reenterVault != address(0)) {
            IVault(reenterVault).execute(new Call[](0), new AssetBound[](0), new AssetBound[](0));
        }
        return super.transferFrom(from, to, value);
    }
}

/// @notice A router speaking every accepted swap ABI at a fixed price: out = in * rateNum / rateDen.
/// Its `mode` turns it adversarial.
contract MockRouter {
    using SafeERC20 for IERC20;

    enum Mode { Honest, UnderDeliver, ReenterVault, PullHalf, BurnFromSender }

    uint256 public rateNum = 1;
    uint256 public rateDen = 1;
    Mode public mode;
    address public burnToken; // BurnFromSender: this HookToken gets burnt from the caller

    function setRate(uint256 num, uint256 den) external {
        (rateNum, rateDen) = (num, den);
    }

    function setMode(Mode m, address token) external {
        (mode, burnToken) = (m, token);
    }

    // UniswapV2Router02
    function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] calldata path, address to, uint256)
        external
        returns (uint256[] memory amounts)
    {
        amounts = new uint256[](path.length);
        amounts[path.length - 1] = _swap(path[0], path[path.length - 1], amountIn, amountOutMin, to);
    }

    // SwapRouter02's V2 variant (no deadline)
    function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] calldata path, address to)
        external
        payable
        returns (uint256)
    {
        return _swap(path[0], path[path.length - 1], amountIn, amountOutMin, to);
    }

    function exactInputSingle(IUniswapV3SwapRouter.ExactInputSingleParams calldata p) external payable returns (uint256) {
        return _swap(p.tokenIn, p.tokenOut, p.amountIn, p.amountOutMinimum, p.recipient);
    }

    function exactInput(IUniswapV3SwapRouter.ExactInputParams calldata p) external payable returns (uint256) {
        return _swap(_first(p.path), _last(p.path), p.amountIn, p.amountOutMinimum, p.recipient);
    }

    function exactInputSingle(IUniswapSwapRouter02.ExactInputSingleParams calldata p) external payable returns (uint256) {
        return _swap(p.tokenIn, p.tokenOut, p.amountIn, p.amountOutMinimum, p.recipient);
    }

    function exactInput(IUniswapSwapRouter02.ExactInputParams calldata p) external payable returns (uint256) {
        return _swap(_first(p.path), _last(p.path), p.amountIn, p.amountOutMinimum, p.recipient);
    }

    /// @notice Like the real routers: sends this router's whole balance of `token` to `recipient`.
    function sweepToken(address token, uint256, address recipient) external payable {
        IERC20(token).safeTransfer(recipient, IERC20(token).balanceOf(address(this)));
    }

    function _swap(address tokenIn, address tokenOut, uint256 amountIn, uint256 minOut, address to)
        private
        returns (uint256 out)
    {
        if (mode == Mode.ReenterVault) {
            IVault(msg.sender).execute(new Call[](0), new AssetBound[](0), new AssetBound[](0));
        }
        uint256 pulled = mode == Mode.PullHalf ? amountIn / 2 : amountIn;
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), pulled);
        out = pulled * rateNum / rateDen;
        if (mode == Mode.UnderDeliver) out /= 2; // ignores minOut
        else require(out >= minOut, "Too little received");
        if (mode == Mode.BurnFromSender) HookToken(burnToken).burnFrom(msg.sender, 1);
        IERC20(tokenOut).safeTransfer(to, out);
    }

    function _first(bytes calldata path) private pure returns (address) {
        return address(bytes20(path[:20]));
    }

    function _last(bytes calldata path) private pure returns (address) {
        return address(bytes20(path[path.length - 20:]));
    }
}

/// @notice A token that reverts on a zero-amount transfer (some real tokens do).
contract ZeroRevertToken is ERC20 {
    constructor() ERC20("Zero-reverting", "ZR") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        require(value != 0 || from == address(0), "zero transfer");
        super._update(from, to, value);
    }
}

/// @notice The oracle of a Uniswap V3 pool: a tick that the test (an attacker) moves, and the cumulative
/// tick history `observe` interpolates, as the real pool does (one observation per tick change).
contract MockTwapPool {
    address public token0;
    address public token1;
    uint32[] private _times;
    int56[] private _cumulatives;
    int24[] private _ticks;

    constructor(address a, address b, int24 tick) {
        (token0, token1) = a < b ? (a, b) : (b, a);
        _times.push(uint32(block.timestamp));
        _cumulatives.push(0);
        _ticks.push(tick);
    }

    /// @notice The pool's price moves to `tick` now (a swap).
    function setTick(int24 tick) external {
        uint256 last = _times.length - 1;
        int56 cumulative = _cumulatives[last] + int56(_ticks[last]) * int56(uint56(block.timestamp - _times[last]));
        if (_times[last] == block.timestamp) {
            _ticks[last] = tick;
            return;
        }
        _times.push(uint32(block.timestamp));
        _cumulatives.push(cumulative);
        _ticks.push(tick);
    }

    function observe(uint32[] calldata secondsAgos)
        external
        view
        returns (int56[] memory tickCumulatives, uint160[] memory secondsPerLiquidityCumulativeX128s)
    {
        tickCumulatives = new int56[](secondsAgos.length);
        secondsPerLiquidityCumulativeX128s = new uint160[](secondsAgos.length);
        for (uint256 k; k < secondsAgos.length; ++k) {
            uint256 target = block.timestamp - secondsAgos[k];
            require(target >= _times[0], "OLD");
            uint256 j = _times.length - 1;
            while (_times[j] > target) --j;
            tickCumulatives[k] = _cumulatives[j] + int56(_ticks[j]) * int56(uint56(target - _times[j]));
        }
    }
}
