"""Property-based tests: random JSON and random graphs at POST /prompt, random paths and queries at /view and at
any path, random names, folders and types at /upload/image and /upload/mask.

For every example: never a 5xx, and nothing served from outside the allowed folders. After each test: no file
created, changed or removed outside input/, output/, temp/ and user/ (a canary folder beside the base directory
included; it is also the target of symlinks planted in input/), and the server still answers. Hypothesis runs
derandomized with a fixed number of examples, so CI sees the same inputs every time.

Requests go through `http.client`, one connection each, so any bytes can be sent and a server that drops a
connection is seen as a failure, not retried.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import start_server
from .images import solid_png

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])

CANARY_MARKER = b"KILN-CANARY-SECRET"
ALLOWED_FOLDERS = ("input", "output", "temp", "user")
SAFE_INLINE_TYPES = ("image/", "video/", "audio/", "application/json")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-fuzz")
    yield kiln
    kiln.stop()


@pytest.fixture(scope="module")
def world(server):
    """Files for the fuzzers to aim at: images and an HTML page in the folders, and a canary folder beside the base
    directory with a secret image, reachable from input/ only through planted symlinks."""
    canary = server.base_dir.parent / f"{server.base_dir.name}-canary"
    canary.mkdir()
    for folder in (server.input_dir, server.output_dir, server.temp_dir):
        folder.mkdir(exist_ok=True)
    (canary / "secret.png").write_bytes(solid_png(99) + CANARY_MARKER)
    (server.input_dir / "x.png").write_bytes(solid_png(1))
    (server.input_dir / "leak.png").symlink_to(canary / "secret.png")
    (server.input_dir / "door").symlink_to(canary, target_is_directory=True)
    (server.output_dir / "sub").mkdir(parents=True, exist_ok=True)
    (server.output_dir / "x.png").write_bytes(solid_png(2))
    (server.output_dir / "sub" / "y.png").write_bytes(solid_png(3))
    (server.output_dir / "page.html").write_bytes(b"<script>alert(1)</script>")
    (server.temp_dir / "t.png").write_bytes(solid_png(4))
    return canary


# ---------------------------------------------------------------------------------------------------------------
# Talking to the server and checking the world


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body


def send(server, method: str, target: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
    """One raw request; `target` is sent as written (already percent-encoded)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def assert_answered(server, answer: Answer, what: str) -> None:
    assert answer.status < 500, f"{what} -> {answer.status}: {answer.body[:500]!r}\n{server.log(40)}"
    assert CANARY_MARKER not in answer.body, f"{what} served the canary's secret"


def snapshot(server, canary: Path) -> dict[str, tuple]:
    """Every entry outside the allowed folders (and the growing server log), and everything in the canary."""
    entries: dict[str, tuple] = {}
    roots = [(server.base_dir, True), (canary, False)]
    for root, skip_allowed in roots:
        for folder, directories, files in os.walk(root):
            if skip_allowed and Path(folder) == server.base_dir:
                directories[:] = [name for name in directories if name not in ALLOWED_FOLDERS]
            for name in directories + files:
                path = os.path.join(folder, name)
                if path == str(server.log_path):
                    continue
                info = os.lstat(path)
                entries[path] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return entries


def wait_until_idle(server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = json.loads(send(server, "GET", "/queue").body)
        if not queue["queue_running"] and not queue["queue_pending"]:
            return
        time.sleep(0.1)
    raise AssertionError("the queue did not drain")


@pytest.fixture
def guarded(server, world):
    """Checks, after the test, that nothing outside the allowed folders changed and the server still answers."""
    before = snapshot(server, world)
    yield server
    wait_until_idle(server)
    after = snapshot(server, world)
    assert after == before, {path: (before.get(path), after.get(path)) for path in set(before) | set(after)
                             if before.get(path) != after.get(path)}
    assert send(server, "GET", "/system_stats").status == 200
    assert server.is_alive()


# ---------------------------------------------------------------------------------------------------------------
# Strategies

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
attack_names = st.sampled_from([
    "", ".", "..", "../x.png", "../../x.png", "..\\x.png", "/etc/passwd", "x.png", "leak.png", "door/secret.png",
    "secret.png", "page.html", "sub/y.png", "y.png", "x.png [input]", "t.png [temp]", "y.png [output]",
    "x.png [../input]", "secret.png [door]", "a\x00b.png", "a\nb.png", "%2e%2e%2fx.png", "\u202epng.exe",
    "con.png", "n" * 300 + ".png", "日本語.png", " x.png", "x.png ", "x.png/", "./x.png", "x..png"])
attack_folders = st.sampled_from([
    "", "door", "door/", "door/..", "..", "../..", "sub", "sub/../..", "/tmp", "./sub", "sub//", "a\x00",
    "new/deeper", "\\..\\..", "~", "$HOME", "leak.png", "x.png"])
names = st.one_of(attack_names, attack_names, text)
folders = st.one_of(attack_folders, attack_folders, text)
real_types = st.sampled_from(["input", "output", "temp"])
file_types = st.one_of(real_types, real_types, st.sampled_from(["", "models", "user", "../input", "INPUT"]), text)
# (filename, type, subfolder) aimed at the planted files: the canary through symlinks, and the real images
planted_targets = st.sampled_from([
    ("leak.png", "input", None), ("leak.png [input]", None, None), ("secret.png", "input", "door"),
    ("secret.png [input]", None, "door"), ("door/secret.png", "input", None), ("secret.png", "input", "door/."),
    ("secret.png", "input", "sub/../door"), ("x.png", "input", None), ("y.png", None, "sub"),
    ("page.html", None, None), ("t.png", "temp", None)])
huge_strings = st.sampled_from([0, 1000, 256 * 1024, 256 * 1024 + 1, 2_000_000]).map(lambda size: "x" * size)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(10 ** 40), 10 ** 40),
                         st.floats(allow_nan=True, allow_infinity=True), text, huge_strings)
json_values = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)), max_leaves=20)

NODE_CLASSES = {  # cheap nodes only: nothing that sleeps, allocates big tensors or loads models
    "KilnTestInt": ["value"], "KilnTestIntAdd": ["a", "b"], "KilnTestIntOutput": ["value"],
    "KilnTestSumOutput": ["a", "b"], "KilnTestString": ["value"], "KilnTestStringOutput": ["text"],
    "KilnTestBounded": ["value"], "KilnTestCombo": ["choice"], "KilnTestRaise": ["message", "value"],
    "KilnTestValidated": ["value"], "LoadImage": ["image", "upload"], "SaveImage": ["images", "filename_prefix"],
    "PreviewImage": ["images"], "ImageInvert": ["image"],
}


def sometimes(draw, percent: int) -> bool:
    """True in about `percent` of draws (hypothesis favours small integers, so the rare branch takes the top)."""
    return draw(st.integers(0, 99)) >= 100 - percent


@st.composite
def graphs(draw) -> dict:
    """A prompt of up to 12 nodes, mostly of real classes wired to each other (so some validate and run), with
    links to missing and unicode ids, any slot index, cycles, malformed links, wrong value types, huge strings,
    unknown classes and nodes that are not objects at all mixed in."""
    ids = draw(st.lists(st.one_of(st.integers(0, 12).map(str), st.integers(0, 12).map(str), text,
                                  st.sampled_from(["💥", "١٢", "a" * 300, " 1", "1.0"])),
                        min_size=1, max_size=12, unique=True))
    targets = st.one_of(st.sampled_from(ids), st.sampled_from(ids), text)
    slots = st.one_of(st.just(0), st.just(0), st.integers(-2, 4), st.integers(), st.floats(), text)
    links = st.tuples(targets, slots).map(list)
    bad_links = st.lists(st.one_of(targets, st.integers()), max_size=4).filter(lambda value: len(value) != 2)
    wild_values = st.one_of(json_scalars, bad_links, json_values, json_scalars.map(lambda value: {"__value__": value}),
                            names)
    tame_values = st.one_of(st.integers(-5, 200), st.sampled_from(["red", "blue", "x.png", "hello", "fuzz"]))
    prompt: dict = {}
    for node_id in ids:
        class_type = draw(st.sampled_from(sorted(NODE_CLASSES)))
        inputs = {}
        for name in NODE_CLASSES[class_type]:
            if not sometimes(draw, 10):
                roll = draw(st.integers(0, 99))
                inputs[name] = draw(links if roll < 45 else tame_values if roll < 80 else wild_values)
        if sometimes(draw, 10):
            inputs[draw(text)] = draw(wild_values)
        if class_type == "SaveImage" and not sometimes(draw, 20):  # aim its prefix at other folders
            inputs["filename_prefix"] = draw(st.one_of(names, folders.map(lambda folder: f"{folder}/fuzz")))
        prompt[node_id] = {"class_type": class_type, "inputs": inputs}
        if sometimes(draw, 10):
            prompt[node_id]["_meta"] = draw(json_values)
    if sometimes(draw, 30):  # one malformed node: each of these fails the whole prompt
        node_id = draw(st.sampled_from(ids))
        malformation = draw(st.integers(0, 3))
        if malformation == 0:
            prompt[node_id] = draw(json_values)
        elif malformation == 1:
            del prompt[node_id]["class_type"]
        elif malformation == 2:
            prompt[node_id]["inputs"] = draw(json_values)
        else:
            prompt[node_id]["class_type"] = draw(st.one_of(text, json_scalars))
    return prompt


@st.composite
def prompt_bodies(draw) -> bytes:
    kind = draw(st.integers(0, 11))
    if kind == 0:  # any JSON at all
        return json.dumps(draw(json_values)).encode()
    if kind == 1:  # not JSON, or JSON cut short
        return draw(st.one_of(st.binary(max_size=64), text.map(str.encode),
                              st.sampled_from([b"{", b'{"prompt": ', b"\xff\xfe", b"[" * 5000, b'{"prompt": 1e999}'])))
    if kind == 2:  # deep nesting inside a node's input
        depth = draw(st.sampled_from([10, 63, 64, 65, 900, 1000, 5000, 100_000]))
        return (b'{"prompt": {"1": {"class_type": "KilnTestIntOutput", "inputs": {"value": '
                + b"[" * depth + b"1" + b"]" * depth + b"}}}}")
    if kind == 3:  # a graph that runs: load an input image, save it under a prefix aimed at other folders
        prefix = draw(st.one_of(names, folders.map(lambda folder: f"{folder}/fuzz"), text))
        return json.dumps({"prompt": {
            "1": {"class_type": "LoadImage", "inputs": {"image": "x.png" if not sometimes(draw, 30) else draw(names)}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}}}}).encode()
    body: dict = {"prompt": draw(graphs())}
    for key in draw(st.lists(st.sampled_from(["client_id", "prompt_id", "number", "front", "extra_data",
                                              "partial_execution_targets"]), unique=True, max_size=3)):
        body[key] = draw(json_values if key != "partial_execution_targets"
                         else st.one_of(st.lists(st.one_of(text, st.integers()), max_size=3), json_values))
    return json.dumps(body).encode()


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


# ---------------------------------------------------------------------------------------------------------------
# The properties


@FUZZ
@given(path=st.sampled_from(["/prompt", "/api/prompt", "/prompt", "/prompt", "/queue", "/history", "/interrupt",
                             "/free"]),
       body=prompt_bodies())
def test_random_json_and_graphs_at_post_prompt(guarded, path, body):
    answer = send(guarded, "POST", path, body, {"Content-Type": "application/json"})
    assert_answered(guarded, answer, f"POST {path} {body[:300]!r}")
    if answer.status >= 400:
        assert "error" in json.loads(answer.body)


@FUZZ
@given(planted=st.one_of(st.none(), planted_targets), filename=st.one_of(st.none(), names),
       subfolder=st.one_of(st.none(), folders),
       file_type=st.one_of(st.none(), file_types),
       preview=st.one_of(st.none(), st.sampled_from(["webp;90", "jpeg;0", "png;50", "webp;99999999999999999999",
                                                     "jpeg;-5", "jpeg;١٢", ";"]), text),
       channel=st.one_of(st.none(), st.sampled_from(["rgb", "a", "rgba"]), text),
       raw_tail=st.one_of(st.just(""), st.sampled_from(["&filename=", "&%ff=%fe", "&subfolder=%00", "%zz",
                                                        "&type=output&type=input", "&token=x"])))
def test_random_queries_at_view(guarded, planted, filename, subfolder, file_type, preview, channel, raw_tail):
    if planted is not None:
        filename, file_type, subfolder = planted
    query = {"filename": filename, "subfolder": subfolder, "type": file_type, "preview": preview, "channel": channel}
    target = "/view?" + "&".join(f"{key}={quote(value)}" for key, value in query.items() if value is not None)
    answer = send(guarded, "GET", target + raw_tail)
    assert_answered(guarded, answer, f"GET {target + raw_tail}")
    if answer.status == 200:
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        if not answer.headers["Content-Type"].startswith(SAFE_INLINE_TYPES):
            assert answer.headers["Content-Disposition"].startswith("attachment")


@FUZZ
@given(path=st.one_of(text, st.sampled_from([
    "/extensions/../../etc/passwd", "/extensions/%2e%2e/%2e%2e/etc/passwd", "/api/../view", "//view", "/view%00",
    "/ws", "/api/ws", "/history/💥", "/object_info/%ff", "/models/../../", "/view_metadata/checkpoints",
    "/view_metadata/..%2f..", "/jobs/%00", "/userdata/..%2f..%2fsecret.png", "/./././view", "/%", "/a?b#c"])))
def test_random_paths_get_an_answer(guarded, path):
    target = path if path.startswith("/") and path.isascii() and " " not in path else "/" + quote(path)
    answer = send(guarded, "GET", target)
    assert_answered(guarded, answer, f"GET {target}")


def multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of (field name, file name or None, content); names are written as given, with
    only quotes and backslashes escaped."""
    boundary = "kiln-fuzz-boundary-0193"
    chunks = []
    for field, filename, content in parts:
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
            disposition += f'; filename="{escaped}"'
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


images = st.sampled_from([solid_png(5), solid_png(6), solid_png(7, size=1)])
not_images = st.sampled_from([b"", b"not an image", b"<svg onload=alert(1)/>", solid_png(7)[:40],
                              b"GIF89a" + b"\x00" * 20])
original_refs = st.one_of(st.sampled_from([
    '{"filename": "x.png"}', '{"filename": "leak.png", "type": "input"}',
    '{"filename": "secret.png", "subfolder": "door", "type": "input"}', '{"filename": "../../secret.png"}',
    '{"filename": "y.png", "subfolder": "sub"}', '{"filename": "x.png [input]"}', "[" * 3000, "null", "{"]),
    json_values.map(json.dumps))


@FUZZ
@given(route=st.sampled_from(["/upload/image", "/api/upload/image", "/upload/mask"]),
       filename=st.one_of(st.sampled_from(["fuzz.png", "secret.png", "x.png"]), names),
       content=st.one_of(images, images, not_images),
       file_type=st.one_of(st.none(), st.sampled_from(["input", "output", "temp"]), file_types),
       subfolder=st.one_of(st.none(), st.sampled_from(["door", "door/new", "door/.", "sub/../door"]), folders),
       subfolder_as_file=st.booleans(),
       overwrite=st.one_of(st.none(), st.sampled_from(["true", "1", "false"]), text),
       original_ref=st.one_of(st.none(), original_refs))
def test_random_uploads(guarded, route, filename, content, file_type, subfolder, subfolder_as_file, overwrite,
                        original_ref):
    parts: list[tuple[str, str | None, bytes]] = [("image", filename, content)]
    for field, value in (("type", file_type), ("subfolder", subfolder), ("overwrite", overwrite),
                         ("original_ref", original_ref)):
        if value is not None:
            as_file = subfolder_as_file and field == "subfolder"
            parts.append((field, "f.txt" if as_file else None, value.encode()))
    body, headers = multipart(parts)
    answer = send(guarded, "POST", route, body, headers)
    assert_answered(guarded, answer, f"POST {route} {filename!r} {file_type!r} {subfolder!r} {original_ref!r}")
    if answer.status == 200:
        stored = json.loads(answer.body)
        assert "/" not in stored["name"] and "\\" not in stored["name"]
