"""bench/load.py run small: 10 WebSocket clients submit 60 prompts at once to a server the script starts itself.

Asserts the correctness the bench checks (every prompt accepted and completed, each client's complete and private
message sequence, no 5xx, an empty queue afterwards), never its timings.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import REPO_ROOT


def test_load_bench_small_run_completes_every_prompt_with_private_complete_sequences(tmp_path):
    report_path = tmp_path / "load.json"
    finished = subprocess.run(
        [sys.executable, "bench/load.py", "--clients", "10", "--prompts", "60", "--timeout", "120",
         "--json", str(report_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, f"{finished.stdout}\n{finished.stderr[-4000:]}"
    report = json.loads(report_path.read_text())
    assert report["ok"] and report["problems"] == []
    assert (report["clients"], report["prompts"]) == (10, 60)
    assert report["accepted"] == report["completed"] == 60
    assert report["server_errors"] == 0
    assert report["queue_remaining_after"] == 0
