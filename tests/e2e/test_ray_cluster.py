"""Kiln on a local Ray cluster, loopback only: runs `ray_cluster_scenarios.py` (two CPU workers, affinity, a worker
killed mid-job, cancel) in a fresh network namespace whose only interface is loopback.

Ray 2.60 binds its servers to every interface of the machine, whatever node address it is given; inside the
namespace the kernel leaves it nothing but 127.0.0.1. Where user namespaces are not allowed (`unshare -rn`
fails), the scenarios run on the machine's network instead, with a warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "ray_cluster_scenarios.py"
TIMEOUT_SECONDS = 900


def _loopback_only_namespace_works() -> bool:
    try:
        probe = subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def test_ray_cluster_scenarios_in_a_loopback_only_network(tmp_path):
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path),
                      str(SCENARIOS)]
    if _loopback_only_namespace_works():
        # The namespace: loopback up, nothing else; then the scenarios, which start the server and its Ray instance.
        command = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *pytest_command]
    else:
        warnings.warn("unshare -rn is not allowed here: the Ray scenarios run on this machine's network", stacklevel=1)
        command = pytest_command
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    assert result.returncode == 0, f"{summary}\n{result.stdout[-20000:]}\n{result.stderr[-5000:]}"
    scenarios = SCENARIOS.read_text(encoding="utf-8").count("\nasync def test_")
    assert summary.startswith(f"{scenarios} passed") and "skipped" not in summary, result.stdout[-5000:]
