"""Kiln on many machines: prompts from the durable queue run on Ray worker actors (`--ray`, `main.py worker`).

`affinity` (which worker runs which job) and `transfer` (files to and from workers) are plain Python; `worker`
is the actor's body and `dispatcher` the server's runner (routing and bookkeeping), both importable without Ray;
`cluster` holds every Ray call (the cluster, the actors, `RayWorkerCalls`) and is imported only when `--ray` is
given.
"""

import os


def prepare_ray_environment() -> None:
    """Call before Ray is first imported. Ray 2.60 clusters use token authentication by default, but a driver
    that joins an explicit HOST:PORT sends the token only in token mode, which Ray reads at import: choose it
    whenever this machine has a token (`~/.ray/auth_token`, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH)."""
    if "RAY_AUTH_MODE" not in os.environ and (
            os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
            or os.path.isfile(os.path.expanduser("~/.ray/auth_token"))):
        os.environ["RAY_AUTH_MODE"] = "token"
