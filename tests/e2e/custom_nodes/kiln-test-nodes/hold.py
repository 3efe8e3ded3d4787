"""A test-only hook, no nodes: a prompt whose `extra_data` has `kiln_test_hold_seconds` waits that long after it
was taken from the queue and before its run starts, so a test can interrupt it in that window (the interrupt must
stop it as soon as it starts). It wraps `execution.PromptExecutor.execute` at import, as some custom-node packs
wrap ComfyUI's; on Ray workers too, which load the same custom nodes."""

import time

import execution

MAX_HOLD_SECONDS = 30.0


def _held(execute):
    def held_execute(self, prompt, prompt_id, extra_data=None, execute_outputs=None, **options):
        hold = (extra_data or {}).get("kiln_test_hold_seconds")
        if isinstance(hold, (int, float)) and 0 < hold <= MAX_HOLD_SECONDS:
            time.sleep(hold)
        return execute(self, prompt, prompt_id, extra_data, execute_outputs, **options)

    held_execute.kiln_test_hold = True
    return held_execute


if not getattr(execution.PromptExecutor.execute, "kiln_test_hold", False):
    execution.PromptExecutor.execute = _held(execution.PromptExecutor.execute)

NODE_CLASS_MAPPINGS = {}
