"""Test-wide settings: one CPU thread (this machine has two cores and tests run beside a server)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
