"""What every kiln-test node shares: its category, and a counter that makes each execution visible."""

import itertools

CATEGORY = "kiln_test"

_executions = itertools.count(1)


def next_execution_number() -> int:
    """A number that grows by one on every call in this server process; output nodes report it in their ui."""
    return next(_executions)
