"""Running one prompt: `PromptExecutor` walks the graph over ready nodes, reuses cached results, evaluates lazy
inputs, expands sub-graphs, and reports every step to the event sink it is given (the server, a Ray worker's job
stream, the console of `main.py run`) as ComfyUI's messages. `execute` is the one run path of every runner: it
returns how the prompt ended (`PromptResult`), an exception escaping the engine included, and runs under the
cancellation token it is given.

ComfyUI's public names live here (`PromptExecutor`, `PromptQueue`, `validate_prompt`, `get_input_data`,
`ExecutionResult`...) as faces over `comfy_execution`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
import traceback
from typing import Any

import torch

import comfy.model_management
import nodes
from comfy_execution import metrics
from comfy_execution.caching import CacheSet, CacheType
from comfy_execution.graph import (
    DependencyCycleError,
    DynamicPrompt,
    ExecutionBlocker,
    ExecutionList,
    get_input_info,
)
from comfy_execution.graph_utils import GraphBuilder, is_link
from comfy_execution.node_calls import (
    class_is_output_node,
    fingerprint_function_name,
    get_input_data,
    get_output_from_returns,
    has_lazy_status,
    map_node_over_list,
    merge_result_data,
    resolve_results,
)
from comfy_execution.progress import EventSink, get_progress_state, reset_progress_state
from comfy_execution.prompt_queue import MAXIMUM_HISTORY_SIZE, ExecutionStatus, PromptQueue, engine_error
from comfy_execution.runner import CancellationToken, PromptResult
from comfy_execution.validation import full_type_name, validate_node_input
from comfy_execution.validation import validate_prompt as _validate_prompt

__all__ = [
    "CacheType", "DynamicPrompt", "ExecutionBlocker", "ExecutionList", "ExecutionResult", "ExecutionStatus",
    "MAXIMUM_HISTORY_SIZE", "PromptExecutor", "PromptQueue", "get_input_data", "get_input_info",
    "validate_node_input", "validate_prompt",
]

# ComfyUI's private name, which some custom packs call or patch.
_async_map_node_over_list = map_node_over_list


class ExecutionResult(enum.Enum):
    SUCCESS = 0
    FAILURE = 1
    PENDING = 2


class DuplicateNodeError(Exception):
    pass


async def validate_prompt(prompt_id: str, prompt: dict, partial_execution_targets: list[str] | None = None):
    """(valid, error, good output ids, node_errors) — see comfy_execution.validation."""
    return await _validate_prompt(prompt_id, prompt, partial_execution_targets)


def format_value(value: Any) -> Any:
    """How an input value appears in `execution_error.current_inputs`."""
    if value is None or isinstance(value, (int, float, bool, str)):
        return value
    return str(value)


class IsChangedCache:
    """IS_CHANGED results of one prompt's nodes, each computed once, from constant inputs only."""

    def __init__(self, prompt_id: str, dynprompt: DynamicPrompt):
        self.prompt_id = prompt_id
        self.dynprompt = dynprompt
        self.values: dict[str, Any] = {}

    async def get(self, node_id: str) -> Any:
        if node_id in self.values:
            return self.values[node_id]
        node = self.dynprompt.get_node(node_id)
        class_def = nodes.NODE_CLASS_MAPPINGS[node["class_type"]]
        function_name = fingerprint_function_name(class_def)
        if function_name is None:
            value: Any = False
        elif "is_changed" in node:
            value = node["is_changed"]
        else:
            input_data_all, _, hidden_inputs = get_input_data(node["inputs"], class_def, node_id, None,
                                                              self.dynprompt)
            try:
                results = await resolve_results(await map_node_over_list(
                    self.prompt_id, node_id, class_def, input_data_all, function_name, hidden_inputs=hidden_inputs))
                value = [None if isinstance(result, ExecutionBlocker) else result for result in results]
            except Exception as ex:
                logging.warning("WARNING: IS_CHANGED of %s %s raised %s: it will always run", node["class_type"],
                                node_id, ex)
                value = float("NaN")
            node["is_changed"] = value
        self.values[node_id] = value
        return value


def note_job_event(sink: Any, event: str, data: dict) -> None:
    """Keep a message no client asked for in the job's event log, where the sink has one (the server)."""
    note = getattr(sink, "note_job_event", None)
    if note is not None:
        note(event, data)


class PromptExecutor:
    """Runs prompts one at a time, keeping caches between them. `server` is the event sink (ComfyUI's name).

    `success`, `status_messages` and `history_result` (ComfyUI's names, read by some custom packs) describe the
    last run; `execute` returns the same as a `PromptResult`.
    """

    def __init__(self, server: EventSink, cache_type: CacheType | bool = False, cache_args: dict | None = None):
        self.server = server
        self.cache_type = CacheType.CLASSIC if cache_type is False else cache_type
        self.cache_args = cache_args or {}
        self.reset()

    def reset(self) -> None:
        """Forget every cached result and node instance."""
        size = self.cache_args.get("lru", 0) if self.cache_type == CacheType.LRU else self.cache_args.get("ram", 0)
        self.caches = CacheSet(self.cache_type, size, free_ram=lambda: comfy.model_management.get_free_memory(
            torch.device("cpu")))
        self.status_messages: list = []
        self.success = True
        self.history_result: dict = {}

    def add_message(self, event: str, data: dict, broadcast: bool) -> None:
        data = {**data, "timestamp": int(time.time() * 1000)}
        self.status_messages.append((event, data))
        if self.server.client_id is not None or broadcast:
            self.server.send_sync(event, data, self.server.client_id)
        else:
            note_job_event(self.server, event, data)

    def handle_execution_error(self, prompt_id: str, prompt: dict, current_outputs: list[str], executed: set[str],
                               error: dict, ex: BaseException) -> None:
        node_id = error["node_id"]
        class_type = prompt[node_id]["class_type"] if node_id in prompt else None
        if isinstance(ex, comfy.model_management.InterruptProcessingException):
            message = {"prompt_id": prompt_id, "node_id": node_id, "node_type": class_type,
                       "executed": list(executed)}
            self.add_message("execution_interrupted", message, broadcast=True)
        else:
            message = {
                "prompt_id": prompt_id,
                "node_id": node_id,
                "node_type": class_type,
                "executed": list(executed),
                "exception_message": error["exception_message"],
                "exception_type": error["exception_type"],
                "traceback": error["traceback"],
                "current_inputs": error["current_inputs"],
                "current_outputs": list(current_outputs),
            }
            self.add_message("execution_error", message, broadcast=False)

    def execute(self, prompt: dict, prompt_id: str, extra_data: dict | None = None,
                execute_outputs: list[str] | None = None, *, cancel: CancellationToken | None = None
                ) -> PromptResult:
        """Run one prompt to completion on a fresh event loop (a runner's thread). `cancel` is the run's token
        (`/interrupt` sets it; a fresh one when None). How the prompt ended, whatever happened in the engine."""
        return asyncio.run(self.execute_async(prompt, prompt_id, extra_data or {}, execute_outputs or [],
                                              cancel=cancel))

    async def execute_async(self, prompt: dict, prompt_id: str, extra_data: dict, execute_outputs: list[str], *,
                            cancel: CancellationToken | None = None) -> PromptResult:
        """`execute` on the running event loop. ComfyUI's interrupt functions, called by the nodes and samplers of
        this run (and the tasks it starts), act on `cancel`."""
        self.status_messages = []
        self.success = True
        with comfy.model_management.cancellation_scope(cancel if cancel is not None else CancellationToken()):
            try:
                await self._run(prompt, prompt_id, extra_data, execute_outputs)
            except Exception as ex:  # a bug in the engine itself: this prompt's failure, never the runner's
                logging.exception("Executor failed on prompt %s", prompt_id)
                self.success = False
                self.status_messages.append(("execution_error", engine_error(prompt_id, str(ex), type(ex).__name__)))
                self.history_result = {"outputs": {}, "meta": {}}
        return PromptResult(self.success, self.status_messages, self.history_result)

    async def _run(self, prompt: dict, prompt_id: str, extra_data: dict, execute_outputs: list[str]) -> None:
        self.server.client_id = extra_data.get("client_id")
        self.server.last_prompt_id = prompt_id
        self.add_message("execution_start", {"prompt_id": prompt_id}, broadcast=False)

        with torch.inference_mode():
            dynprompt = DynamicPrompt(prompt)
            reset_progress_state(prompt_id, dynprompt, self.server)
            is_changed = IsChangedCache(prompt_id, dynprompt)
            await self.caches.set_prompt(dynprompt, prompt.keys(), is_changed.get)

            cached_nodes = [node_id for node_id in prompt if self.caches.is_cached(node_id)]
            self.add_message("execution_cached", {"nodes": cached_nodes, "prompt_id": prompt_id}, broadcast=False)

            run = _PromptRun(self, prompt_id, dynprompt, extra_data)
            execution_list = run.execution_list
            # As in ComfyUI: the ids the output cache holds keys for, i.e. every node of the prompt.
            current_outputs = list(prompt)
            for node_id in execute_outputs:
                execution_list.add_node(node_id)

            while not execution_list.is_empty():
                node_id, error, ex = await execution_list.stage_node_execution()
                if error is not None:
                    self.success = False
                    self.handle_execution_error(prompt_id, prompt, current_outputs, run.executed, error, ex)
                    break
                assert node_id is not None
                result, error, ex = await run.execute_node(node_id)
                if result == ExecutionResult.FAILURE:
                    self.success = False
                    self.handle_execution_error(prompt_id, prompt, current_outputs, run.executed, error, ex)
                    break
                if result == ExecutionResult.PENDING:
                    execution_list.unstage_node_execution()
                else:
                    execution_list.complete_node_execution()
                    self.caches.enforce_limits()
            else:
                self.add_message("execution_success", {"prompt_id": prompt_id}, broadcast=False)

            outputs: dict[str, Any] = {}
            meta: dict[str, Any] = {}
            for node_id in list(prompt) + list(dynprompt.ephemeral_prompt):
                ui = self.caches.ui.get(node_id)
                if ui is not None and node_id not in outputs:
                    outputs[node_id] = ui["output"]
                    meta[node_id] = ui["meta"]
            self.history_result = {"outputs": outputs, "meta": meta}
            self.server.last_node_id = None
            if self.caches.cache_type == CacheType.NONE:
                self.caches.outputs.clear()
                self.caches.ui.clear()


class _PromptRun:
    """The state of one prompt's run: what executed, which async calls and expansions are still pending."""

    def __init__(self, executor: PromptExecutor, prompt_id: str, dynprompt: DynamicPrompt, extra_data: dict):
        self.executor = executor
        self.server = executor.server
        self.caches = executor.caches
        self.prompt_id = prompt_id
        self.dynprompt = dynprompt
        self.extra_data = extra_data
        self.execution_list = ExecutionList(dynprompt, self.caches.outputs)
        self.executed: set[str] = set()
        self.pending_subgraph_results: dict[str, list] = {}
        self.pending_async_nodes: dict[str, list] = {}
        self.blocked_messages_sent: set[tuple[str, int]] = set()

    def _send_to_client(self, event: str, data: dict) -> None:
        if self.server.client_id is not None:
            self.server.send_sync(event, data, self.server.client_id)
        else:
            note_job_event(self.server, event, data)

    async def execute_node(self, node_id: str) -> tuple[ExecutionResult, dict | None, BaseException | None]:
        dynprompt = self.dynprompt
        execution_list = self.execution_list
        real_node_id = dynprompt.get_real_node_id(node_id)
        display_node_id = dynprompt.get_display_node_id(node_id)
        parent_node_id = dynprompt.get_parent_node_id(node_id)
        node = dynprompt.get_node(node_id)
        class_type = node["class_type"]
        class_def = nodes.NODE_CLASS_MAPPINGS[class_type]

        cached_output = self.caches.outputs.get(node_id)
        if cached_output is not None:
            metrics.node_cache_hits.inc()
            cached_ui = self.caches.ui.get(node_id) or {}
            self._send_to_client("executed", {"node": node_id, "display_node": display_node_id,
                                              "output": cached_ui.get("output"), "prompt_id": self.prompt_id})
            get_progress_state().finish_progress(node_id)
            execution_list.cache_update(node_id, cached_output)
            return ExecutionResult.SUCCESS, None, None

        input_data_all = None
        try:
            if node_id in self.pending_async_nodes:
                results = [task.result() if isinstance(task, asyncio.Task) else task
                           for task in self.pending_async_nodes.pop(node_id)]
                output_data, output_ui, has_subgraph = get_output_from_returns(results, class_def)
            elif node_id in self.pending_subgraph_results:
                output_data = self._resolve_subgraph_results(node_id, class_def)
                output_ui, has_subgraph = {}, False
            else:
                get_progress_state().start_progress(node_id)
                input_data_all, missing_keys, hidden_inputs = get_input_data(
                    node["inputs"], class_def, node_id, execution_list, dynprompt, self.extra_data)
                if self.server.client_id is not None:
                    self.server.last_node_id = display_node_id
                self._send_to_client("executing", {"node": node_id, "display_node": display_node_id,
                                                   "prompt_id": self.prompt_id})
                obj = self.caches.objects.get(node_id)
                if obj is None:
                    obj = class_def()
                    self.caches.objects.set(node_id, obj)

                if has_lazy_status(class_def, obj):
                    needed = await self._lazy_inputs_needed(node_id, obj, input_data_all, missing_keys,
                                                            hidden_inputs)
                    if needed:
                        for input_name in needed:
                            execution_list.make_input_strong_link(node_id, input_name)
                        return ExecutionResult.PENDING, None, None

                def pre_execute(call_index: int) -> None:
                    GraphBuilder.set_default_prefix(node_id, call_index, 0)

                returns = await map_node_over_list(self.prompt_id, node_id, obj, input_data_all, obj.FUNCTION,
                                                   allow_interrupt=True, execution_block_cb=self._on_blocked(node_id),
                                                   pre_execute_cb=pre_execute, hidden_inputs=hidden_inputs)
                if any(isinstance(value, asyncio.Task) and not value.done() for value in returns):
                    self._park_async_node(node_id, returns)
                    return ExecutionResult.PENDING, None, None
                output_data, output_ui, has_subgraph = get_output_from_returns(
                    [value.result() if isinstance(value, asyncio.Task) else value for value in returns], obj)

            if output_ui:
                meta = {"node_id": node_id, "display_node": display_node_id, "parent_node": parent_node_id,
                        "real_node_id": real_node_id}
                self.caches.ui.set(node_id, {"meta": meta, "output": output_ui})
                self._send_to_client("executed", {"node": node_id, "display_node": display_node_id,
                                                  "output": output_ui, "prompt_id": self.prompt_id})
            if has_subgraph:
                await self._expand(node_id, display_node_id, output_data)
                return ExecutionResult.PENDING, None, None

            self.caches.outputs.set(node_id, output_data)
            metrics.node_cache_misses.inc()
            execution_list.cache_update(node_id, output_data)
        except comfy.model_management.InterruptProcessingException as interrupt:
            logging.info("Processing interrupted")
            get_progress_state().finish_progress(node_id, "error")
            return ExecutionResult.FAILURE, {"node_id": real_node_id}, interrupt
        except Exception as ex:
            get_progress_state().finish_progress(node_id, "error")
            return ExecutionResult.FAILURE, self._error_details(real_node_id, ex, input_data_all), ex

        get_progress_state().finish_progress(node_id)
        self.executed.add(real_node_id)
        return ExecutionResult.SUCCESS, None, None

    async def _lazy_inputs_needed(self, node_id: str, obj: Any, input_data_all: dict, missing_keys: dict,
                                  hidden_inputs: dict) -> list[str]:
        results = await resolve_results(await map_node_over_list(
            self.prompt_id, node_id, obj, input_data_all, "check_lazy_status", allow_interrupt=True,
            hidden_inputs=hidden_inputs))
        requested: list[str] = []
        for result in results:
            if isinstance(result, list):
                requested.extend(result)
        inputs = self.dynprompt.get_node(node_id)["inputs"]
        needed = []
        for name in dict.fromkeys(requested):
            if isinstance(name, str) and (name not in input_data_all or name in missing_keys) \
                    and is_link(inputs.get(name)):
                needed.append(name)
        return needed

    def _on_blocked(self, node_id: str):
        def on_blocked(blocker: ExecutionBlocker) -> ExecutionBlocker:
            if blocker.message is not None and (node_id, id(blocker)) not in self.blocked_messages_sent:
                self.blocked_messages_sent.add((node_id, id(blocker)))
                node = self.dynprompt.get_node(node_id)
                message = {
                    "prompt_id": self.prompt_id,
                    "node_id": node_id,
                    "node_type": node["class_type"],
                    "executed": list(self.executed),
                    "exception_message": f"Execution Blocked: {blocker.message}",
                    "exception_type": "ExecutionBlocked",
                    "traceback": [],
                    "current_inputs": [],
                    "current_outputs": [],
                }
                self._send_to_client("execution_error", message)
            return ExecutionBlocker(None)

        return on_blocked

    def _park_async_node(self, node_id: str, returns: list) -> None:
        """Let other nodes run while this node's async calls finish; it is staged again when they have."""
        self.pending_async_nodes[node_id] = returns
        unblock = self.execution_list.add_external_block(node_id)

        async def wait_for_calls() -> None:
            tasks = [value for value in returns if isinstance(value, asyncio.Task)]
            await asyncio.gather(*tasks, return_exceptions=True)
            unblock()

        asyncio.create_task(wait_for_calls())

    def _resolve_subgraph_results(self, node_id: str, class_def: type) -> list:
        resolved_outputs = []
        for is_subgraph, result in self.pending_subgraph_results.pop(node_id):
            if not is_subgraph:
                resolved_outputs.append(result)
                continue
            resolved = []
            for value in result:
                if is_link(value):
                    source_output = self.execution_list.get_output_cache(value[0], node_id)
                    resolved.extend(source_output[value[1]])
                else:
                    resolved.append(value)
            resolved_outputs.append(tuple(resolved))
        return merge_result_data(resolved_outputs, class_def)

    async def _expand(self, node_id: str, display_node_id: str, output_data: list) -> None:
        """Add the sub-graphs a node returned as ephemeral nodes and wait for the links its result names."""
        pending_results = []
        new_output_ids: list[str] = []
        new_output_links: list[list] = []
        new_node_ids: list[str] = []
        for graph, node_outputs in output_data:
            if graph is None:
                pending_results.append((False, node_outputs))
                continue
            for new_id in graph:
                if self.dynprompt.has_node(new_id):
                    raise DuplicateNodeError(f"Attempt to add duplicate node {new_id}. Ensure node ids are unique "
                                             "and deterministic or use graph_utils.GraphBuilder.")
            for new_id, node_info in graph.items():
                display_id = node_info.get("override_display_id", display_node_id)
                self.dynprompt.add_ephemeral_node(new_id, node_info, node_id, display_id)
                new_node_ids.append(new_id)
                if class_is_output_node(nodes.NODE_CLASS_MAPPINGS[node_info["class_type"]]):
                    new_output_ids.append(new_id)
            for value in node_outputs or ():
                if is_link(value):
                    new_output_links.append(value)
            pending_results.append((True, node_outputs or ()))
        await self.caches.add_ephemeral_keys(new_node_ids)
        for output_id in new_output_ids:
            self.execution_list.add_node(output_id)
        for source_id, slot in new_output_links:
            self.execution_list.add_strong_link(source_id, slot, node_id)
        self.pending_subgraph_results[node_id] = pending_results

    def _error_details(self, real_node_id: str, ex: Exception, input_data_all: dict | None) -> dict:
        tips = ""
        if isinstance(ex, comfy.model_management.OOM_EXCEPTION):
            tips = "This error means you ran out of memory on your GPU."
            comfy.model_management.unload_all_models()
        logging.error("!!! Exception during processing !!! %s", ex)
        logging.error(traceback.format_exc())
        current_inputs: dict[str, list] = {}
        for name, values in (input_data_all or {}).items():
            current_inputs[name] = [format_value(value) for value in values] if isinstance(values, list) \
                else format_value(values)
        message = f"{ex}\n{tips}" if tips else str(ex)
        return {
            "node_id": real_node_id,
            "exception_message": message,
            "exception_type": full_type_name(type(ex)),
            "traceback": traceback.format_tb(ex.__traceback__),
            "current_inputs": current_inputs,
        }


__all__ += ["DependencyCycleError", "DuplicateNodeError", "IsChangedCache", "_async_map_node_over_list"]
