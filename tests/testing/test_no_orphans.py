"""No orphan servers: whatever happens to the process that started anvil or redis-server, the server goes.

Each test runs a real owner process (a script, or a pytest session using the fixtures), kills it with a
real signal and checks the server's pid is gone.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from subsession import gone, pytest_command, subsession_env, wait_until, write_project

from vaultexec.testing.anvil import AnvilInstance, start_anvil
from vaultexec.testing.process import is_process_alive

OWNER = """
    import sys, threading, time
    from vaultexec.testing.anvil import start_anvil
    from vaultexec.testing.redis import start_redis

    kind, where = sys.argv[1], sys.argv[2]
    start = start_anvil if kind == "anvil" else start_redis
    servers = []
    if where == "thread":  # started from a thread that has exited by the time the owner dies
        worker = threading.Thread(target=lambda: servers.append(start()))
        worker.start()
        worker.join()
    else:
        servers.append(start())
    print(servers[0].process.pid, flush=True)
    time.sleep(120)
"""


def _start_owner(tmp_path: Path, kind: str, where: str) -> tuple[subprocess.Popen[str], int]:
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(OWNER))
    owner = subprocess.Popen([sys.executable, str(script), kind, where], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    line = owner.stdout.readline()
    assert line.strip().isdigit(), f"the owner did not start its server: {line!r}"
    return owner, int(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize(("kind", "where"), [("anvil", "main"), ("redis", "main"), ("anvil", "thread")])
def test_server_dies_with_its_owner(tmp_path: Path, kind: str, where: str, sig: signal.Signals) -> None:
    owner, server_pid = _start_owner(tmp_path, kind, where)
    assert is_process_alive(server_pid)
    owner.send_signal(sig)
    assert owner.wait(timeout=30) == -sig
    assert gone(server_pid), f"{kind} (pid {server_pid}) outlived its owner killed by {sig.name}"


def test_server_started_from_a_thread_outlives_the_thread() -> None:
    """PR_SET_PDEATHSIG fires when the forking *thread* exits: servers are forked from a thread that lives
    as long as the process, so a worker thread's exit does not kill the server it started."""
    started: list[AnvilInstance] = []
    worker = threading.Thread(target=lambda: started.append(start_anvil()))
    worker.start()
    worker.join()
    node = started[0]
    try:
        time.sleep(0.3)
        assert node.is_running()
        assert node.rpc("eth_blockNumber") == "0x0"
    finally:
        node.close()


def test_atexit_closes_servers_and_removes_their_temp_files(tmp_path: Path) -> None:
    """A script that never closes its servers (one stopped, not closed) leaves no process and no temp dir."""
    script = tmp_path / "leaky.py"
    script.write_text(textwrap.dedent("""
        import json
        from vaultexec.testing.anvil import start_anvil
        from vaultexec.testing.redis import start_redis
        node, redis = start_anvil(), start_redis()
        redis.stop()
        print(json.dumps({"pid": node.process.pid, "dirs": [str(node.log_path.parent), str(redis.data_dir)]}))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    left = json.loads(done.stdout)
    assert gone(left["pid"])
    assert [folder for folder in left["dirs"] if Path(folder).exists()] == []


SESSION_TEST = """
    import json, os, time

    def test_waits_to_be_killed(anvil, world_base):
        base, _ = world_base
        servers = [anvil, base]
        report = {"pids": [s.process.pid for s in servers], "dirs": [str(s.log_path.parent) for s in servers]}
        with open(os.environ["REPORT_FILE"] + ".tmp", "w") as file:
            json.dump(report, file)
        os.replace(os.environ["REPORT_FILE"] + ".tmp", os.environ["REPORT_FILE"])
        time.sleep(120)
"""


def _start_session(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, list[int]]]:
    (tmp_path / "project").mkdir()
    project = write_project(tmp_path / "project", {"test_hang.py": SESSION_TEST})
    report_file = tmp_path / "report.json"
    session = subprocess.Popen(pytest_command(project, "-s"), cwd=project, text=True,
                               env=subsession_env({"REPORT_FILE": str(report_file)}),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not wait_until(report_file.exists, timeout=120):
        session.kill()
        raise AssertionError(f"the sub-session never started its test:\n{session.communicate()[0]}")
    report: dict[str, list[int]] = json.loads(report_file.read_text())
    return session, report


def test_sigterm_to_a_pytest_session_runs_fixture_teardown(tmp_path: Path) -> None:
    """The plugin turns SIGTERM into KeyboardInterrupt: teardown closes the anvils (processes *and* temp
    dirs, which the kernel's death signal alone would leave behind)."""
    session, report = _start_session(tmp_path)
    session.send_signal(signal.SIGTERM)
    output = session.communicate(timeout=60)[0]
    assert session.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output
    assert all(gone(pid) for pid in report["pids"]), output
    assert [folder for folder in report["dirs"] if Path(folder).exists()] == [], output


def test_sigkill_to_a_pytest_session_leaves_no_anvil(tmp_path: Path) -> None:
    session, report = _start_session(tmp_path)
    session.kill()
    session.communicate(timeout=60)
    assert all(gone(pid) for pid in report["pids"])
