"""The anvil launcher: start, answer, stop without orphans, clear errors."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from vaultexec.errors import BadInputError, ToolchainError
from vaultexec.testing.anvil import ANVIL_ENV_VAR, find_anvil, launch_anvil, start_anvil
from vaultexec.testing.process import is_process_alive


def test_launch_answers_and_stops_cleanly() -> None:
    with launch_anvil(chain_id=4242) as node:
        assert node.rpc("eth_chainId") == hex(4242)
        pid = node.process.pid if node.process else 0
        assert is_process_alive(pid)
    assert not is_process_alive(pid)


def test_anvil_pages_states_into_its_own_temp_dir_and_they_go_with_it() -> None:
    """anvil writes the states it pages out of memory under ~/.foundry/anvil/tmp and never removes them
    (gigabytes after a long run filled the disk): each instance keeps them in its own temp dir."""
    with launch_anvil() as node:
        own = node.log_path.parent
        node.rpc("anvil_mine", ["0x200"])  # beyond the states anvil keeps in memory
        assert list((own / ".foundry" / "anvil" / "tmp").glob("anvil-state-*"))
    assert not own.exists()


def test_options_reach_anvil() -> None:
    with launch_anvil(automine=False, base_fee=7_000_000_000, gas_limit=12_345_678) as node:
        block = node.rpc("eth_getBlockByNumber", ["latest", False])
        assert int(block["gasLimit"], 16) == 12_345_678
        assert int(block["baseFeePerGas"], 16) == 7_000_000_000
        before = int(node.rpc("eth_blockNumber"), 16)
        node.rpc("eth_sendTransaction", [{"from": node.rpc("eth_accounts")[0], "to": "0x" + "11" * 20,
                                          "value": "0x1"}])
        assert int(node.rpc("eth_blockNumber"), 16) == before  # automine off: nothing mined


def test_two_launchers_get_different_ports() -> None:
    with launch_anvil() as first, launch_anvil() as second:
        assert first.port != second.port
        assert first.rpc("eth_blockNumber") == second.rpc("eth_blockNumber") == "0x0"


def test_port_clash_gives_clear_error() -> None:
    with launch_anvil() as first, pytest.raises(ToolchainError, match=rf"port {first.port} .* already in use"):
        start_anvil(port=first.port)


def test_bad_binary_from_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ANVIL_ENV_VAR, str(tmp_path / "no-such-anvil"))
    with pytest.raises(ToolchainError, match=r"is not an executable file.*Run `vaultexec toolchain` once"):
        find_anvil()


def test_failing_binary_error_includes_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'error: something broke in anvil' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ToolchainError, match=r"(?s)exited with code 3.*something broke in anvil"):
        start_anvil(binary=str(fake))


def test_bad_option_error_includes_anvil_output() -> None:
    with pytest.raises(ToolchainError, match=r"(?s)exited with code \d+.*"):
        start_anvil(hardfork="not-a-hardfork")


def test_fork_of_another_anvil_sees_its_state() -> None:
    with launch_anvil() as base:
        account = base.rpc("eth_accounts")[0]
        base.rpc("eth_sendTransaction", [{"from": account, "to": "0x" + "22" * 20, "value": hex(12345)}])
        with launch_anvil(fork_url=base.url, chain_id=None) as fork:
            assert fork.rpc("eth_getBalance", ["0x" + "22" * 20, "latest"]) == hex(12345)
            assert fork.rpc("eth_chainId") == base.rpc("eth_chainId")


def test_dev_keys_are_anvils_accounts() -> None:
    from eth_account import Account

    from vaultexec.testing.anvil import DEV_PRIVATE_KEYS

    with launch_anvil() as node:
        accounts = node.rpc("eth_accounts")
    derived = [Account.from_key(key).address.lower() for key in DEV_PRIVATE_KEYS]
    assert derived == [address.lower() for address in accounts[: len(DEV_PRIVATE_KEYS)]]


def test_concurrent_launches_each_talk_to_their_own_node() -> None:
    """Anvil binds port 0 itself and reports it: launchers racing for ports never share a node."""
    from concurrent.futures import ThreadPoolExecutor

    def launch(chain_id: int) -> tuple[int, str, int]:
        node = start_anvil(chain_id=chain_id)
        try:
            return chain_id, node.rpc("eth_chainId"), node.port
        finally:
            node.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(launch, range(7001, 7007)))
    assert all(answered == hex(chain_id) for chain_id, answered, _ in results)


def test_fork_block_number_without_fork_url_is_refused() -> None:
    with pytest.raises(BadInputError, match=r"fork_block_number=5 needs fork_url"):
        start_anvil(fork_block_number=5)


def test_fork_block_number_forks_that_block() -> None:
    marker = "0x" + "33" * 20
    with launch_anvil() as base:
        base.rpc("evm_mine")
        base.rpc("evm_mine")
        account = base.rpc("eth_accounts")[0]
        base.rpc("eth_sendTransaction", [{"from": account, "to": marker, "value": hex(777)}])  # block 3
        with launch_anvil(fork_url=base.url, fork_block_number=2, chain_id=None) as fork:
            assert fork.rpc("eth_blockNumber") == "0x2"
            assert fork.rpc("eth_getBalance", [marker, "latest"]) == "0x0"  # paid in block 3: not forked


def test_load_state_starts_from_a_dumped_chain(tmp_path: Path) -> None:
    import gzip

    marker = "0x" + "44" * 20
    with launch_anvil() as first:
        first.rpc("anvil_setBalance", [marker, hex(4242)])
        first.rpc("evm_mine")
        dump = first.rpc("anvil_dumpState")
    state = tmp_path / "state.json"
    state.write_bytes(gzip.decompress(bytes.fromhex(dump.removeprefix("0x"))))
    with launch_anvil(load_state=str(state)) as second:
        assert second.rpc("eth_getBalance", [marker, "latest"]) == hex(4242)
        assert second.rpc("eth_blockNumber") == "0x1"


def test_block_time_mines_without_transactions() -> None:
    with launch_anvil(block_time=0.2) as node:
        first = int(node.rpc("eth_blockNumber"), 16)
        time.sleep(1.0)
        assert int(node.rpc("eth_blockNumber"), 16) >= first + 2


def test_rpc_batch_answers_in_call_order_and_reports_errors() -> None:
    with launch_anvil(chain_id=4343) as node:
        chain_id, block, accounts = node.rpc_batch([("eth_chainId", []), ("eth_blockNumber", []), ("eth_accounts", [])])
        assert (chain_id, block, len(accounts)) == (hex(4343), "0x0", 10)
        with pytest.raises(ValueError, match="no_such_method failed"):
            node.rpc_batch([("eth_chainId", []), ("no_such_method", [])])


def test_rpc_reconnects_after_a_restart() -> None:
    """The keep-alive connection of `rpc` survives the node restarting on the same port."""
    with launch_anvil() as node:
        assert node.rpc("eth_blockNumber") == "0x0"
        node.rpc("evm_mine")
        node.restart()
        assert node.rpc("eth_blockNumber") == "0x0"  # a new chain, reached on a new connection
