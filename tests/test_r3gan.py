"""R3GAN's generator and discriminator: shapes for every supported size, the block's structure (1x1, grouped
3x3, 1x1, no normalisation), the fix-up initialisation, the class by embedding in G and by projection in D,
and the recipe checks on sizes and groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.cli.main import main
from ganzoo_r3gan.layers import InvertedBottleneck
from ganzoo_r3gan.models import R3GANDiscriminator, R3GANGenerator
from ganzoo_r3gan.options import R3GANDiscriminatorOptions, R3GANGeneratorOptions, stage_widths
from helpers_training import assert_one_line_error

SMALL = {"width": 16, "min_width": 8, "group_size": 4}


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("classes", [0, 10])
def test_shapes_for_every_size_and_channels(one_thread, size, channels, classes):
    torch.manual_seed(0)
    shape = (channels, size, size)
    g = R3GANGenerator(R3GANGeneratorOptions(latent_dim=8, **SMALL), shape=shape, num_classes=classes)
    d = R3GANDiscriminator(R3GANDiscriminatorOptions(**SMALL), shape=shape, num_classes=classes)
    c = torch.arange(3) % classes if classes else None
    x = g(torch.randn(3, 8), c)
    assert x.shape == (3, *shape) and x.abs().max() <= 1.0
    assert d(x, c).shape == (3,)
    assert g.latent_dim == 8 and g.num_classes == classes


def test_no_normalisation_and_the_block_structure():
    g = R3GANGenerator(R3GANGeneratorOptions(width=32, min_width=16, expansion=2, group_size=8), shape=(1, 16, 16))
    d = R3GANDiscriminator(R3GANDiscriminatorOptions(width=32, min_width=16), shape=(3, 16, 16))
    for model in (g, d):
        assert not [m for m in model.modules() if isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm,
                                                                 nn.LayerNorm))]
    block = next(m for m in g.modules() if isinstance(m, InvertedBottleneck))
    first, grouped, last = (m for m in block.branch if isinstance(m, nn.Conv2d))
    assert first.kernel_size == (1, 1) and last.kernel_size == (1, 1) and grouped.kernel_size == (3, 3)
    assert first.out_channels == 2 * first.in_channels  # the inverted bottleneck widens
    assert grouped.groups == grouped.in_channels // 8
    assert all(conv.bias is not None for conv in (first, grouped, last))
    assert g.basis.shape == (32, 4, 4)  # the learned 4x4 start
    assert d.end.kernel_size == (4, 4) and d.end.groups == d.end.in_channels  # the learned 4x4 end


def test_every_residual_branch_starts_at_zero():
    """Fix-up: the branch's last layer is zero, so every block is the identity at initialisation."""
    g = R3GANGenerator(R3GANGeneratorOptions(**SMALL, blocks=2), shape=(1, 16, 16))
    x = torch.randn(2, 16, 4, 4)
    block = next(m for m in g.modules() if isinstance(m, InvertedBottleneck))
    assert torch.equal(block(x), x)


def test_initialisation_shrinks_with_the_number_of_blocks():
    """The branch's first layers are drawn at He's scale times L^(-1/4) for L blocks (m = 3 layers)."""
    def first_std(blocks: int) -> float:
        torch.manual_seed(0)
        g = R3GANGenerator(R3GANGeneratorOptions(width=256, min_width=256, group_size=16, blocks=blocks),
                           shape=(1, 8, 8))
        block = next(m for m in g.modules() if isinstance(m, InvertedBottleneck))
        return float(block.branch[0].weight.detach().std())

    # 2 stages (4x4, 8x8): L = 2 against L = 32
    assert first_std(16) / first_std(1) == pytest.approx(16 ** (-0.25), rel=0.05)


def test_widths_halve_per_doubling_down_to_the_floor():
    assert stage_widths(R3GANGeneratorOptions(width=64, min_width=16), 64) == [64, 32, 16, 16, 16]
    assert stage_widths(R3GANGeneratorOptions(width=8, min_width=16), 16) == [8, 8, 8]


def test_class_enters_g_by_embedding_and_d_by_projection():
    torch.manual_seed(0)
    shape = (1, 16, 16)
    g = R3GANGenerator(R3GANGeneratorOptions(latent_dim=8, **SMALL), shape=shape, num_classes=3)
    z = torch.randn(1, 8).repeat(3, 1)
    x = g(z, torch.arange(3))
    assert not torch.allclose(x[0], x[1])  # one z, three classes, three images
    d = R3GANDiscriminator(R3GANDiscriminatorOptions(**SMALL), shape=shape, num_classes=3)
    image = x[:1].detach().repeat(2, 1, 1, 1)
    logits = d(image, torch.tensor([0, 1]))
    features = d.end(_trunk(d, image[:1])).flatten(1)[0]
    projection = (d.embed.weight[0] - d.embed.weight[1]) @ features
    assert float(logits[0] - logits[1]) == pytest.approx(float(projection), abs=1e-5)
    with pytest.raises(ValueError, match="class indices"):
        d(image)


def test_a_categorical_part_of_the_prior_reaches_g_as_its_one_hot(one_thread):
    torch.manual_seed(0)
    g = R3GANGenerator(R3GANGeneratorOptions(latent_dim=8, categorical=4, **SMALL), shape=(1, 16, 16))
    assert g.latent_dim == 12
    z = torch.randn(2, 12)
    same = z.clone()
    same[:, 8:] = torch.nn.functional.one_hot(z[:, 8:].argmax(dim=1), 4) * 3.0  # the same arg-max
    assert torch.equal(g(z), g(same))
    other = z.clone()
    other[:, 8:] = torch.nn.functional.one_hot((z[:, 8:].argmax(dim=1) + 1) % 4, 4).float()
    assert not torch.allclose(g(z), g(other))


def test_a_minibatch_std_channel_lets_d_see_its_group(one_thread):
    torch.manual_seed(0)
    d = R3GANDiscriminator(R3GANDiscriminatorOptions(minibatch_std=2, **SMALL), shape=(1, 16, 16))
    x = torch.randn(4, 1, 16, 16)
    changed = x.clone()
    changed[1] += 1.0  # sample 1 shares a group with sample 0, not with 2 and 3
    before, after = d(x), d(changed)
    assert before[0] != after[0] and torch.equal(before[2:], after[2:])
    plain = R3GANDiscriminator(R3GANDiscriminatorOptions(**SMALL), shape=(1, 16, 16))
    assert set(plain.state_dict()) == set(d.state_dict())  # off: the same weights as before the option
    assert d.end.in_channels == plain.end.in_channels + 1


def _trunk(d: R3GANDiscriminator, x: torch.Tensor) -> torch.Tensor:
    h = d.stages[0](d.from_image(x))
    for transition, blocks in zip(d.transitions, d.stages[1:]):
        h = blocks(transition(torch.nn.functional.avg_pool2d(h, 2)))
    return h


def test_unsupported_size_and_groups_are_refused_at_validation(capsys):
    assert main(["validate", "r3gan-digits", "--set", "data.image_size=28"]) == 2
    assert_one_line_error(capsys.readouterr().err, "generator.name", "sizes 8, 16, 32, 64", "1x28x28")
    assert main(["validate", "r3gan-digits", "--set", "discriminator.group_size=12"]) == 2
    assert_one_line_error(capsys.readouterr().err, "discriminator.name", "group_size = 12", "allowed: a divisor")


def test_the_conditional_recipe_validates_with_rpgan_r1_r2():
    from ganzoo.recipe import load_recipe

    recipe = load_recipe("r3gan-cdigits")
    assert recipe.conditional and recipe.loss.name == "rpgan"
    assert [r.name for r in recipe.regularizers] == ["r1", "r2"]
    assert recipe.optim.generator.betas == (0.0, 0.9) and recipe.train.ema > 0
