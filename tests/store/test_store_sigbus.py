"""A store whose file system turns read-only mid-batch: a typed StoreError, not SIGBUS (issue 13, item 3).

The store lives on a real ext4 (a loop device, needs root). A child process opens it, stores a trade, flushes
the page cache (the WAL index pages of `-shm` become clean and write-protected: the next write to them goes
through the file system) and then the file system fails under it: `emergency_ro` (an ext4 error with
errors=remount-ro, as a failing disk gives) or a forced shutdown (EXT4_IOC_SHUTDOWN). The child's next write
must raise a StoreError; a SIGBUS kills only the child and fails the test (exit by signal).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHILD = r"""
import fcntl, os, struct, sys
sys.path.insert(0, sys.argv[3])
from store_samples import VAULT, make_trade, started
from vaultexec.errors import StoreError
from vaultexec.store.sqlite import SQLiteStore

mount, how = sys.argv[1], sys.argv[2]
store = SQLiteStore(os.path.join(mount, "store.db"), VAULT)
for _ in range(3):
    store.create(started(make_trade()))
os.sync()
if how == "shutdown":
    fd = os.open(mount, os.O_RDONLY)
    fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))  # EXT4_IOC_SHUTDOWN, EXT4_GOING_FLAGS_NOLOGFLUSH
    os.close(fd)
else:
    with open(f"/sys/fs/ext4/{sys.argv[4]}/trigger_fs_error", "w") as sysfs:
        sysfs.write("test\n")
try:
    for _ in range(50):
        store.create(started(make_trade()))
except StoreError as exc:
    print(f"StoreError: {type(exc).__name__}: {exc}", flush=True)
    sys.exit(3)
print("all writes stored", flush=True)
"""


@pytest.fixture()
def ext4_mount(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An 8 MiB ext4 on a loop device mounted with errors=remount-ro; skipped without root or tools."""
    if os.geteuid() != 0 or not (shutil.which("mkfs.ext4") and shutil.which("losetup")):
        pytest.skip("needs root, mkfs.ext4 and losetup")
    image, mount = tmp_path / "fs.img", tmp_path / "mnt"
    mount.mkdir()
    with image.open("wb") as file:
        file.truncate(8 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    attached = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if attached.returncode != 0:
        pytest.skip(f"no loop device: {attached.stderr.strip()}")
    device = attached.stdout.strip()
    try:
        if subprocess.run(["mount", "-o", "errors=remount-ro", device, str(mount)]).returncode != 0:
            pytest.skip("cannot mount the ext4 image")
        try:
            yield mount, os.path.basename(device)
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)
    finally:
        subprocess.run(["losetup", "-d", device], check=False)


@pytest.mark.parametrize("how", ["emergency_ro", "shutdown"])
def test_file_system_failing_mid_batch_is_a_store_error_not_sigbus(ext4_mount: tuple[Path, str], how: str) -> None:
    mount, device = ext4_mount
    tests_store = str(Path(__file__).parent)
    child = subprocess.run([sys.executable, "-c", CHILD, str(mount), how, tests_store, device],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode >= 0, f"the child died by signal {-child.returncode}: {child.stderr[-2000:]}"
    assert child.returncode == 3, f"exit {child.returncode}: {child.stdout} {child.stderr[-2000:]}"
    assert "StoreError" in child.stdout and ("I/O error" in child.stdout or "malformed" in child.stdout)


TRUNCATING_CHILD = r"""
import os, sys
sys.path.insert(0, sys.argv[2])
from store_samples import VAULT, make_trade, started
from vaultexec.errors import StoreError
from vaultexec.store.sqlite import SQLiteStore

path, step = sys.argv[1], sys.argv[3]
store = SQLiteStore(path, VAULT)
store.create(started(make_trade()))
if step == "truncated":
    os.truncate(path + "-shm", 0)  # what another program (a cleanup, a copy tool) may do to the store's files
else:
    os.replace(path + "-shm", path + "-shm.old")
failures = []
for name, call in (("write", lambda: store.create(started(make_trade()))), ("read", store.count)):
    try:
        call()
    except StoreError as exc:
        failures.append(f"{name}: {type(exc).__name__}: {exc}")
print("\n".join(failures), flush=True)
sys.exit(3 if len(failures) == 2 else 0)
"""


@pytest.mark.parametrize("step", ["truncated", "replaced"])
def test_wal_index_truncated_or_replaced_under_the_store_is_a_store_error_not_sigbus(tmp_path: Path,
                                                                                    step: str) -> None:
    """SQLite maps the WAL index (`-shm`) whatever mmap_size says: a page cut off the file under the mapping
    kills the process with SIGBUS on the next access (measured: exit by signal 7 before the fix)."""
    child = subprocess.run([sys.executable, "-c", TRUNCATING_CHILD, str(tmp_path / "store.db"),
                            str(Path(__file__).parent), step], capture_output=True, text=True, timeout=60)
    assert child.returncode >= 0, f"the child died by signal {-child.returncode}: {child.stderr[-2000:]}"
    assert child.returncode == 3, f"exit {child.returncode}: {child.stdout} {child.stderr[-2000:]}"
    assert child.stdout.count("StoreUnavailableError") == 2 and "-shm" in child.stdout
