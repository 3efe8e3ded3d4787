"""GET /history's paging (comfy_execution/prompt_queue.PromptQueue.get_history): ComfyUI's offset and max_items
rules exactly, negative offsets and offsets at or past the end included."""

import pytest

from comfy_execution.prompt_queue import ExecutionStatus, PromptQueue

ENTRIES = 4


def comfyui_page(ids: list[str], max_items: int | None, offset: int) -> list[str]:
    """ComfyUI's rule, as its protocol reference states it: oldest first; a negative offset with max_items means
    the newest max_items; items at index >= offset are taken, the max_items check coming after each is added."""
    if offset < 0 and max_items is not None:
        offset = len(ids) - max_items
    page: list[str] = []
    for index, prompt_id in enumerate(ids):
        if index >= offset:
            page.append(prompt_id)
            if max_items is not None and len(page) >= max_items:
                break
    return page


@pytest.fixture(scope="module")
def queue_with_history() -> tuple[PromptQueue, list[str]]:
    queue = PromptQueue()
    ids = [f"prompt-{index}" for index in range(ENTRIES)]
    for index, prompt_id in enumerate(ids):
        queue.put((index, prompt_id, {}, {}, []))
        item, item_id = queue.get(timeout=0)
        queue.task_done(item_id, {"outputs": {}, "meta": {}}, ExecutionStatus("success", True, []))
    return queue, ids


@pytest.mark.parametrize("offset", [-6, -4, -1, 0, 1, 3, 4, 5, 10])
@pytest.mark.parametrize("max_items", [None, -1, 0, 1, 2, 4, 6])
def test_history_pages_follow_comfyuis_offset_and_max_items_rules(queue_with_history, offset, max_items):
    queue, ids = queue_with_history
    assert list(queue.get_history(max_items=max_items, offset=offset)) == comfyui_page(ids, max_items, offset)


@pytest.mark.parametrize("offset", [ENTRIES, ENTRIES + 1, 1000])
def test_an_offset_at_or_past_the_end_without_max_items_gives_an_empty_history(queue_with_history, offset):
    queue, _ = queue_with_history
    assert queue.get_history(offset=offset) == {}
