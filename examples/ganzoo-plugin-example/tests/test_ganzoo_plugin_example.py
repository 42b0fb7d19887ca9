"""The example plugin's own tests, as a plugin author would write them.

Run them where the plugin is installed (``pip install -e .`` then ``pytest``): its ``ganzoo`` entry point
has registered it already, so the components are looked up, never registered again. The ``ganzoo_plugin``
fixture (shipped by ganzoo as a pytest plugin, nothing to import) adds *throwaway* plugins beside it, here
fake datasets of sizes the plugin does not ship, and removes them after each test.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

import ganzoo
from ganzoo.errors import RecipeError
from ganzoo.recipe import recipe_from_dict


def test_the_entry_point_registered_every_component():
    found = ganzoo.registries()
    for kind, name in [("generator", "resnet"), ("discriminator", "resnet"), ("loss", "ragan"), ("dataset", "shapes")]:
        assert found.component(kind, name).plugin == "example"
    record = next(record for record in found.plugins if record.name == "example")
    assert record.error is None and record.distribution == "ganzoo-plugin-example"


@pytest.mark.parametrize("size", [8, 16, 32])
def test_resnet_pair_maps_noise_to_images_to_logits(size):
    torch.manual_seed(0)
    generator = ganzoo.build_generator("resnet", shape=(3, size, size), latent_dim=16, width=8)
    discriminator = ganzoo.build_discriminator("resnet", shape=(3, size, size), width=8)
    images = generator(torch.randn(4, generator.latent_dim))
    assert images.shape == (4, 3, size, size)
    assert images.abs().max() <= 1
    assert discriminator(images).shape == (4,)


def test_ragan_loss_matches_its_formula():
    loss = ganzoo.build_loss("ragan")
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])  # means 1 and 0
    softplus = lambda t: math.log1p(math.exp(t))  # noqa: E731
    d_expected = (softplus(-2.0) + softplus(0.0)) / 2 + (softplus(-2.0) + softplus(0.0)) / 2
    g_expected = (softplus(2.0) + softplus(0.0)) / 2 + (softplus(2.0) + softplus(0.0)) / 2
    assert loss.d_loss(real, fake).item() == pytest.approx(d_expected)
    assert loss.needs.real_logits  # the trainer passes fresh real logits to g_objective
    assert loss.relativistic_g_loss(fake, real).item() == pytest.approx(g_expected)
    # equal logits: neither side is more realistic, both losses are 2 log 2
    same = torch.zeros(3)
    assert loss.d_loss(same, same).item() == pytest.approx(2 * math.log(2))


def test_ragan_loss_is_finite_with_gradients_at_extreme_logits():
    loss = ganzoo.build_loss("ragan")
    real = torch.tensor([1e4, -1e4], requires_grad=True)
    fake = torch.tensor([-1e4, 1e4], requires_grad=True)
    total = loss.d_loss(real, fake) + loss.relativistic_g_loss(fake, real)
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


def test_shapes_are_fresh_labelled_images_in_range():
    data = ganzoo.build_dataset("shapes", image_size=16)
    x, y = data.sample(32, torch.Generator().manual_seed(0))
    assert x.shape == (32, 1, 16, 16) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert set(y.tolist()) <= {0, 1, 2}
    assert tuple(data.info.shape) == (1, 16, 16) and data.info.num_classes == 3
    again, _ = data.sample(32, torch.Generator().manual_seed(1))
    assert not torch.equal(x, again)


def fake_images(name: str, size: int) -> SimpleNamespace:
    """A throwaway plugin with one dataset of ``size`` x ``size`` images, never loaded."""

    @ganzoo.hookimpl
    def register_datasets(register):
        register(name, "nowhere:Never", description=f"{size}x{size} fake images",
                 info=lambda options: ganzoo.DataInfo(shape=(1, size, size)))

    return SimpleNamespace(register_datasets=register_datasets)


def _recipe(data: str) -> dict:
    return {"data": {"name": data}, "generator": {"name": "resnet"}, "discriminator": {"name": "resnet"},
            "loss": {"name": "ragan"}}


def test_resnet_takes_power_of_two_squares_only(ganzoo_plugin):
    ganzoo_plugin(fake_images("fake-32", 32), name="fake-32")
    ganzoo_plugin(fake_images("fake-12", 12), name="fake-12")
    assert recipe_from_dict(_recipe("fake-32")).data_info.shape == (1, 32, 32)
    with pytest.raises(RecipeError, match="resnet takes square images"):
        recipe_from_dict(_recipe("fake-12"))


def test_fake_datasets_are_gone_after_the_test():
    assert "fake-32" not in ganzoo.registries()["dataset"]
