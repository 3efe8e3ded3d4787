"""RebatchImages and RebatchLatents (comfy_extras/nodes_rebatch.py): list in, list out."""

from __future__ import annotations

import torch

from comfy_execution import node_loading
from comfy_extras import nodes_rebatch


def numbered_images(start: int, count: int, size: int = 2) -> torch.Tensor:
    return torch.arange(start, start + count, dtype=torch.float32).reshape(count, 1, 1, 1).expand(
        count, size, size, 3).clone()


def ids(batch: torch.Tensor) -> list[float]:
    return batch[:, 0, 0, 0].tolist()


def registered() -> dict[str, type]:
    return node_loading.module_node_classes(nodes_rebatch)


def test_rebatch_images_is_a_list_node():
    node = nodes_rebatch.ImageRebatch
    assert node.INPUT_IS_LIST is True and node.OUTPUT_IS_LIST == [True]
    assert registered()["RebatchImages"] is node
    assert node.CATEGORY == "image/batch"


def test_rebatch_images_regroups_all_images_into_batches_of_size():
    images = [numbered_images(0, 3), numbered_images(3, 2)]

    (batches,) = nodes_rebatch.ImageRebatch.execute(images, batch_size=[2])

    assert [ids(batch) for batch in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]


def test_rebatch_images_with_size_one_splits_every_image():
    (batches,) = nodes_rebatch.ImageRebatch.execute([numbered_images(0, 3)], batch_size=[1])

    assert [batch.shape[0] for batch in batches] == [1, 1, 1]


def numbered_latent(start: int, count: int, size: int = 2) -> dict:
    samples = torch.arange(start, start + count, dtype=torch.float32).reshape(count, 1, 1, 1).expand(
        count, 4, size, size).clone()
    return {"samples": samples}


def test_rebatch_latents_regroups_and_numbers_samples_across_inputs():
    latents = [numbered_latent(0, 3), numbered_latent(3, 2)]

    (batches,) = nodes_rebatch.LatentRebatch.execute(latents, batch_size=[2])

    assert [ids(batch["samples"]) for batch in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert [batch["batch_index"] for batch in batches] == [[0, 1], [2, 3], [4]]
    assert all("noise_mask" not in batch for batch in batches)
    assert registered()["RebatchLatents"] is nodes_rebatch.LatentRebatch


def test_rebatch_latents_never_mixes_sizes():
    latents = [numbered_latent(0, 1, size=2), numbered_latent(1, 2, size=3)]

    (batches,) = nodes_rebatch.LatentRebatch.execute(latents, batch_size=[4])

    assert [tuple(batch["samples"].shape) for batch in batches] == [(1, 4, 2, 2), (2, 4, 3, 3)]


def test_rebatch_latents_keeps_given_batch_index_and_fills_missing_noise_masks():
    with_mask = numbered_latent(0, 1)
    with_mask["batch_index"] = [9]
    with_mask["noise_mask"] = torch.zeros(1, 1, 16, 16)

    (batches,) = nodes_rebatch.LatentRebatch.execute([with_mask, numbered_latent(1, 1)], batch_size=[2])

    (batch,) = batches
    assert batch["batch_index"] == [9, 1]
    assert batch["noise_mask"].shape == (2, 1, 16, 16)
    assert torch.all(batch["noise_mask"][0] == 0) and torch.all(batch["noise_mask"][1] == 1)
