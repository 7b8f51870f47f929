"""Sweep a vault back to its owner: withdraw the whole balance of each given token (owner key only).

Usage (owner key in VAULTEXEC_PRIVATE_KEY):
    .venv/bin/python scripts/sweep_vault.py --rpc-url URL --vault 0xVAULT 0xTOKEN [0xTOKEN ...] [--dry-run]
The vault's `withdraw(asset, amount)` always pays its owner, so nothing can be sent elsewhere.
"""

from __future__ import annotations

import argparse
import os

from eth_account import Account
from web3 import Web3

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import DEFAULT_KEY_ENV_VAR
from vaultexec.dex.erc20 import decode_uint, encode_balance_of
from vaultexec.vault.deploy import get_vault
from vaultexec.vault.sender import send_and_wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--vault", required=True)
    parser.add_argument("tokens", nargs="+", metavar="TOKEN")
    parser.add_argument("--dry-run", action="store_true", help="show balances, send nothing")
    args = parser.parse_args()

    web3 = connect_web3(RPCClient(args.rpc_url))
    vault = get_vault(web3, args.vault)
    owner = Account.from_key(os.environ[DEFAULT_KEY_ENV_VAR])
    if owner.address != vault.functions.owner().call():
        raise SystemExit(f"{owner.address} is not the owner of {vault.address}; nothing sent")
    for token in args.tokens:
        address = Web3.to_checksum_address(token)
        balance = decode_uint(bytes(web3.eth.call({"to": address, "data": encode_balance_of(vault.address)})))
        if balance == 0 or args.dry_run:
            print(f"{address}: {balance} raw{'' if balance else ' (nothing to sweep)'}")
            continue
        receipt = send_and_wait(web3, owner, vault.functions.withdraw(address, balance))
        print(f"{address}: swept {balance} raw to {owner.address} in {receipt['transactionHash'].hex()}")


if __name__ == "__main__":
    main()
