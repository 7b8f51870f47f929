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
