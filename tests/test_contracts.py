"""The written contract: per-kind registration, one declaration of what a loss needs, metrics kept to what
they registered, ``ganzoo plugins --check`` holding built components to their Protocols, and the facade."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import contracts
from ganzoo.cli.main import main
from ganzoo.errors import GanzooError
from ganzoo.evaluation.runner import misfit, run_metrics
from ganzoo.registry import registries
from ganzoo.testing import registered_plugin

ROOT = Path(__file__).parents[1]


def _record(name: str) -> dict:
    (record,) = [r for r in registries().plugins if r.name == name]
    return record.as_json()


# ------------------------------------------------------------------------- registration, per kind
@pytest.mark.parametrize("hook, keyword, value", [
    ("register_generators", "info", lambda options: None),
    ("register_losses", "data_kinds", ("image",)),
    ("register_metrics", "needs", {}),
    ("register_datasets", "provides", ("codes",)),
])
def test_a_keyword_of_another_kind_fails_the_plugin_naming_it(hook, keyword, value):
    def register_all(register):
        extra = {"info": lambda options: ganzoo.DataInfo((2,))} if hook == "register_datasets" else {}
        register("odd", "nowhere:Thing", description="misregistered", **extra, **{keyword: value})

    with registered_plugin(SimpleNamespace(**{hook: ganzoo.hookimpl(register_all)}), name="odd-plugin"):
        error = _record("odd-plugin")["error"]
    assert f"of plugin 'odd-plugin': register() got {keyword}=, which does not apply" in error, error
    assert "'odd'" in error and "allowed: " in error


def test_needs_with_an_unknown_key_fails_the_plugin():
    @ganzoo.hookimpl
    def register_losses(register):
        register("odd", "nowhere:Loss", description="x", needs={"discriminatr": ("class_logits",)})

    with registered_plugin(SimpleNamespace(register_losses=register_losses), name="typo-plugin"):
        error = _record("typo-plugin")["error"]
    assert "unknown key 'discriminatr'" in error and "allowed: discriminator, generator, real_logits" in error


# ---------------------------------------------------------------------- what a loss needs, once
class _Relativistic(ganzoo.GANLoss):
    family = "critic"

    def __init__(self, options=None) -> None:
        pass

    def d_loss(self, real_logits, fake_logits):
        return (fake_logits - real_logits.mean()).mean()

    def g_objective(self, batch):
        return (batch.real_out.logits.mean() - batch.fake_out.logits).mean()


def test_a_loss_declares_its_needs_at_registration_and_the_built_loss_carries_them():
    @ganzoo.hookimpl
    def register_losses(register):
        register("rel", _Relativistic, description="relativistic", needs=ganzoo.Needs(real_logits=True))
        register("plain", _Relativistic, description="same class, nothing declared")

    with registered_plugin(SimpleNamespace(register_losses=register_losses), name="rel-plugin"):
        assert ganzoo.build_loss("rel").needs_real_logits
        assert ganzoo.build_loss("rel").needs == ganzoo.Needs(real_logits=True)
        assert not ganzoo.build_loss("plain").needs_real_logits
        assert ganzoo.build_loss("rel").kind == ganzoo.build_loss("rel").family == "critic"


def test_the_deprecated_loss_attributes_still_work_and_warn():
    with pytest.warns(DeprecationWarning) as caught:
        class Old(ganzoo.GANLoss):
            kind = "critic"
            needs_real_logits = True

            def d_loss(self, real_logits, fake_logits):
                return fake_logits.mean() - real_logits.mean()

            def g_loss(self, fake_logits, real_logits):
                return real_logits.mean() - fake_logits.mean()

    assert {"family", "needs=ganzoo.Needs(real_logits=True)"} <= {
        word for w in caught for word in ("family", "needs=ganzoo.Needs(real_logits=True)") if word in str(w.message)}
    loss = Old()
    assert loss.family == "critic" and loss.needs_real_logits
    fake, real = ganzoo.DOutput(torch.tensor([1.0, 3.0])), ganzoo.DOutput(torch.tensor([5.0]))
    batch = ganzoo.GBatch(fake=None, labels=None, fake_out=fake, real_out=real)
    assert float(loss.g_objective(batch)) == 3.0  # g_loss(fake_logits, real_logits=...): 5 - 2


def test_the_built_in_losses_declare_a_family_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        families = {c.name: ganzoo.build_loss(c.name).family for c in registries()["loss"]}
    assert families["wasserstein"] == "critic" and families["non-saturating"] == "logistic"


# ------------------------------------------------------------- metrics keep to their registration
class _FlatOnly:
    better = {"score": "lower"}  # noqa: RUF012

    def __init__(self, options=None) -> None:
        pass

    def applies_to(self, context):
        return True  # says yes to anything: the registration must still rule it out

    def compute(self, context):
        return {"score": 1.0}


def _context(shape: tuple[int, ...], classes: int = 0) -> SimpleNamespace:
    return SimpleNamespace(data_info=ganzoo.DataInfo(shape, classes), conditional=classes > 0,
                           describe=lambda: "test generator")


def test_metrics_run_only_on_the_data_and_conditioning_they_registered():
    @ganzoo.hookimpl
    def register_metrics(register):
        register("flat-only", _FlatOnly, description="flat data, unconditional G", data_kinds=("flat",))

    with registered_plugin(SimpleNamespace(register_metrics=register_metrics), name="flat-metric"):
        # default_metrics skips a metric that misfits before building it or asking its applies_to
        assert misfit("flat-only", _context((2,))) is None
        assert "takes flat data" in misfit("flat-only", _context((1, 8, 8)))
        assert "cannot be conditioned" in misfit("flat-only", _context((2,), classes=3))
        assert run_metrics(_context((2,)), {"flat-only": _FlatOnly()}) == {"flat-only": {"score": 1.0}}
        with pytest.raises(GanzooError, match=r"metric 'flat-only' does not fit .* takes flat data"):
            run_metrics(_context((1, 8, 8)), {"flat-only": _FlatOnly()})
        with pytest.raises(GanzooError, match="cannot be conditioned"):
            run_metrics(_context((2,), classes=3), {"flat-only": _FlatOnly()})


# ------------------------------------------------------------------------ plugins --check
class _NoLatentDim(nn.Module):
    def __init__(self, options, *, shape, num_classes=0) -> None:
        super().__init__()
        self.num_classes = num_classes

    def forward(self, z, c=None):
        return z


class _WideLogits(nn.Module):
    def __init__(self, options, *, shape, num_classes=0) -> None:
        super().__init__()

    def forward(self, x, c=None):
        return x.flatten(1)[:, :1]  # [N, 1], not [N]


class _NotALoss:
    def __init__(self, options=None) -> None:
        pass


class _NoCompute:
    def __init__(self, options=None) -> None:
        pass


BROKEN = SimpleNamespace(
    register_generators=ganzoo.hookimpl(
        lambda register: register("no-latent", _NoLatentDim, description="x", data_kinds=("flat",))),
    register_discriminators=ganzoo.hookimpl(
        lambda register: register("wide", _WideLogits, description="x", data_kinds=("flat",))),
    register_losses=ganzoo.hookimpl(lambda register: register("not-a-loss", _NotALoss, description="x")),
    register_metrics=ganzoo.hookimpl(lambda register: register("no-compute", _NoCompute, description="x")),
)


def test_plugins_check_holds_each_component_to_its_protocol(capsys):
    with registered_plugin(BROKEN, name="broken"):
        assert main(["plugins", "--check"]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("ganzoo: error: ")]
    assert len(errors) == 4, captured.err
    expected = {
        "generator 'no-latent' of plugin 'broken': the generator it builds lacks latent_dim",
        "discriminator 'wide' of plugin 'broken': D(x, None) gave logits [4, 1], not of shape [4]",
        "loss 'not-a-loss' of plugin 'broken': it builds a _NotALoss, not a ganzoo.GANLoss",
        "metric 'no-compute' of plugin 'broken': it builds a _NoCompute without compute(context)",
    }
    for fragment in expected:
        assert any(fragment in line for line in errors), (fragment, errors)
    assert "Traceback" not in captured.err


def test_plugins_check_passes_on_the_built_ins(capsys):
    assert main(["plugins", "--check"]) == 0, capsys.readouterr().err


# ---------------------------------------------------------------------------- the facade
def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def test_built_in_plugins_import_ganzoo_only_through_the_facade_and_not_each_other():
    wrong = []
    for package in sorted((ROOT / "plugins").iterdir()):
        if not (package / "__init__.py").is_file():
            continue
        for path in package.rglob("*.py"):
            for module in _imports(path):
                top = module.split(".")[0]
                if (top == "ganzoo" and module != "ganzoo.plugin") or (
                        top.startswith("ganzoo_") and top != package.name):
                    wrong.append(f"{path.relative_to(ROOT)}: {module}")
    assert not wrong, wrong


def test_contracts_and_facade_do_not_import_torch():
    code = ("import sys, ganzoo.contracts, ganzoo.plugin, ganzoo.registration\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "from ganzoo.plugin import hookimpl, GANLoss, Needs, RegisterLosses, option\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_optional_members_read_with_their_documented_defaults():
    bare = SimpleNamespace()
    assert contracts.pack(bare) == 1 and contracts.num_classes(bare) == 0
    assert contracts.code_names(bare) == [] and contracts.latent_codes(bare) is None
    assert contracts.applies_to(bare, None) is False and contracts.better(bare) == {}
    tensors = torch.utils.data.TensorDataset(torch.zeros(3, 2))  # a ``tensors`` tuple, not the method
    assert contracts.data_form(tensors) == "items"
    assert contracts.data_form(SimpleNamespace(sample=lambda n, g: None)) == "sample"
    with pytest.raises(ValueError, match="unknown observer event 'on_sample'"):
        contracts.notify(bare, "on_sample")
