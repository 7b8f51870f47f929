"""Export yesterday's settled trades (UTC) of one vault to CSV, e.g. from a daily cron job.

Usage:
    .venv/bin/python scripts/export_yesterday.py --vault 0xVAULT [--store sqlite:///vaultexec.db] [--out DIR]
Writes DIR/trades-<vault prefix>-<day>.csv (header only when there was no trade) and prints its caption.
A mistake (bad vault address, unreachable store, folder that cannot be written) is one line on stderr (-v
adds debug logs and the traceback) and a non-zero exit code (those of `vaultexec`, docs/cli.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from vaultexec.cli.argtypes import script_parser
from vaultexec.cli.failures import run_script
from vaultexec.cli.files import write_atomically
from vaultexec.store import open_store
from vaultexec.store.export import export_csv


def main() -> None:
    parser = script_parser(__doc__)
    parser.add_argument("--vault", required=True)
    parser.add_argument("--store", default="sqlite:///vaultexec.db")
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()

    day = datetime.now(UTC).date() - timedelta(days=1)
    start = datetime.combine(day, time())  # the model's times are naive UTC
    end = start + timedelta(days=1) - timedelta(microseconds=1)
    store = open_store(args.store, args.vault)
    try:
        target = args.out / f"trades-{store.vault[:10]}-{day:%Y-%m-%d}.csv"
        # All or nothing: a failure half-way (e.g. a corrupt record) leaves an earlier export untouched.
        caption = write_atomically(target, lambda stream: export_csv(store.iterate_by_time(start, end), stream))
    finally:
        store.close()
    print(f"{caption or f'No settled trade on {day}'}: {target}")


if __name__ == "__main__":
    run_script(main)
