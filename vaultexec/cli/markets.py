"""Markets as the CLI names them; the resolver itself lives in `vaultexec.execution.markets` (re-exported)."""

from vaultexec.execution.markets import (
    DEPLOYMENT_FIELDS,
    VENUES,
    MarketRequest,
    MarketResolver,
    check_router_option,
    find_pool,
    parse_pair,
    register_config_deployment,
)

__all__ = ["DEPLOYMENT_FIELDS", "VENUES", "MarketRequest", "MarketResolver", "check_router_option", "find_pool",
           "parse_pair", "register_config_deployment"]
