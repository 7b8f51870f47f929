"""ERC-20 metadata and balances read from chain (decimals, symbol, balanceOf), with errors that say what is wrong."""

from __future__ import annotations

from eth_abi.abi import decode
from web3 import Web3

from vaultexec.dex.erc20 import decode_uint, encode_balance_of, encode_decimals, selector
from vaultexec.errors import ConfigurationError
from vaultexec.model.safetext import escape_text

SYMBOL = selector("symbol()")


def _call(web3: Web3, token: str, data: bytes, what: str) -> bytes:
    checksum = Web3.to_checksum_address(token)
    try:
        result = bytes(web3.eth.call({"to": checksum, "data": Web3.to_hex(data)}))
    except Exception as exc:  # web3 raises many types for a reverting or missing contract
        raise ConfigurationError(f"{checksum} does not answer {what}: is it an ERC-20 token on this chain? "
                                 f"({type(exc).__name__})") from exc
    if not result:
        raise ConfigurationError(f"{checksum} has no {what}: no ERC-20 token at this address on this chain.")
    return result


def token_decimals(web3: Web3, token: str) -> int:
    return decode_uint(_call(web3, token, encode_decimals(), "decimals()"))


def token_balance(web3: Web3, token: str, owner: str) -> int:
    """Raw balance of `owner`."""
    return decode_uint(_call(web3, token, encode_balance_of(owner), "balanceOf()"))


def token_symbol(web3: Web3, token: str) -> str:
    """The token's symbol (string ABI; bytes32 symbols of old tokens are decoded too), escaped: it is chain
    text anyone can choose (`model.safetext`)."""
    data = _call(web3, token, SYMBOL, "symbol()")
    if len(data) == 32:
        return escape_text(data.rstrip(b"\0").decode(errors="replace"))
    (raw,) = decode(["bytes"], data)
    return escape_text(raw.decode(errors="replace"))
