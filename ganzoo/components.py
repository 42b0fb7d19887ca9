"""What a plugin registers, and the contracts the registered pieces keep.

A :class:`Component` is a name bound to a factory plus what the core needs to know *without building
it*: its one-line description, its options class (validated before any work starts), whether it can be
conditioned on a class label, which data it accepts. The factory may be given as ``"module:attr"`` so that
listing and validating never import torch.

Factory signatures, by kind (``options`` is an instance of the component's options class):

- generator:     ``factory(options, *, shape, num_classes) -> nn.Module`` with ``forward(z, c=None)``
  returning samples in [-1, 1] of ``shape``, and attributes ``latent_dim`` and ``num_classes``
  (0 = unconditional).
- discriminator: ``factory(options, *, shape, num_classes) -> nn.Module`` with ``forward(x, c=None)``
  returning logits of shape ``[N]``; no sigmoid inside.
- loss:          ``factory(options) -> GANLoss`` (pure tensor functions, see :class:`GANLoss`).
- dataset:       ``factory(options, *, split) -> dataset`` where ``split`` is ``"train"`` or ``"test"``.
  The dataset has ``info`` (a :class:`DataInfo`) and offers its data in one of three ways:
  ``tensors() -> (x, y | None)`` (whole set in memory), ``sample(n, generator) -> (x, y | None)``
  (an endless source such as a Gaussian mixture), or the ``torch.utils.data.Dataset`` protocol yielding
  ``x`` or ``(x, c)``. Values are in [-1, 1].
- regularizer:   ``factory(options) -> Regularizer``: a term added to D's loss (penalty) or a constraint applied
  after D's optimiser step (see :class:`Regularizer`); a recipe's ``[[regularizer]]`` list gives each a
  ``weight`` and ``every`` (lazy: applied every N critic steps, scaled by N).
- augment:       ``factory(options, *, shape) -> callable`` with ``augment(x, generator) -> x``: a
  differentiable transform of D's inputs, applied alike to reals and fakes in both steps; ``generator`` is
  the run's own ``torch.Generator`` for it (its state is in the checkpoint).
- metric:        ``factory(options) -> metric`` with ``compute(context) -> dict[str, float]`` and, optionally,
  ``applies_to(context) -> bool`` (run by default for this generator); ``context`` is a
  :class:`ganzoo.evaluation.EvalContext`. See ``register_metrics`` in :mod:`ganzoo.hookspecs`.

Auxiliary outputs: a discriminator may return a mapping with ``"logits"`` (shape ``[N]``) and named extras
(``"class_logits"``, ``"codes"``) instead of a tensor; it registers ``provides=("class_logits",)`` (or a
function of its options and number of classes giving that tuple). A generator that owns its latent prior (codes beside the noise)
registers ``provides=("codes",)`` and offers ``latent_codes(z) -> dict``. A loss or regulariser registers
``needs={"discriminator": (...), "generator": (...)}``; a recipe whose components do not provide what is needed
fails at validation, naming both.

Datasets also give ``info(options) -> DataInfo`` at registration, which must be cheap (no loading, no torch),
so that a recipe pairing a conditional model with unlabelled data fails at validation; and optionally
``check_data(options)``, as cheap, raising ``ValueError`` when the files are not there (``ganzoo validate``
then says so before any work starts).

Any component may pass ``check_recipe(options, context)``, raising ``ValueError`` with one line when its
options do not fit the rest of the recipe (``context`` is a :class:`RecipeContext`: the data, the train
section, conditioning): a PacGAN ``pack`` that must divide ``train.batch_size`` is such a rule.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ganzoo.errors import ComponentError, GanzooError
from ganzoo.options import options_class, parse_options

if TYPE_CHECKING:  # pragma: no cover
    import torch

Kind = Literal["generator", "discriminator", "loss", "dataset", "metric", "regularizer", "augment"]
KINDS: tuple[Kind, ...] = ("generator", "discriminator", "loss", "dataset", "metric", "regularizer", "augment")
DATA_KINDS = ("flat", "image")
NO_NEEDS: Mapping[str, tuple[str, ...]] = MappingProxyType({})  # a component that reads no auxiliary output


@options_class
class NoOptions:
    """The options class of a component that takes none."""


@attrs.frozen
class DataInfo:
    """What a dataset knows about itself, so a recipe never repeats it.

    ``shape`` is one sample's shape, ``(D,)`` for points or ``(C, H, W)`` for images; ``num_classes`` is 0
    for unlabelled data.
    """

    shape: tuple[int, ...] = attrs.field(converter=tuple)
    num_classes: int = 0
    #: how to undo the dataset's own transform: data units = model units * data_scale + data_offset
    #: (a ring scaled by 0.8 into tanh's range has data_scale 1.25; images in [-1, 1] shown in [0, 1] have
    #: 0.5 and 0.5). Recorded in each weights file, so samples can be given back in the data's own units.
    #: Left out of equality: two datasets of one shape and class count pair with the same models.
    data_scale: float = attrs.field(default=1.0, eq=False)
    data_offset: float = attrs.field(default=0.0, eq=False)

    @property
    def kind(self) -> str:
        return "flat" if len(self.shape) == 1 else "image"

    @property
    def units(self) -> dict[str, float]:
        """The transform to the data's units, as stored in a weights file's metadata."""
        return {"scale": float(self.data_scale), "offset": float(self.data_offset)}


@attrs.frozen
class RecipeContext:
    """What ``check_recipe`` holds a component's options against: the rest of the recipe, validated."""

    data: DataInfo
    train: Any  # ganzoo.recipe.schema.TrainOptions: batch_size, steps, d_steps...
    conditional: bool
    #: the recipe's other choices by section ("data", "generator", "discriminator", "loss", "augment"), each
    #: with ``name`` and validated ``options``: a loss that pairs reals with fakes asks whether D packs them
    components: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Component:
    """A registered name: the factory and everything the core checks before building it."""

    kind: Kind
    name: str
    factory: Callable[..., Any] | str
    description: str
    plugin: str
    options: type = NoOptions
    conditional: bool = False
    data_kinds: tuple[str, ...] = DATA_KINDS
    check: Callable[[Any, DataInfo], None] | None = None
    info: Callable[[Any], DataInfo] | None = None
    override: bool = False
    check_recipe: Callable[[Any, RecipeContext], None] | None = None
    check_data: Callable[[Any], None] | None = None
    provides: tuple[str, ...] | Callable[[Any, int], tuple[str, ...]] = ()
    needs: Mapping[str, tuple[str, ...]] = NO_NEEDS

    def provided(self, options: Any, num_classes: int = 0) -> tuple[str, ...]:
        """The auxiliary outputs (a discriminator) or latent parts (a generator) this component gives, for
        these options and this many classes (0: unconditional)."""
        return tuple(self.provides(options, num_classes) if callable(self.provides) else self.provides)

    def missing(self, role: str, other: Component, options: Any, num_classes: int = 0) -> str | None:
        """Why ``other`` (the recipe's ``role``) lacks what this loss or regulariser needs, or None."""
        given = other.provided(options, num_classes)
        absent = [name for name in self.needs.get(role, ()) if name not in given]
        if not absent:
            return None
        what = "output" if role == "discriminator" else "latent part"
        return (f"{self.kind} {self.name!r} needs the {role}'s {absent[0]!r} {what}, which {role} {other.name!r} "
                f"does not give here (it gives: {', '.join(given) or 'none'})")

    @property
    def label(self) -> str:
        """``generator 'mlp' of plugin 'mlp'``: who to blame in a message."""
        return f"{self.kind} {self.name!r} of plugin {self.plugin!r}"

    def load_factory(self) -> Callable[..., Any]:
        """The factory itself, importing ``"module:attr"`` on first use; a :class:`ComponentError` naming the
        component, its plugin and what is missing when the string points nowhere."""
        if callable(self.factory):
            return self.factory
        module, sep, attr = self.factory.partition(":")
        if not sep or not module or not attr:
            raise ComponentError(f"{self.label}: factory {self.factory!r} is not 'module:attribute'")
        try:
            obj: Any = importlib.import_module(module)
        except Exception as err:  # ImportError, or whatever the module raised while importing
            raise ComponentError(
                f"{self.label}: factory {self.factory!r}: module {module!r} cannot be imported "
                f"({type(err).__name__}: {err})"
            ) from None
        for depth, part in enumerate(attr.split(".")):
            if not hasattr(obj, part):
                owner = ".".join([module, *attr.split(".")[:depth]])
                raise ComponentError(f"{self.label}: factory {self.factory!r}: {owner!r} has no attribute {part!r}")
            obj = getattr(obj, part)
        if not callable(obj):
            raise ComponentError(f"{self.label}: factory {self.factory!r} is a {type(obj).__name__}, not callable")
        return obj

    def call_plugin(self, what: str, function: Callable[..., Any], *args: Any) -> Any:
        """Call one of the plugin's own functions (``info``, a check): ``ValueError`` and ganzoo's errors pass
        through; anything else is the plugin's bug, reported in one line naming it."""
        try:
            return function(*args)
        except (ValueError, GanzooError):
            raise
        except Exception as err:
            raise ComponentError(f"{self.label}: its {what} raised {type(err).__name__}: {err}") from None

    def parse(self, table: Mapping[str, Any] | None, *, source: str = "", path: str = "") -> Any:
        """Validate a table of options (a recipe section less its ``name``) into the options class."""
        return parse_options(self.options, table, source=source, path=path or self.kind)

    def data_info(self, options: Any) -> DataInfo:
        """Shape and classes of a dataset component for these options, without loading anything."""
        if self.info is None:
            raise ComponentError(f"{self.label}: registered without info=, so its data's shape is unknown")
        info = self.call_plugin("info", self.info, options)
        if not isinstance(info, DataInfo):
            raise ComponentError(f"{self.label}: its info returned {type(info).__name__}, not a ganzoo.DataInfo")
        return info

    def validate_for(self, options: Any, data: DataInfo, conditional: bool) -> str | None:
        """Why this model cannot take this data (or conditioning), or None when it can."""
        if data.kind not in self.data_kinds:
            return (
                f"{self.name!r} takes {' or '.join(self.data_kinds)} data, "
                f"but the dataset gives {data.kind} samples of shape {list(data.shape)}"
            )
        if conditional and not self.conditional:
            return f"{self.name!r} cannot be conditioned on a class label"
        if self.check is not None:
            try:
                self.call_plugin("check", self.check, options, data)
            except ValueError as err:
                return str(err)
        return None

    def problem_with_recipe(self, options: Any, context: RecipeContext) -> str | None:
        """Why these options do not fit the rest of the recipe (``check_recipe``), or None."""
        if self.check_recipe is None:
            return None
        try:
            self.call_plugin("check_recipe", self.check_recipe, options, context)
        except ValueError as err:
            return str(err)
        return None

    def problem_with_data(self, options: Any) -> str | None:
        """Why the data these options name is not there (``check_data``), or None."""
        if self.check_data is None:
            return None
        try:
            self.call_plugin("check_data", self.check_data, options)
        except (ValueError, GanzooError) as err:
            return str(err)
        return None


class DOutput:
    """What D returned for a batch: the adversarial ``logits`` ``[N]`` and named extras (``class_logits``,
    ``codes``), each with the batch as its first dimension. A D that returns a tensor has no extras."""

    __slots__ = ("logits", "extras")

    def __init__(self, logits: torch.Tensor, extras: Mapping[str, Any] | None = None) -> None:
        self.logits, self.extras = logits, dict(extras or {})

    @classmethod
    def of(cls, result: Any) -> DOutput:
        """A discriminator's return value (a tensor, or a mapping with ``"logits"``) as a DOutput, in float32."""
        if isinstance(result, DOutput):
            return result
        if isinstance(result, Mapping):
            extras = {k: v.float() for k, v in result.items() if k != "logits"}
            return cls(result["logits"].float(), extras)
        return cls(result.float())

    def __getitem__(self, name: str) -> Any:
        return self.extras[name]

    def split(self, n: int) -> tuple[DOutput, DOutput]:
        """The first ``n`` samples' outputs and the rest's (D saw reals and fakes in one batch)."""
        head = DOutput(self.logits[:n], {k: v[:n] for k, v in self.extras.items()})
        tail = DOutput(self.logits[n:], {k: v[n:] for k, v in self.extras.items()})
        return head, tail


@attrs.frozen
class DBatch:
    """One critic step's batch, as losses and regularisers see it.

    ``real`` and ``fake`` are D's inputs before augmentation (fakes detached), ``labels`` the classes both were
    drawn for (None when unconditional), ``real_out`` / ``fake_out`` D's outputs on them, ``codes`` the latent
    codes the fakes were drawn with (a generator that owns its prior; else None). ``critic(x, c)`` runs D (with
    the run's augmentation) outside DDP and autocast wrappers, for penalties that differentiate D's output with
    respect to its input.
    """

    real: Any
    fake: Any
    labels: Any
    real_out: DOutput
    fake_out: DOutput
    critic: Callable[..., DOutput]
    codes: Mapping[str, Any] | None = None


@attrs.frozen
class GBatch:
    """One generator step's batch: the fakes (with gradients to G), their labels and codes, D's outputs on them,
    and D's outputs on a fresh real batch when the loss needs them (``needs_real_logits``) or D has BatchNorm."""

    fake: Any
    labels: Any
    fake_out: DOutput
    real_out: DOutput | None = None
    codes: Mapping[str, Any] | None = None


class Regularizer:
    """A term added to D's loss, or a constraint applied after D's optimiser step, apart from the objective.

    ``penalty(batch)`` returns an unweighted scalar (or None); the trainer multiplies it by the recipe's
    ``weight`` and, when applied lazily every N critic steps, by N (StyleGAN2's lazy regularisation).
    ``after_d_step(discriminator)`` runs after each critic step it is due (weight clipping).
    """

    def penalty(self, batch: DBatch) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: Any) -> None:
        """Nothing by default."""


@attrs.frozen
class Regularization:
    """A regulariser as a recipe applies it: ``weight`` times its penalty, every ``every`` critic steps."""

    regularizer: Regularizer
    weight: float = 1.0
    every: int = 1
    name: str = ""

    def term(self, batch: DBatch) -> torch.Tensor | None:
        """The penalty as added to D's loss when due: times the weight, and times ``every`` when lazy."""
        penalty = self.regularizer.penalty(batch)
        return None if penalty is None else penalty * (self.weight * self.every)


class GANLoss:
    """A GAN objective as pure tensor functions, kept apart from the training schedule.

    ``d_loss`` and ``g_loss`` take logits (or raw critic scores) and return scalars to *minimise*; they never
    step an optimiser. ``kind`` says how the trainer reports D's outputs: ``"logistic"`` losses read them as
    probabilities sigmoid(logit), ``"critic"`` losses as raw scores.

    The trainer calls ``d_objective(batch)`` and ``g_objective(batch)``; by default they hand the logits to
    ``d_loss`` / ``g_loss``. A loss that also reads auxiliary outputs (ACGAN's class logits, InfoGAN's codes)
    overrides them, and registers ``needs=`` so that validation can check the models give those outputs.
    """

    kind: Literal["logistic", "critic"] = "logistic"
    #: a relativistic loss compares fakes with reals in G's step too: the trainer then calls
    #: ``g_loss(fake_logits, real_logits=...)`` with D's logits on a fresh real batch
    needs_real_logits: bool = False

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def d_objective(self, batch: DBatch) -> torch.Tensor:
        return self.d_loss(batch.real_out.logits, batch.fake_out.logits)

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        if self.needs_real_logits:
            assert batch.real_out is not None
            return self.g_loss(batch.fake_out.logits, real_logits=batch.real_out.logits)  # type: ignore[call-arg]
        return self.g_loss(batch.fake_out.logits)
