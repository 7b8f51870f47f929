"""What the scripts in scripts/ share on their command line: the parser and the argparse types."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from web3 import Web3

from vaultexec.cli.failures import VERBOSE_OPTIONS


def script_parser(description: str | None) -> argparse.ArgumentParser:
    """A parser showing the script's docstring as is, with -v / --verbose (read by `failures.run_script`)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(*VERBOSE_OPTIONS, action="store_true", help="debug logs, and the traceback of an error")
    return parser


def address(text: str) -> str:
    """argparse type: a checksummed address, or a usage error."""
    if not Web3.is_address(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (0x + 40 hex digits)")
    return Web3.to_checksum_address(text)


def positive_decimal(text: str) -> Decimal:
    """argparse type: a finite positive decimal (amounts and tolerances are never floats)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value
