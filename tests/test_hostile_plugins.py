"""A plugin author's mistakes that reached a run: a regulariser option named like the [[regularizer]]
schedule (its value was read as the weight, and a resume trained at another one); a discriminator that
declares an extra output and returns a bare tensor (from a recipe and composed from Python); an options
default that breaks its own rule. One line naming the plugin and what is wrong, before any work."""

from __future__ import annotations

import inspect
import json
import math
from types import SimpleNamespace

import pytest
import torch
from helpers_training import assert_one_line_error
from torch import nn

import ganzoo
from ganzoo.cli.main import main
from ganzoo.errors import GanzooError, RecipeError
from ganzoo.model_outputs import check_outputs
from ganzoo.options import option, options_class
from ganzoo.recipe import load_recipe


@options_class
class WeightyOptions:
    weight: float = option(2.0, help="the penalty's own scale (collides with the schedule's weight)")


@pytest.mark.parametrize("field", ["weight", "every"])
def test_a_regulariser_option_named_like_the_schedule_is_refused(ganzoo_plugin, field):
    options = WeightyOptions if field == "weight" else options_class(
        type("EveryOptions", (), {"__annotations__": {"every": "int"}, "every": option(3)}))

    @ganzoo.hookimpl
    def register_regularizers(register):
        register("weighty", "ganzoo_regularizers.clip:WeightClip", description="a collision", options=options)

    ganzoo_plugin(SimpleNamespace(register_regularizers=register_regularizers), name="weighty-plugin")
    with pytest.raises(RecipeError) as caught:
        load_recipe("dcgan-r1-diffaug-digits", ['regularizer=[{name = "weighty", weight = 5}]'])
    message = str(caught.value)
    assert "regularizer[0].name" in message and "plugin 'weighty-plugin'" in message
    assert f"option named {field!r}" in message and "the plugin must rename that option" in message


def test_a_third_party_regulariser_s_check_recipe_runs_at_validation(ganzoo_plugin):
    """check_recipe is a regulariser's keyword as it is a loss's: the core calls it with the rest of the recipe."""
    seen = []

    def only_small_batches(options, context):
        seen.append(context.train.batch_size)
        if context.train.batch_size > 32:
            raise ValueError(f"batch_size {context.train.batch_size} is too large; allowed: at most 32")

    @ganzoo.hookimpl
    def register_regularizers(register):
        register("small", "ganzoo_regularizers.clip:WeightClip", description="small batches only",
                 check_recipe=only_small_batches)

    ganzoo_plugin(SimpleNamespace(register_regularizers=register_regularizers), name="small-plugin")
    load_recipe("dcgan-digits", ['regularizer=[{name = "small"}]', "train.batch_size=32"])
    with pytest.raises(RecipeError) as caught:
        load_recipe("dcgan-digits", ['regularizer=[{name = "small"}]', "train.batch_size=64"])
    assert "regularizer[0]" in str(caught.value) and "at most 32" in str(caught.value)
    assert seen == [32, 64]


# ---------------------------------------------------------------- a D that lacks the output it declared
class BareD(nn.Module):
    """Registered with provides=("class_logits",), yet returns a bare tensor of logits."""

    def __init__(self, options=None, *, shape, num_classes=0):
        super().__init__()
        self.score = nn.Linear(math.prod(shape), 1)
        self.num_classes = num_classes

    def forward(self, x, c=None):
        return self.score(x.flatten(1)).squeeze(1)


@ganzoo.hookimpl
def register_discriminators(register):
    register("liar", BareD, description="declares class_logits, returns a bare tensor", conditional=True,
             data_kinds=("image",), provides=("class_logits",))


@pytest.fixture
def liar(ganzoo_plugin):
    return ganzoo_plugin(SimpleNamespace(register_discriminators=register_discriminators), name="liar-plugin")


SAYS = ("discriminator 'liar' of plugin 'liar-plugin' declares the output 'class_logits'",
        "returns a bare Tensor, without 'class_logits'")


@pytest.mark.usefixtures("liar", "one_thread")
def test_a_recipe_whose_d_lacks_its_declared_output_is_refused_before_the_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["run", "acgan-digits", "--out", str(run), "--quiet", "--set", 'discriminator={name = "liar"}',
            "--set", "train.steps=2", "--set", "train.device=cpu"]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert_one_line_error(captured.err, *SAYS)
    assert not run.exists()


@pytest.mark.usefixtures("liar", "one_thread")
def test_the_same_mismatch_composed_from_python_is_refused(tmp_path):
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=8, width=8)
    D = ganzoo.build_discriminator("liar", shape=(1, 16, 16), num_classes=10)
    data = ganzoo.build_dataset("digits", image_size=16)
    with pytest.raises(GanzooError) as caught:
        ganzoo.Trainer(G, D, "acgan", data, steps=1, batch_size=8, device="cpu", run_dir=tmp_path / "run")
    assert len(str(caught.value).splitlines()) == 1 and all(part in str(caught.value) for part in SAYS)
    assert not (tmp_path / "run").exists()


@pytest.mark.usefixtures("one_thread")
def test_a_hand_built_d_is_held_to_what_the_loss_reads():
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=8, width=8)
    data = ganzoo.build_dataset("digits", image_size=16)
    with pytest.raises(GanzooError, match="the loss ACGANLoss needs the discriminator's 'class_logits' output, "
                                          "but D.* of BareD returns a bare Tensor"):
        ganzoo.Trainer(G, BareD(shape=(1, 16, 16), num_classes=10), "acgan", data, steps=1, device="cpu")


@pytest.mark.usefixtures("one_thread")
def test_a_generator_without_the_codes_the_loss_reads_is_refused_from_python():
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), latent_dim=8, width=8)
    D = ganzoo.build_discriminator("infogan", shape=(1, 16, 16), width=8)
    data = ganzoo.build_dataset("digits", image_size=16)
    with pytest.raises(GanzooError, match=r"the loss InfoGANLoss needs the generator's 'codes' latent part, but "
                                          r"\w+ has no latent_codes\(z\)"):
        ganzoo.Trainer(G, D, "infogan", data, steps=1, device="cpu")


@pytest.mark.usefixtures("one_thread")
def test_holding_d_to_its_outputs_leaves_the_seeded_run_as_it_was():
    """The check's forward draws nothing from torch's stream, and leaves modes and BatchNorm statistics."""
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=8, width=8)
    D = ganzoo.build_discriminator("acgan", shape=(1, 16, 16), num_classes=10, width=8)
    D.eval()
    next(iter(G.children())).eval()  # a submodule in its own mode stays in it
    modes = [m.training for m in (*G.modules(), *D.modules())]
    states = [{k: v.clone() for k, v in m.state_dict().items()} for m in (G, D)]
    stream = torch.get_rng_state()
    check_outputs(G, D, ganzoo.build_loss("acgan"), num_classes=10)
    assert torch.equal(stream, torch.get_rng_state())
    assert modes == [m.training for m in (*G.modules(), *D.modules())]
    for before, model in zip(states, (G, D)):
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# ---------------------------------------------------------------- an options default that breaks its rule
@options_class
class ZeroWidthOptions:
    width: int = option(0, min=1, help="a default its own rule refuses")


@ganzoo.hookimpl
def register_generators(register):
    register("zero-width", "json:dumps", description="never built", options=ZeroWidthOptions)


def test_a_default_that_breaks_its_rule_names_the_plugins_class_and_line(ganzoo_plugin, capsys):
    ganzoo_plugin(SimpleNamespace(register_generators=register_generators), name="zero-plugin")
    assert main(["plugins", "--json"]) == 0
    error = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == "zero-plugin")["error"]
    assert f"options class {ZeroWidthOptions.__module__}.ZeroWidthOptions: width (default): got 0; must be >= 1" \
        in error
    line = inspect.getsourcelines(register_generators)[1] + 2  # the register(...) call, not ganzoo's check
    assert error.endswith(f"(at {__file__}:{line})"), error
