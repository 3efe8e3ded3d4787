"""Kiln on many machines: prompts from the durable queue run on Ray worker actors (`--ray`, `main.py worker`).

`affinity` (which worker runs which job) and `transfer` (files to and from workers) are plain Python; `worker`
is the actor's body, importable without Ray; `cluster` and `dispatcher` import Ray, and are imported only when
`--ray` is given.
"""
