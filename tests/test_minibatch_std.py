"""Minibatch standard deviation in D: a group of copies scores 0 on the extra channel, groups never mix the
real and fake halves of a batch, and weights saved without the option still load."""

from __future__ import annotations

import torch

import ganzoo
from ganzoo.layers import MinibatchStd


def test_a_group_of_copies_has_zero_spread_and_groups_are_consecutive():
    h = torch.randn(8, 3, 2, 2)
    h[:4] = h[0]  # the first group: four copies
    out = MinibatchStd(4)(h)
    assert out.shape == (8, 4, 2, 2)
    assert float(out[:4, 3].max()) < 1e-3 and float(out[4:, 3].min()) > 0.1
    assert MinibatchStd(3)(torch.randn(8, 2, 1, 1)).shape == (8, 3, 1, 1)  # 3 does not divide 8: groups of 1


def test_the_real_half_of_a_batch_does_not_see_the_fake_half():
    torch.manual_seed(0)
    d = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8, spectral_norm=True, minibatch_std=4).eval()
    real, fake = torch.randn(8, 1, 16, 16), torch.randn(8, 1, 16, 16)
    first = d(torch.cat([real, fake]))[:8]
    again = d(torch.cat([real, fake.flip(0) * 3]))[:8]
    assert torch.allclose(first, again)
    assert d.head.in_channels == 8 * 2 + 1


def test_without_the_option_the_layout_is_unchanged():
    d = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8)
    assert not any("minibatch_std" in key for key in d.state_dict()) and d.head.in_channels == 16


def test_the_mlp_discriminator_takes_the_option_and_keeps_its_keys():
    from ganzoo_mlp.models import minibatch_std

    h = torch.randn(6, 5)
    h[3:] = h[3]
    out = minibatch_std(h, 3)
    assert out.shape == (6, 6) and float(out[3:, 5].max()) < 1e-3 < float(out[:3, 5].min())
    plain = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[8, 8])
    with_std = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[8, 8], minibatch_std=4)
    assert plain.state_dict().keys() == with_std.state_dict().keys()
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert torch.allclose(with_std(torch.cat([real, fake]))[:8], with_std(torch.cat([real, fake * 5]))[:8])


def test_the_spread_is_the_population_std_and_its_gradient_matches_torch_var():
    from ganzoo.layers import group_spread

    h = torch.tensor([[0.0, 2.0], [2.0, 4.0], [5.0, 5.0], [5.0, 5.0]], requires_grad=True)
    # groups of two: features (0, 2) and (2, 4) each have std 1; the second group is two copies: std 1e-4
    assert torch.allclose(group_spread(h, 2), torch.tensor([1.0, 1.0, 1e-4, 1e-4]), atol=1e-6)
    x = torch.randn(16, 8, 3, 3, requires_grad=True)
    y = x.detach().clone().requires_grad_(True)
    mine = group_spread(x, 4)
    reference = (y.reshape(4, 4, -1).var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=1).repeat_interleave(4)
    assert torch.allclose(mine, reference, atol=1e-6)
    (mine * torch.arange(16.0)).sum().backward()
    (reference * torch.arange(16.0)).sum().backward()
    assert torch.allclose(x.grad, y.grad, atol=1e-6)
