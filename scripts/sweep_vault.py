"""Sweep a vault back to its owner: withdraw the whole balance of each given token (owner key only).

Usage (owner key in VAULTEXEC_PRIVATE_KEY, never printed):
    .venv/bin/python scripts/sweep_vault.py --rpc-url URL --vault 0xVAULT 0xTOKEN [0xTOKEN ...] [--dry-run]
The vault's `withdraw(asset, amount)` always pays its owner, so nothing can be sent elsewhere.
A mistake (no key, not the owner, bad address, node down) is one line on stderr and a non-zero exit code
(the codes of `vaultexec`, docs/cli.md); nothing is sent before every token's balance is read.
"""

from __future__ import annotations

import argparse

from web3 import Web3

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import account_from_env
from vaultexec.cli.chainread import token_balance
from vaultexec.cli.failures import run_script
from vaultexec.errors import ConfigurationError
from vaultexec.vault.deploy import get_vault
from vaultexec.vault.sender import send_and_wait


def address(text: str) -> str:
    """argparse type: a checksummed address, or a usage error."""
    if not Web3.is_address(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (0x + 40 hex digits)")
    return Web3.to_checksum_address(text)

WHOLE_BALANCE = 2**256 - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--vault", required=True, type=address)
    parser.add_argument("tokens", nargs="+", metavar="TOKEN", type=address)
    parser.add_argument("--dry-run", action="store_true", help="show balances, send nothing")
    args = parser.parse_args()

    owner = account_from_env()  # VAULTEXEC_PRIVATE_KEY
    web3 = connect_web3(RPCClient(args.rpc_url))
    vault = get_vault(web3, args.vault)
    if owner.address != vault.functions.owner().call():
        raise ConfigurationError(f"{owner.address} is not the owner of {vault.address}; nothing sent")
    balances = {token: token_balance(web3, token, vault.address) for token in args.tokens}  # all read first
    for token, balance in balances.items():
        if balance == 0 or args.dry_run:
            print(f"{token}: {balance} raw{'' if balance else ' (nothing to sweep)'}")
            continue
        # 2**256-1 = "the whole balance at execution": a trade landing first cannot make it revert.
        receipt = send_and_wait(web3, owner, vault.functions.withdraw(token, WHOLE_BALANCE))
        print(f"{token}: swept the whole balance (~{balance} raw) to {owner.address} in "
              f"{receipt['transactionHash'].hex()}")


if __name__ == "__main__":
    run_script(main)
