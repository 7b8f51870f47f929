// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TetherLikeToken
/// @notice Mimics USDT's awkward ERC-20 surface for tests: `approve`, `transfer` and `transferFrom`
/// return nothing, and changing a non-zero allowance to another non-zero value reverts
/// (the holder must reset it to 0 first). 6 decimals; only the owner mints.
contract TetherLikeToken {
    string public name;
    string public symbol;
    uint8 public constant decimals = 6;
    uint256 public totalSupply;
    address public immutable owner;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
        owner = msg.sender;
    }

    /// @notice Create `amount` raw units for `to`. Owner only.
    function mint(address to, uint256 amount) external {
        require(msg.sender == owner, "TetherLike: not owner");
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Move `value` from the caller to `to`. Returns nothing, like USDT.
    function transfer(address to, uint256 value) external {
        _transfer(msg.sender, to, value);
    }

    /// @notice Move `value` from `from` to `to` using the caller's allowance. Returns nothing, like USDT.
    function transferFrom(address from, address to, uint256 value) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "TetherLike: allowance");
            allowance[from][msg.sender] = allowed - value;
        }
        _transfer(from, to, value);
    }

    /// @notice Set the caller's allowance for `spender`; non-zero to non-zero reverts, like USDT.
    function approve(address spender, uint256 value) external {
        require(value == 0 || allowance[msg.sender][spender] == 0, "TetherLike: reset allowance to 0 first");
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
    }

    function _transfer(address from, address to, uint256 value) private {
        require(to != address(0), "TetherLike: to zero");
        uint256 balance = balanceOf[from];
        require(balance >= value, "TetherLike: balance");
        unchecked {
            balanceOf[from] = balance - value;
        }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
