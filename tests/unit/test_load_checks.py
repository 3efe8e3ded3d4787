"""bench/load.py's checks: a complete private sequence passes; a missing, foreign or wrong message is reported."""

from __future__ import annotations

from bench.load import ClientRun, Submission, check_client, check_sequence, percentile


def sequence(prompt_id: str, value: int, cached: tuple[str, ...] = ()) -> list[dict]:
    messages = [{"type": "execution_start", "data": {"prompt_id": prompt_id}},
                {"type": "execution_cached", "data": {"nodes": list(cached), "prompt_id": prompt_id}}]
    for node in ("1", "2", "3"):
        if node not in cached:
            messages.append({"type": "executing", "data": {"node": node, "prompt_id": prompt_id}})
    messages += [{"type": "executed", "data": {"node": "3", "output": {"value": [value]}, "prompt_id": prompt_id}},
                 {"type": "execution_success", "data": {"prompt_id": prompt_id}},
                 {"type": "executing", "data": {"node": None, "prompt_id": prompt_id}}]
    return messages


def test_a_complete_sequence_passes_with_or_without_cached_nodes():
    assert check_sequence(sequence("p", 7), 7) == []
    assert check_sequence(sequence("p", 7, cached=("1", "2")), 7) == []


def test_missing_wrong_or_misordered_messages_are_reported():
    assert check_sequence(sequence("p", 7)[:-1], 7)  # no final executing {node: null}
    assert check_sequence(sequence("p", 8), 7)  # wrong output
    without_node_2 = [m for m in sequence("p", 7) if m["data"].get("node") != "2"]
    assert check_sequence(without_node_2, 7)
    assert check_sequence(sequence("p", 7)[1:], 7)  # no execution_start
    assert check_sequence([], 7) == ["no messages"]


def test_another_clients_prompt_messages_are_reported():
    run = ClientRun(client_id="c", submissions=[Submission(prompt_id="mine", expected=3, submitted_at=0.0,
                                                           status=200)])
    run.messages = [(0.0, message) for message in sequence("mine", 3)]
    assert check_client(run) == []
    run.messages.append((1.0, {"type": "executing", "data": {"node": "1", "prompt_id": "theirs"}}))
    assert any("another client's prompt" in problem for problem in check_client(run))


def test_percentile_is_nearest_rank():
    values = [float(value) for value in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([], 0.5)) == (50.0, 99.0, 0.0)
