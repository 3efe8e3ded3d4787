"""PromptExecutor without a server: it reports to a sink that records every message."""

import threading

import comfy.model_management
from execution import CacheType, PromptExecutor


class RecordingSink:
    """Collects (event, data, sid) like the server's send_sync would deliver them."""

    def __init__(self):
        self.client_id = None
        self.last_node_id = None
        self.last_prompt_id = None
        self.sent = []

    def send_sync(self, event, data, sid=None):
        self.sent.append((event, data, sid))

    def client_supports(self, sid, feature):
        return False

    def events(self, name=None):
        return [(event, data) for event, data, _ in self.sent if name is None or event == name]


def run(executor, prompt, outputs, client_id="c"):
    executor.server.sent.clear()
    executor.execute(prompt, "p", {"client_id": client_id}, outputs)
    return executor.server


def chain_prompt(value=1):
    return {"1": {"class_type": "EngineInt", "inputs": {"value": value}},
            "2": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0], "b": 10}},
            "3": {"class_type": "EngineOutput", "inputs": {"value": ["2", 0]}}}


def test_a_prompt_reports_start_nodes_results_and_success_in_order(engine_nodes_registered):
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, chain_prompt(), ["3"])
    names = [event for event, _ in sink.events() if event not in ("progress_state",)]
    assert names == ["execution_start", "execution_cached", "executing", "executing", "executing", "executed",
                     "execution_success"]
    assert [data["node"] for event, data in sink.events("executing")] == ["1", "2", "3"]
    assert sink.events("executed")[0][1]["output"] == {"value": [11]}
    assert executor.history_result["outputs"] == {"3": {"value": [11]}}
    assert executor.success


def test_a_re_run_of_the_same_prompt_runs_nothing_and_re_emits_output_ui(engine_nodes_registered):
    executor = PromptExecutor(RecordingSink())
    run(executor, chain_prompt(), ["3"])
    engine_nodes_registered.CALLS.clear()
    sink = run(executor, chain_prompt(), ["3"])
    assert engine_nodes_registered.CALLS == []
    assert sorted(sink.events("execution_cached")[0][1]["nodes"]) == ["1", "2", "3"]
    assert sink.events("executing") == []
    assert sink.events("executed")[0][1]["output"] == {"value": [11]}


def test_changing_one_input_re_runs_only_its_downstream(engine_nodes_registered):
    prompt = chain_prompt()
    prompt["4"] = {"class_type": "EngineInt", "inputs": {"value": 7}}
    prompt["5"] = {"class_type": "EngineOutput", "inputs": {"value": ["4", 0]}}
    executor = PromptExecutor(RecordingSink())
    run(executor, prompt, ["3", "5"])
    prompt["2"]["inputs"]["b"] = 20
    sink = run(executor, prompt, ["3", "5"])
    assert [data["node"] for _, data in sink.events("executing")] == ["2", "3"]


def test_a_raising_node_reports_execution_error_with_inputs_and_traceback(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 4}},
              "2": {"class_type": "EngineFail", "inputs": {"value": ["1", 0]}},
              "3": {"class_type": "EngineOutput", "inputs": {"value": ["2", 0]}}}
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, prompt, ["3"])
    [(_, error)] = sink.events("execution_error")
    assert error["node_id"] == "2" and error["node_type"] == "EngineFail"
    assert error["exception_message"] == "boom 4" and error["exception_type"] == "ValueError"
    assert error["current_inputs"] == {"value": [4]} and error["executed"] == ["1"]
    assert error["traceback"]
    assert not executor.success


def test_the_unneeded_lazy_branch_never_runs(engine_nodes_registered):
    prompt = {"a": {"class_type": "EngineInt", "inputs": {"value": 1}},
              "b": {"class_type": "EngineFail", "inputs": {"value": 2}},
              "s": {"class_type": "EngineLazySwitch", "inputs": {"choose_a": True, "a": ["a", 0], "b": ["b", 0]}},
              "o": {"class_type": "EngineOutput", "inputs": {"value": ["s", 0]}}}
    executor = PromptExecutor(RecordingSink())
    run(executor, prompt, ["o"])
    assert executor.success
    assert executor.history_result["outputs"]["o"] == {"value": [1]}


def test_a_blocker_with_a_message_reports_once_and_the_prompt_goes_on(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 1}},
              "b": {"class_type": "EngineBlock", "inputs": {"value": ["1", 0], "message": "stop here"}},
              "o": {"class_type": "EngineOutput", "inputs": {"value": ["b", 0]}},
              "o2": {"class_type": "EngineOutput", "inputs": {"value": ["1", 0]}}}
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, prompt, ["o", "o2"])
    [(_, blocked)] = sink.events("execution_error")
    assert blocked["exception_type"] == "ExecutionBlocked"
    assert blocked["exception_message"] == "Execution Blocked: stop here"
    assert executor.success and list(executor.history_result["outputs"]) == ["o2"]


def test_an_expansion_runs_its_nodes_under_prefixed_ids(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 5}},
              "r": {"class_type": "EngineRepeat", "inputs": {"value": ["1", 0], "count": 4}},
              "o": {"class_type": "EngineOutput", "inputs": {"value": ["r", 0]}}}
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, prompt, ["o"])
    assert executor.history_result["outputs"]["o"] == {"value": [9]}
    executed_ids = [data["node"] for _, data in sink.events("executing")]
    assert "r.0.0.1" in executed_ids and "r.0.0.4" in executed_ids
    assert {data["display_node"] for _, data in sink.events("executing") if data["node"].startswith("r.")} == {"r"}


def test_list_outputs_map_a_node_over_each_item_and_input_lists_gather_them(engine_nodes_registered):
    prompt = {"l": {"class_type": "EngineListOut", "inputs": {"count": 4}},
              "a": {"class_type": "EngineAdd", "inputs": {"a": ["l", 0], "b": 100}},
              "s": {"class_type": "EngineSum", "inputs": {"values": ["a", 0]}},
              "o": {"class_type": "EngineOutput", "inputs": {"value": ["s", 0]}}}
    executor = PromptExecutor(RecordingSink())
    run(executor, prompt, ["o"])
    assert executor.history_result["outputs"]["o"] == {"value": [406]}


def test_async_nodes_overlap_in_time(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 1}}}
    for name in ("x", "y"):
        prompt[f"s{name}"] = {"class_type": "EngineSleep", "inputs": {"value": ["1", 0], "seconds": 0.3}}
        prompt[f"o{name}"] = {"class_type": "EngineSpan", "inputs": {"start": [f"s{name}", 0], "end": [f"s{name}", 1]}}
    executor = PromptExecutor(RecordingSink())
    run(executor, prompt, ["ox", "oy"])
    (x_start, x_end), (y_start, y_end) = (executor.history_result["outputs"][o]["span"][0] for o in ("ox", "oy"))
    assert x_start < y_end and y_start < x_end


def test_an_interrupt_stops_the_prompt_with_execution_interrupted(engine_nodes_registered, monkeypatch):
    original = engine_nodes_registered.Add.run

    def interrupting_run(self, a, b):
        comfy.model_management.interrupt_current_processing()
        return original(self, a, b)

    monkeypatch.setattr(engine_nodes_registered.Add, "run", interrupting_run)
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, chain_prompt(), ["3"])
    [(_, interrupted)] = sink.events("execution_interrupted")
    assert interrupted["node_id"] == "3" and not executor.success


def test_a_dynamic_cycle_is_reported(engine_nodes_registered, monkeypatch):
    def cyclic_expansion(self, value, count):
        return {"result": (["r.0.0.a", 0],), "expand": {
            "r.0.0.a": {"class_type": "EngineAdd", "inputs": {"a": ["r.0.0.b", 0], "b": 1}},
            "r.0.0.b": {"class_type": "EngineAdd", "inputs": {"a": ["r.0.0.a", 0], "b": 1}}}}

    monkeypatch.setattr(engine_nodes_registered.Repeat, "run", cyclic_expansion)
    prompt = {"r": {"class_type": "EngineRepeat", "inputs": {"value": 1, "count": 1}},
              "o": {"class_type": "EngineOutput", "inputs": {"value": ["r", 0]}}}
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, prompt, ["o"])
    [(_, error)] = sink.events("execution_error")
    assert error["exception_message"] == "Dependency cycle detected" and error["node_id"] == "r"


def test_without_a_client_node_messages_are_not_sent(engine_nodes_registered):
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, chain_prompt(), ["3"], client_id=None)
    assert sink.events("executing") == [] and sink.events("execution_start") == []
    assert executor.status_messages[0][0] == "execution_start"


def test_cache_none_runs_everything_again(engine_nodes_registered):
    executor = PromptExecutor(RecordingSink(), cache_type=CacheType.NONE)
    run(executor, chain_prompt(), ["3"])
    engine_nodes_registered.CALLS.clear()
    run(executor, chain_prompt(), ["3"])
    assert engine_nodes_registered.CALLS == ["Int", "Add", "Output"]


def test_the_executor_runs_in_a_worker_thread(engine_nodes_registered):
    executor = PromptExecutor(RecordingSink())
    thread = threading.Thread(target=run, args=(executor, chain_prompt(), ["3"]))
    thread.start()
    thread.join(10)
    assert executor.history_result["outputs"]["3"] == {"value": [11]}
