"""The built-in model plugins, ``mlp`` and ``dcgan``: their contracts, at every size they take, conditional
or not, built the way the core builds them (through the hook and ``Component.load_factory``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
import torch
from torch import nn

import ganzoo_dcgan
import ganzoo_mlp
from ganzoo import Component, DataInfo
from ganzoo.errors import RecipeError

BATCH = 4
CLASSES = 5


def registered(plugin: object, name: str) -> dict[str, Component]:
    """The components ``plugin`` registers through its hooks, keyed by kind, as the registry would get them."""
    found: dict[str, Component] = {}
    for kind, hook in (("generator", "register_generators"), ("discriminator", "register_discriminators")):

        def register(reg_name: str, factory: object, *, description: str, kind: str = kind, **support: object) -> None:
            found[kind] = Component(
                kind=kind, name=reg_name, factory=factory, description=description, plugin=name, **support
            )

        getattr(plugin, hook)(register=register)
    return found


MLP = registered(ganzoo_mlp, "mlp")
DCGAN = registered(ganzoo_dcgan, "dcgan")


def build(components: dict[str, Component], shape: tuple[int, ...], num_classes: int, g: dict, d: dict):
    """G and D for one sample shape, from option tables as a recipe would give them, after validation."""
    data = DataInfo(shape, num_classes)
    models = []
    for kind, table in (("generator", g), ("discriminator", d)):
        comp = components[kind]
        options = comp.parse(table)
        assert comp.validate_for(options, data, conditional=num_classes > 0) is None
        models.append(comp.load_factory()(options, shape=shape, num_classes=num_classes))
    return models


def labels(num_classes: int) -> torch.Tensor | None:
    return torch.arange(BATCH) % num_classes if num_classes else None


TINY_MLP = {"hidden_dims": [32, 32]}
CASES: list[tuple[str, dict[str, Component], tuple[int, ...], dict, dict]] = [
    *[
        (f"mlp-{'x'.join(map(str, shape))}", MLP, shape, {"latent_dim": 8, **TINY_MLP}, {**TINY_MLP, **d})
        for shape in [(2,), (1, 8, 8), (1, 28, 28)]
        for d in ({"dropout": 0.2}, {"spectral_norm": True})
    ],
    *[
        (f"dcgan-{c}x{s}", DCGAN, (c, s, s), {"width": 8, "latent_dim": 16}, {"width": 8, **d})
        for s in (16, 28, 32, 64)
        for c in (1, 3)
        for d in ({}, {"spectral_norm": True, "conditioning": "channels"})
    ],
]


@pytest.fixture(params=CASES, ids=[case[0] for case in CASES])
def case(request: pytest.FixtureRequest):
    return request.param


@pytest.fixture(params=[0, CLASSES], ids=["uncond", "cond"])
def num_classes(request: pytest.FixtureRequest) -> int:
    return request.param


def test_shapes_range_and_gradients(case, num_classes: int) -> None:
    _, components, shape, g, d = case
    torch.manual_seed(0)
    G, D = build(components, shape, num_classes, g, d)
    assert (G.latent_dim, G.num_classes) == (g["latent_dim"], num_classes)
    c = labels(num_classes)
    x = G(torch.randn(BATCH, G.latent_dim), c)
    assert x.shape == (BATCH, *shape)
    assert x.min() >= -1 and x.max() <= 1
    logits = D(x, c)
    assert logits.shape == (BATCH,)
    # a D loss on real and fake together reaches every parameter of G and of D
    nn.functional.softplus(-logits).mean().add(D(torch.rand(BATCH, *shape) * 2 - 1, c).mean()).backward()
    for model in (G, D):
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, f"{type(model).__name__}.{name} got no gradient"


def test_class_changes_the_sample(case) -> None:
    _, components, shape, g, d = case
    torch.manual_seed(0)
    G, _ = build(components, shape, CLASSES, g, d)
    G.eval()  # in train mode, batch norm would remove a class shared by the whole batch
    z, c = torch.randn(BATCH, G.latent_dim), labels(CLASSES)
    with torch.no_grad():
        delta = (G(z, c) - G(z, (c + 1) % CLASSES)).abs().flatten(1).amax(1)
    assert (delta > 1e-4).all()


def test_conditional_models_need_integer_labels(case) -> None:
    _, components, shape, g, d = case
    G, D = build(components, shape, CLASSES, g, d)
    z, x = torch.randn(BATCH, G.latent_dim), torch.zeros(BATCH, *shape)
    for call in (lambda: G(z), lambda: D(x)):
        with pytest.raises(ValueError, match="conditional on 5 classes"):
            call()
    for bad in (torch.zeros(BATCH), torch.zeros(BATCH, 1, dtype=torch.long)):
        for call in (lambda: G(z, bad), lambda: D(x, bad)):
            with pytest.raises(ValueError, match="integer class indices"):
                call()


def test_unconditional_models_ignore_labels(case) -> None:
    _, components, shape, g, d = case
    torch.manual_seed(0)
    G, D = build(components, shape, 0, g, d)
    G.eval(), D.eval()
    z, c = torch.randn(BATCH, G.latent_dim), labels(CLASSES)
    with torch.no_grad():
        x = G(z)
        assert torch.equal(G(z, c), x) and torch.equal(D(x, c), D(x))


def test_generator_rejects_a_wrong_latent() -> None:
    G, _ = build(DCGAN, (1, 16, 16), 0, {"width": 8, "latent_dim": 16}, {"width": 8})
    with pytest.raises(ValueError, match=r"z of shape \[N, 16\]"):
        G(torch.randn(BATCH, 15))


@pytest.mark.parametrize(
    "components,shape,g,d",
    [(MLP, (2,), {"latent_dim": 8}, {}), (DCGAN, (3, 16, 16), {"width": 8}, {"width": 8})],
    ids=["mlp", "dcgan"],
)
def test_critic_supports_a_gradient_penalty(components, shape, g: dict, d: dict) -> None:
    """WGAN-GP differentiates D's input gradient; in-place activations must not break double backward."""
    _, D = build(components, shape, CLASSES, g, {**d, "spectral_norm": True})
    x = torch.randn(BATCH, *shape, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x, labels(CLASSES)).sum(), x, create_graph=True)
    grad.flatten(1).norm(dim=1).sub(1).square().mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in D.parameters())


def test_spectral_norm_drops_batch_norm_from_dcgan_discriminator() -> None:
    _, D = build(DCGAN, (3, 32, 32), 0, {"width": 8}, {"width": 8, "spectral_norm": True})
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    _, D = build(DCGAN, (3, 32, 32), 0, {"width": 8}, {"width": 8})
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == 2  # none on the input layer


def test_dcgan_init_follows_the_paper() -> None:
    torch.manual_seed(0)
    G, D = build(DCGAN, (3, 64, 64), 0, {}, {})
    convs = [m for model in (G, D) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert len(convs) == 10
    for m in convs:
        if m.weight.numel() >= 10_000:
            assert abs(m.weight.std().item() - 0.02) < 0.001 and abs(m.weight.mean().item()) < 0.001
        assert m.bias is None or not m.bias.any()
    norms = [m for model in (G, D) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    weights = torch.cat([m.weight for m in norms])
    assert abs(weights.mean().item() - 1) < 0.005 and abs(weights.std().item() - 0.02) < 0.005
    assert not torch.cat([m.bias for m in norms]).any()


@pytest.mark.parametrize("shape", [(1, 48, 48), (3, 32, 16), (3, 100, 100)])
def test_dcgan_rejects_unsupported_sizes(shape: tuple[int, ...]) -> None:
    for comp in DCGAN.values():
        message = comp.validate_for(comp.parse({}), DataInfo(shape, 0), conditional=False)
        assert message == (
            f"dcgan supports square images of sizes 8, 16, 28, 32, 64, 128; the data is {shape[1]}x{shape[2]}"
        )
    with pytest.raises(ValueError, match="square images of sizes"):
        DCGAN["generator"].load_factory()(DCGAN["generator"].parse({}), shape=shape, num_classes=0)


@pytest.mark.parametrize("size", [8, 16, 28, 32, 64, 128])
def test_dcgan_accepts_supported_sizes(size: int) -> None:
    for comp in DCGAN.values():
        assert comp.validate_for(comp.parse({}), DataInfo((3, size, size), 10), conditional=True) is None


def test_registration_describes_the_components() -> None:
    for name, components in (("mlp", MLP), ("dcgan", DCGAN)):
        assert set(components) == {"generator", "discriminator"}
        for comp in components.values():
            assert comp.name == name and comp.conditional and comp.description
            assert isinstance(comp.factory, str)  # imported only when built
    assert MLP["generator"].data_kinds == ("flat", "image")
    flat = DataInfo((2,), 0)
    assert "takes image data" in DCGAN["generator"].validate_for(DCGAN["generator"].parse({}), flat, False)
    assert MLP["discriminator"].validate_for(MLP["discriminator"].parse({}), flat, False) is None


def test_options_are_validated() -> None:
    d = DCGAN["discriminator"].parse({"conditioning": "channels", "spectral_norm": True})
    assert (d.width, d.conditioning, d.spectral_norm) == (64, "channels", True)
    with pytest.raises(RecipeError, match="discriminator.conditioning"):
        DCGAN["discriminator"].parse({"conditioning": "concat"})
    g = MLP["generator"].parse({"hidden_dims": [128, 64]})
    assert g.hidden_dims == (128, 64)
    with pytest.raises(RecipeError, match="generator.latent_dim"):
        MLP["generator"].parse({"latent_dim": 0})
    with pytest.raises(RecipeError, match="discriminator.dropout"):
        MLP["discriminator"].parse({"dropout": 1.0})


@pytest.mark.parametrize("module", ["ganzoo_mlp", "ganzoo_dcgan"])
def test_plugin_module_does_not_import_torch(module: str) -> None:
    code = f"import {module}, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("num_classes", [0, CLASSES])
def test_packed_mlp_discriminator_gives_each_sample_its_packs_logit(num_classes: int) -> None:
    """PacGAN: with pack = 2 the logit of samples 2i and 2i+1 is D's verdict on the pair, and it moves when
    either member of the pair changes, never when another pair does."""
    torch.manual_seed(0)
    shape = (2,)
    _, D = build(MLP, shape, num_classes, {"latent_dim": 4, **TINY_MLP}, {**TINY_MLP, "pack": 2})
    assert D.net[0].in_features == 2 * (2 + (16 if num_classes else 0))
    x = torch.randn(BATCH, *shape)
    out = D(x, labels(num_classes))
    assert out.shape == (BATCH,)
    assert torch.equal(out[0::2], out[1::2])
    moved = x.clone()
    moved[1] += 1.0
    again = D(moved, labels(num_classes))
    assert not torch.equal(again[:2], out[:2]) and torch.equal(again[2:], out[2:])


def test_packed_mlp_discriminator_rejects_a_batch_it_cannot_pack() -> None:
    _, D = build(MLP, (2,), 0, {"latent_dim": 4, **TINY_MLP}, {**TINY_MLP, "pack": 3})
    with pytest.raises(ValueError, match=r"packs 3 samples per input: the batch \(4\) must be a multiple of 3"):
        D(torch.randn(4, 2))



@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("bias", [False, True])
def test_latent_projection_is_the_transposed_convolution_it_replaces(memory_format, bias: bool) -> None:
    from ganzoo.layers import LatentProjection

    torch.manual_seed(0)
    fast = LatentProjection(12, 8, 4, 1, 0, bias=bias).to(memory_format=memory_format)
    reference = nn.ConvTranspose2d(12, 8, 4, 1, 0, bias=bias).to(memory_format=memory_format)
    reference.load_state_dict(fast.state_dict())
    outputs, grads = [], []
    for layer in (fast, reference):
        z = torch.randn(5, 12, 1, 1, generator=torch.Generator().manual_seed(1), requires_grad=True)
        out = layer(z)
        (out * torch.arange(out.numel()).reshape(out.shape).sin()).sum().backward()
        outputs.append(out)
        grads.append((z.grad, layer.weight.grad))
    torch.testing.assert_close(outputs[0], outputs[1])
    torch.testing.assert_close(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1])
    assert outputs[0].is_contiguous(memory_format=memory_format)
    # any other input size is the plain transposed convolution
    x = torch.randn(2, 12, 3, 3)
    torch.testing.assert_close(fast(x), reference(x))
