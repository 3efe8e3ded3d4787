"""comfy_execution/workflow_format: UI-format workflows to API prompts, as the frontend's graphToPrompt makes them.
(tests/browser/test_workflow_conversion.py checks the same against the frontend itself on ComfyUI's templates.)"""

import pytest

from comfy_execution.workflow_format import (
    WorkflowFormatError,
    convert_workflow,
    is_ui_workflow,
    node_layout,
    process_dynamic_prompt,
)

INTERFACES = {
    "Loader": {"input": {"required": {"ckpt_name": [["a.safetensors", "b.safetensors"]]}},
               "input_order": {"required": ["ckpt_name"]}, "output": ["MODEL", "CLIP"], "display_name": "Load"},
    "Encode": {"input": {"required": {"text": ["STRING", {"multiline": True, "dynamicPrompts": True}],
                                      "clip": ["CLIP"]}},
               "input_order": {"required": ["text", "clip"]}, "output": ["CONDITIONING"], "display_name": "Encode"},
    "Sampler": {"input": {"required": {"model": ["MODEL"], "seed": ["INT", {"default": 0}],
                                       "steps": ["INT", {"default": 20}], "positive": ["CONDITIONING"]},
                          "optional": {"denoise": ["FLOAT", {"default": 1.0}]}},
                "input_order": {"required": ["model", "seed", "steps", "positive"], "optional": ["denoise"]},
                "output": ["LATENT"], "display_name": "Sampler"},
    "LoraModel": {"input": {"required": {"model": ["MODEL"], "strength": ["FLOAT", {"default": 1.0}]}},
                  "input_order": {"required": ["model", "strength"]}, "output": ["MODEL"], "display_name": "Lora"},
    "Picker": {"input": {"required": {"image": [["x.png"], {"image_upload": True}]}},
               "input_order": {"required": ["image"]}, "output": ["IMAGE"], "display_name": "Picker"},
}


def node(node_id, node_type, widgets=None, inputs=(), outputs=(), mode=0, **extra):
    return {"id": node_id, "type": node_type, "mode": mode, "widgets_values": widgets,
            "inputs": [{"name": name, "type": kind, "link": link} for name, kind, link in inputs],
            "outputs": [{"name": kind, "type": kind, "links": links} for kind, links in outputs], **extra}


def workflow(nodes, links, **extra):
    return {"last_node_id": 100, "nodes": nodes, "links": links, "version": 0.4, **extra}


def basic_graph(sampler_mode=0, lora_mode=0):
    return workflow([
        node(1, "Loader", ["a.safetensors"], outputs=[("MODEL", [1]), ("CLIP", [2])]),
        node(2, "Encode", ["a cat"], inputs=[("clip", "CLIP", 2)], outputs=[("CONDITIONING", [3])]),
        node(4, "LoraModel", [0.5], inputs=[("model", "MODEL", 1)], outputs=[("MODEL", [4])], mode=lora_mode),
        node(3, "Sampler", [42, "randomize", 8, 0.7], inputs=[("model", "MODEL", 4), ("positive", "CONDITIONING", 3)],
             mode=sampler_mode, title="My sampler", properties={"cnr_id": "comfy-core", "ver": "0.3.64"}),
        node(9, "Note", ["just a note"]),
    ], [[1, 1, 0, 4, 0, "MODEL"], [2, 1, 1, 2, 0, "CLIP"], [3, 2, 0, 3, 1, "CONDITIONING"],
        [4, 4, 0, 3, 0, "MODEL"]])


def test_widget_values_map_to_input_names_skipping_the_seeds_control_value():
    prompt = convert_workflow(basic_graph(), INTERFACES)
    assert prompt["3"] == {"inputs": {"seed": 42, "steps": 8, "denoise": 0.7, "model": ["4", 0],
                                      "positive": ["2", 0]},
                           "class_type": "Sampler",
                           "_meta": {"title": "My sampler", "cnr_id": "comfy-core", "ver": "0.3.64"}}
    assert prompt["1"]["inputs"] == {"ckpt_name": "a.safetensors"}
    assert prompt["2"]["_meta"] == {"title": "Encode"}  # an untitled node shows its class's display name


def test_frontend_only_nodes_are_dropped_and_keys_come_in_javascript_order():
    assert list(convert_workflow(basic_graph(), INTERFACES)) == ["1", "2", "3", "4"]


def test_a_bypassed_node_passes_its_matching_input_through():
    prompt = convert_workflow(basic_graph(lora_mode=4), INTERFACES)
    assert "4" not in prompt and prompt["3"]["inputs"]["model"] == ["1", 0]


def test_a_muted_node_is_dropped_with_the_links_that_lead_to_it():
    prompt = convert_workflow(basic_graph(lora_mode=2), INTERFACES)
    assert "4" not in prompt and "model" not in prompt["3"]["inputs"]


def test_links_are_followed_through_reroutes():
    graph = basic_graph()
    graph["nodes"].append(node(7, "Reroute", None, inputs=[("", "*", 5)], outputs=[("*", [6])]))
    graph["links"] += [[5, 1, 1, 7, 0, "*"], [6, 7, 0, 2, 0, "CLIP"]]
    graph["nodes"][1]["inputs"][0]["link"] = 6
    assert convert_workflow(graph, INTERFACES)["2"]["inputs"]["clip"] == ["1", 1]


def test_a_primitive_node_writes_its_value_into_the_widget_it_feeds():
    graph = basic_graph()
    graph["nodes"].append(node(8, "PrimitiveNode", [33, "fixed"], outputs=[("INT", [7])]))
    graph["nodes"][3]["inputs"].append({"name": "steps", "type": "INT", "link": 7, "widget": {"name": "steps"}})
    graph["links"].append([7, 8, 0, 3, 2, "INT"])
    prompt = convert_workflow(graph, INTERFACES)
    assert prompt["3"]["inputs"]["steps"] == 33 and "8" not in prompt


def test_a_media_picker_keeps_its_upload_button_value_out_of_the_prompt():
    graph = workflow([node(1, "Picker", ["x.png", "image"])], [])
    assert convert_workflow(graph, INTERFACES)["1"]["inputs"] == {"image": "x.png"}
    assert [w.name for w in node_layout("Picker", INTERFACES["Picker"]).widgets] == ["image", "upload"]


def test_dynamic_prompts_drop_comments_and_pick_one_choice():
    assert process_dynamic_prompt("a {red|blue} cat // note\n/* x */dog", lambda options: options[-1]) == \
        "a blue cat \ndog"
    assert process_dynamic_prompt(r"keep \{braces\}", lambda options: options[0]) == "keep {braces}"


def subgraph_workflow(instance_widgets, link_outer=False):
    definition = {
        "id": "11111111-1111-4111-8111-111111111111", "name": "Inner",
        "inputs": [{"name": "model", "type": "MODEL", "linkIds": [10]},
                   {"name": "strength", "type": "FLOAT", "linkIds": [11]}],
        "outputs": [{"name": "MODEL", "type": "MODEL", "linkIds": [12]}],
        "nodes": [node(50, "LoraModel", [0.25], inputs=[("model", "MODEL", 10), ("strength", "FLOAT", 11)],
                       outputs=[("MODEL", [12])])],
        "links": [{"id": 10, "origin_id": -10, "origin_slot": 0, "target_id": 50, "target_slot": 0, "type": "MODEL"},
                  {"id": 11, "origin_id": -10, "origin_slot": 1, "target_id": 50, "target_slot": 1, "type": "FLOAT"},
                  {"id": 12, "origin_id": 50, "origin_slot": 0, "target_id": -20, "target_slot": 0,
                   "type": "MODEL"}],
    }
    graph = basic_graph()
    graph["nodes"][2] = node(4, definition["id"], instance_widgets,
                             inputs=[("model", "MODEL", 1), ("strength", "FLOAT", None)], outputs=[("MODEL", [4])])
    graph["definitions"] = {"subgraphs": [definition]}
    return graph


def test_a_subgraph_expands_into_its_nodes_with_instance_prefixed_ids():
    prompt = convert_workflow(subgraph_workflow([0.9]), INTERFACES)
    assert "4" not in prompt
    assert prompt["4:50"]["inputs"] == {"strength": 0.9, "model": ["1", 0]}  # the promoted widget's value
    assert prompt["3"]["inputs"]["model"] == ["4:50", 0]


def test_duplicate_node_ids_inside_subgraphs_are_renumbered_after_the_last_node_id():
    graph = subgraph_workflow([0.9])
    graph["definitions"]["subgraphs"][0]["nodes"][0]["id"] = 2  # clashes with root node 2
    for link in graph["definitions"]["subgraphs"][0]["links"]:
        for end in ("origin_id", "target_id"):
            link[end] = 2 if link[end] == 50 else link[end]
    prompt = convert_workflow(graph, INTERFACES)
    assert "4:101" in prompt and prompt["3"]["inputs"]["model"] == ["4:101", 0]


def test_a_subgraph_that_contains_itself_is_refused():
    graph = subgraph_workflow([0.9])
    definition = graph["definitions"]["subgraphs"][0]
    definition["nodes"].append(node(5, definition["id"], [0.1]))
    with pytest.raises(WorkflowFormatError, match="contains itself") as error:
        convert_workflow(graph, INTERFACES)
    assert error.value.node_id == "4:5"


@pytest.mark.parametrize(("break_it", "node_id", "input_name", "message"), [
    (lambda g: g["links"].pop(), "3", "model", "dangling link"),
    (lambda g: g["nodes"][0].update(type="NoSuchNode"), "1", None, "unknown type 'NoSuchNode'"),
    (lambda g: g["nodes"][3].update(widgets_values=[42, "randomize"]), "3", "steps", "no value for 'steps'"),
])
def test_bad_graphs_name_the_node_and_the_input(break_it, node_id, input_name, message):
    graph = basic_graph()
    break_it(graph)
    with pytest.raises(WorkflowFormatError, match=message) as error:
        convert_workflow(graph, INTERFACES)
    assert (error.value.node_id, error.value.input_name) == (node_id, input_name)


def test_only_graphs_with_nodes_and_links_are_ui_workflows():
    assert is_ui_workflow(basic_graph())
    assert not is_ui_workflow({"3": {"class_type": "Sampler", "inputs": {}}})


def test_the_registered_interfaces_convert_a_v3_nodes_widgets():
    """The server converts with the registered nodes' /object_info entries as clients read them (JSON lists):
    a V3 node's entry, rendered with tuples, still maps its widget values (EmptySD3LatentImage)."""
    import nodes
    from comfy_execution import node_loading
    from comfy_execution.node_info import RegisteredNodeInterfaces

    saved = dict(nodes.NODE_CLASS_MAPPINGS)
    try:
        node_loading.init_builtin_extra_nodes()
        prompt = convert_workflow(workflow([node(27, "EmptySD3LatentImage", [64, 48, 2],
                                                 outputs=[("LATENT", [])])], []), RegisteredNodeInterfaces())
    finally:
        nodes.NODE_CLASS_MAPPINGS.clear()
        nodes.NODE_CLASS_MAPPINGS.update(saved)
    assert prompt["27"]["inputs"] == {"width": 64, "height": 48, "batch_size": 2}
