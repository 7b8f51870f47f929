"""Helpers of the vault tests: encode router calls with web3 contract objects, send `execute` as the asset
manager (signed locally), and read what happened (receipt, decoded custom error, `Executed`, balances)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from vaultexec.testing.world import World
from vaultexec.vault.state import VaultError, decode_vault_error, revert_data

DEADLINE = 2**40
EXECUTE_GAS = 3_000_000
MAX_UINT256 = 2**256 - 1

CallSpec = tuple[str, bytes]
Bound = tuple[str, int]


def data(contract: Contract, fn_name: str, *args: Any) -> bytes:
    """Calldata of `contract.fn_name(*args)`, selector included."""
    return Web3.to_bytes(hexstr=contract.encode_abi(fn_name, args=list(args)))


def approve(token: Contract, spender: str, amount: int) -> CallSpec:
    return token.address, data(token, "approve", Web3.to_checksum_address(spender), amount)


def v2_swap(router: Contract, amount_in: int, min_out: int, path: Sequence[str], to: str) -> CallSpec:
    """UniswapV2Router02.swapExactTokensForTokens (with deadline)."""
    return router.address, data(router, "swapExactTokensForTokens", amount_in, min_out, list(path), to, DEADLINE)


def router02_v2_swap(router02: Contract, amount_in: int, min_out: int, path: Sequence[str], to: str) -> CallSpec:
    """SwapRouter02's V2 swapExactTokensForTokens (no deadline)."""
    return router02.address, data(router02, "swapExactTokensForTokens", amount_in, min_out, list(path), to)


def v3_single(router: Contract, token_in: str, token_out: str, fee: int, to: str, amount_in: int, min_out: int,
              router02: bool = False) -> CallSpec:
    """exactInputSingle on SwapRouter (deadline) or SwapRouter02 (none); no price limit."""
    params: tuple[Any, ...] = ((token_in, token_out, fee, to, amount_in, min_out, 0) if router02
                               else (token_in, token_out, fee, to, DEADLINE, amount_in, min_out, 0))
    return router.address, data(router, "exactInputSingle", params)


def v3_path(tokens: Sequence[str], fees: Sequence[int]) -> bytes:
    """Packed V3 path: token, then fee (3 bytes) + token per hop."""
    packed = Web3.to_bytes(hexstr=tokens[0])
    for fee, token in zip(fees, tokens[1:], strict=True):
        packed += fee.to_bytes(3, "big") + Web3.to_bytes(hexstr=token)
    return packed


def v3_exact_input(router: Contract, path: bytes, to: str, amount_in: int, min_out: int,
                   router02: bool = False) -> CallSpec:
    params: tuple[Any, ...] = ((path, to, amount_in, min_out) if router02
                               else (path, to, DEADLINE, amount_in, min_out))
    return router.address, data(router, "exactInput", params)


@dataclass
class Outcome:
    """What one `execute` did: receipt, the custom error it reverted with, `Executed` args, balance deltas."""

    receipt: TxReceipt
    error: VaultError | None
    raw_revert: bytes
    executed: dict[str, Any] | None
    balance_deltas: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return int(self.receipt["status"]) == 1


class Trader:
    """The asset manager driving the vault on the world: simulate (eth_call) then send a signed transaction."""

    def __init__(self, world: World, vault: Contract, manager: LocalAccount) -> None:
        self.world, self.vault, self.manager = world, vault, manager
        self.web3 = world.web3

    def balances(self) -> dict[str, int]:
        return {symbol: token.functions.balanceOf(self.vault.address).call()
                for symbol, token in self.world.tokens.items()}

    def simulate(self, calls: Sequence[CallSpec], spend: Sequence[Bound], receive: Sequence[Bound],
                 sender: str | None = None, value: int = 0) -> bytes | None:
        """eth_call of execute; None if it would succeed, else the raw revert data."""
        calldata = self.vault.encode_abi("execute", args=[list(calls), list(spend), list(receive)])
        try:  # a raw eth_call: web3 refuses to build a call that sends ETH to a non-payable function
            self.web3.eth.call({"from": sender or self.manager.address, "to": self.vault.address,
                                "data": calldata, "value": value})  # type: ignore[typeddict-item]
        except (ContractCustomError, ContractLogicError) as exc:
            return revert_data(exc)
        return None

    def execute(self, calls: Sequence[CallSpec], spend: Sequence[Bound], receive: Sequence[Bound],
                value: int = 0, account: LocalAccount | None = None) -> Outcome:
        """Simulate, then sign and send with a fixed gas limit (no estimate), so a refusal lands on chain."""
        signer = account or self.manager
        raw = self.simulate(calls, spend, receive, sender=signer.address, value=value) or b""
        before = self.balances()
        tx = self.vault.functions.execute(list(calls), list(spend), list(receive)).build_transaction({
            "from": signer.address, "gas": EXECUTE_GAS,
            "nonce": self.web3.eth.get_transaction_count(signer.address, "pending")})
        tx["value"] = value
        tx_hash = self.web3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
        receipt = self.web3.eth.wait_for_transaction_receipt(tx_hash)
        after = self.balances()
        events = self.vault.events.Executed().process_receipt(receipt, errors=DISCARD)
        return Outcome(
            receipt=receipt,
            error=decode_vault_error(raw) if raw else None,
            raw_revert=raw,
            executed=dict(events[0]["args"]) if events else None,
            balance_deltas={symbol: after[symbol] - before[symbol] for symbol in after},
        )

    def refuse(self, calls: Sequence[CallSpec], spend: Sequence[Bound], receive: Sequence[Bound],
               value: int = 0, account: LocalAccount | None = None) -> VaultError:
        """Send an execute that must revert: check it reverted on chain, moved nothing, and return its error."""
        outcome = self.execute(calls, spend, receive, value=value, account=account)
        assert not outcome.ok, "the vault accepted a call it must refuse"
        assert all(delta == 0 for delta in outcome.balance_deltas.values()), outcome.balance_deltas
        assert outcome.error is not None, f"reverted without a vault custom error: 0x{outcome.raw_revert.hex()}"
        return outcome.error

    def allowances(self, spenders: Sequence[str]) -> dict[tuple[str, str], int]:
        """Every allowance from the vault, per (token symbol, spender)."""
        return {(symbol, spender): token.functions.allowance(self.vault.address, spender).call()
                for symbol, token in self.world.tokens.items() for spender in spenders}


def routers(world: World) -> list[str]:
    return [world.uniswap_v2_router.address, world.swap_router.address, world.swap_router02.address]


def selector(signature: str) -> bytes:
    return Web3.keccak(text=signature)[:4]


def call_error(fn: Any, sender: str) -> VaultError | None:
    """The vault custom error an eth_call of `fn` from `sender` reverts with; None if it succeeds."""
    try:
        fn.call({"from": sender})
    except (ContractCustomError, ContractLogicError) as exc:
        return decode_vault_error(revert_data(exc))
    return None


def send_as(web3: Web3, account: LocalAccount, fn: Any) -> tuple[TxReceipt, VaultError | None]:
    """Sign and send `fn` from `account` with a fixed gas limit; the custom error from an eth_call first."""
    error = call_error(fn, account.address)
    tx = fn.build_transaction({"from": account.address, "gas": EXECUTE_GAS,
                               "nonce": web3.eth.get_transaction_count(account.address, "pending")})
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))
    return receipt, error


def refused_as(web3: Web3, account: LocalAccount, fn: Any) -> VaultError:
    """`fn` sent from `account` must revert on chain with a vault custom error, which is returned."""
    receipt, error = send_as(web3, account, fn)
    assert receipt["status"] == 0, "the vault accepted a call it must refuse"
    assert error is not None
    return error
