"""Sweep a vault back to its owner: withdraw the whole balance of each given token (owner key only).

Usage (owner key in VAULTEXEC_PRIVATE_KEY, never printed):
    .venv/bin/python scripts/sweep_vault.py --rpc-url URL --vault 0xVAULT 0xTOKEN [0xTOKEN ...] [--dry-run]
The vault's `withdraw(asset, amount)` always pays its owner, so nothing can be sent elsewhere.
A mistake (no key, not the owner, not a vault, bad address, node down) is one line on stderr (-v adds
debug logs and the traceback) and a non-zero exit code (the codes of `vaultexec`, docs/cli.md); nothing
is sent before every token's balance is read.
"""

from __future__ import annotations

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import account_from_env
from vaultexec.cli.argtypes import address, script_parser
from vaultexec.cli.chainread import require_owner, token_balance
from vaultexec.cli.failures import run_script
from vaultexec.execution.routing_input import MAX_UINT256
from vaultexec.vault.deploy import get_vault
from vaultexec.vault.sender import send_and_wait

#: `withdraw(asset, amount)` with this amount withdraws the whole balance at execution.
WHOLE_BALANCE = MAX_UINT256


def main() -> None:
    parser = script_parser(__doc__)
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--vault", required=True, type=address)
    parser.add_argument("tokens", nargs="+", metavar="TOKEN", type=address)
    parser.add_argument("--dry-run", action="store_true", help="show balances, send nothing")
    args = parser.parse_args()

    owner = account_from_env()  # VAULTEXEC_PRIVATE_KEY
    web3 = connect_web3(RPCClient(args.rpc_url))
    vault = get_vault(web3, args.vault)
    require_owner(vault, owner.address, "withdraw from it")
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
