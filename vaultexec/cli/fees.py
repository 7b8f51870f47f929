"""The fee policy options of the commands that send (`trade`, `resume`, `repair`): a tip floor, a fee cap and
legacy pricing, overriding the chain's registered policy (`dex.deployments.fee_policy`).

Values are gwei as decimals ("30", "1.5"); in wei the floor is rounded up and the cap down (never below the
floor asked, never above the cap asked). A bad value is a usage error before anything is contacted; a cap
below the fee the chain needs refuses the batch before signing (`FeeCapExceededError`, exit 15).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vaultexec.chain.gas import GWEI, FeePolicy
from vaultexec.dex.deployments import fee_policy

MIN_TIP_ENV_VAR = "VAULTEXEC_MIN_TIP_GWEI"
MAX_FEE_ENV_VAR = "VAULTEXEC_MAX_FEE_GWEI"
LEGACY_GAS_ENV_VAR = "VAULTEXEC_LEGACY_GAS"
#: Above this many gwei per gas a value is surely a unit mistake (wei given as gwei): refused.
MAX_GWEI = Decimal(1_000_000)

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # click >= 8.2 types ParamType as a generic; 8.1's cannot be subscripted at run time
    _ParamType = click.ParamType[int, Any]
else:
    _ParamType = click.ParamType


class Gwei(_ParamType):
    """A fee per gas in gwei -> wei (int), rounded up for a floor (`ceil`) and down for a cap."""

    name = "gwei"

    def __init__(self, ceil: bool, positive: bool) -> None:
        self.ceil = ceil
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            gwei = Decimal(str(value).strip().lower().removesuffix("gwei").strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not a number of gwei (e.g. 30 or 1.5)", param, ctx)
        if not gwei.is_finite() or gwei < 0 or (self.positive and gwei == 0):
            self.fail(f"{value!r} must be a {'positive' if self.positive else 'non-negative'} number of gwei",
                      param, ctx)
        if gwei > MAX_GWEI:
            self.fail(f"{value} gwei per gas is more than {MAX_GWEI} gwei: the value is in gwei, not wei", param, ctx)
        wei = (gwei * GWEI).to_integral_value(ROUND_CEILING if self.ceil else ROUND_FLOOR)
        if self.positive and wei == 0:
            self.fail(f"{value} gwei is below 1 wei", param, ctx)
        return int(wei)


def fee_options(command: F) -> F:
    """Add --min-tip-gwei, --max-fee-gwei and --legacy-gas/--eip1559-gas (each with its env var) to `command`."""
    options = [
        click.option("--min-tip-gwei", "min_tip", type=Gwei(ceil=True, positive=False), envvar=MIN_TIP_ENV_VAR,
                     metavar="GWEI", help="Least priority fee (tip) per gas, over the node's suggestion and the "
                     f"chain's floor [env {MIN_TIP_ENV_VAR}]."),
        click.option("--max-fee-gwei", "max_fee", type=Gwei(ceil=False, positive=True), envvar=MAX_FEE_ENV_VAR,
                     metavar="GWEI", help="Most a transaction may offer per gas (max fee or legacy gas price); a "
                     f"batch needing more is refused before signing (exit 15) [env {MAX_FEE_ENV_VAR}]."),
        click.option("--legacy-gas/--eip1559-gas", "legacy", default=None, envvar=LEGACY_GAS_ENV_VAR,
                     help="Price with a legacy gasPrice (or EIP-1559 fees) whatever the chain's default "
                     f"[env {LEGACY_GAS_ENV_VAR}=1/0]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def check_fee_options(min_tip: int | None, max_fee: int | None) -> None:
    """A cap below the floor can never be met: a usage error before anything is contacted."""
    if min_tip is not None and max_fee is not None and max_fee < min_tip:
        raise click.UsageError(f"--max-fee-gwei ({max_fee / GWEI:g} gwei) is below --min-tip-gwei "
                               f"({min_tip / GWEI:g} gwei): no transaction could pay both. Raise the cap or lower "
                               "the tip; nothing was sent.")


def policy_from_options(chain_id: int, min_tip: int | None, max_fee: int | None, legacy: bool | None
                        ) -> FeePolicy | None:
    """The chain's fee policy with the given overrides (None: nothing given, the executor's default)."""
    if min_tip is None and max_fee is None and legacy is None:
        return None
    return fee_policy(chain_id, min_priority_fee=min_tip, max_fee=max_fee, legacy=legacy)
