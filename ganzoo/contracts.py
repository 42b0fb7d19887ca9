"""The plugin contracts: everything the core may read from a plugin's objects, in one module.

Read this module to write any plugin. Each kind of component has a factory, registered through a hook of
:mod:`ganzoo.hookspecs` (see :mod:`ganzoo.registration` for what each kind's ``register`` accepts), and the
factory's result keeps one of the contracts below. What is *required* the core uses unconditionally; what
is *optional* the core reads only through the helper functions at the end of this module, which give the
documented default when the member is absent, so that no other module probes a plugin object.

========================  ===============================================  =====================================
kind                      required                                         optional
========================  ===============================================  =====================================
generator                 :class:`Generator`: ``latent_dim``,              :class:`LatentPrior` (``latent_codes``),
                          ``num_classes``, ``forward(z, c=None)``          :class:`Traversable` (``code_names``,
                                                                           ``vary``)
discriminator             :class:`Discriminator`: ``forward(x, c=None)``   ``pack`` (PacGAN; default 1)
loss                      a :class:`GANLoss` subclass: ``d_loss``,          ``family``, ``d_objective``,
                          ``g_loss``                                       ``g_objective``
regularizer               a :class:`Regularizer` subclass                  ``penalty``, ``after_d_step``
augment                   :class:`Augment`: ``augment(x, generator)``
dataset                   ``info`` (a :class:`DataInfo`) and one of        -
                          :class:`SampledData`, :class:`InMemoryData`,
                          :class:`ItemData`
metric                    :class:`Metric`: ``compute(context)``            ``applies_to``, ``better``, ``name``
observer (trainer hook)   -                                                any of :class:`Observer`'s methods
========================  ===============================================  =====================================

Options classes (``@options_class``) may carry ``__retired__``, a mapping of option names a recipe may no
longer use to a one-line hint of what to write instead (:mod:`ganzoo.options` reads it).

This module never imports torch (listing and validating recipes stay fast); tensors are typed by name only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:  # pragma: no cover
    import torch

DataForm = Literal["sample", "tensors", "items"]


# ------------------------------------------------------------------------------------------------ data
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


@runtime_checkable
class SampledData(Protocol):
    """An endless source (a Gaussian mixture): ``sample(n, generator) -> (x [n, *shape], y [n] | None)``,
    drawing its randomness from ``generator`` only."""

    info: DataInfo

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]: ...


@runtime_checkable
class InMemoryData(Protocol):
    """A whole set held in memory: ``tensors() -> (x [N, *shape], y [N] | None)``."""

    info: DataInfo

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor | None]: ...


@runtime_checkable
class ItemData(Protocol):
    """The ``torch.utils.data.Dataset`` protocol: item ``i`` is ``x`` or ``(x, c)``."""

    info: DataInfo

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


# ---------------------------------------------------------------------------------------------- models
@runtime_checkable
class Generator(Protocol):
    """An ``nn.Module``: ``forward(z [N, latent_dim], c [N] | None) -> samples [N, *shape]`` in [-1, 1].

    ``num_classes`` is 0 for an unconditional generator, which is then called with ``c=None``.
    """

    latent_dim: int
    num_classes: int

    def __call__(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor: ...


@runtime_checkable
class LatentPrior(Protocol):
    """Optional, for a generator that owns its prior (codes beside the noise, InfoGAN): the codes a ``z``
    holds, which losses read as ``batch.codes``. Register it with ``provides=("codes",)``."""

    def latent_codes(self, z: torch.Tensor) -> dict[str, torch.Tensor]: ...


@runtime_checkable
class Traversable(Protocol):
    """Optional, for ``ganzoo sample --vary CODE``: the codes that can be stepped through, and ``z`` with a
    code set to each of its traversal values (``[len(z) * values, latent_dim]``, row after row)."""

    def code_names(self) -> list[str]: ...

    def vary(self, z: torch.Tensor, code: str) -> torch.Tensor: ...


@runtime_checkable
class Discriminator(Protocol):
    """An ``nn.Module``: ``forward(x, c=None)`` giving logits ``[N]`` (no sigmoid inside), or a mapping with
    ``"logits"`` and the named extras it registers as ``provides`` (``"class_logits"``, ``"codes"``).

    Optional ``pack: int`` (default 1): PacGAN, one score per ``pack`` consecutive samples, so no score
    belongs to one sample alone (guided sampling refuses it).
    """

    def __call__(self, x: torch.Tensor, c: torch.Tensor | None = None) -> Any: ...


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

    def rows(self, index: torch.Tensor | slice) -> DOutput:
        """The outputs of the samples ``index`` picks (indices, a mask or a slice), extras alike."""
        return DOutput(self.logits[index], {k: v[index] for k, v in self.extras.items()})

    def split(self, n: int) -> tuple[DOutput, DOutput]:
        """The first ``n`` samples' outputs and the rest's (D saw reals and fakes in one batch)."""
        return self.rows(slice(None, n)), self.rows(slice(n, None))


# ------------------------------------------------------------------------------ what losses read
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
    #: the share of the run done before this step, in [0, 1): a loss with a schedule reads it (a pure function
    #: of the step, so a resumed run schedules exactly as an uninterrupted one)
    progress: float = 0.0


@attrs.frozen
class GBatch:
    """One generator step's batch: the fakes (with gradients to G), their labels and codes, D's outputs on them,
    and D's outputs on a fresh real batch when the loss needs them (``Needs.real_logits``) or D has BatchNorm.
    ``progress`` as in :class:`DBatch`."""

    fake: Any
    labels: Any
    fake_out: DOutput
    real_out: DOutput | None = None
    codes: Mapping[str, Any] | None = None
    progress: float = 0.0
    #: the noise the fakes were drawn from (None where the caller has none), for G-side penalties that
    #: compare how far apart two fakes are with how far apart their z were
    z: Any = None


def _names(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class Needs:
    """What a loss or regulariser reads beyond D's logits, declared once, at registration (``needs=``).

    ``discriminator``: D's named extra outputs (``"class_logits"``); ``generator``: G's latent parts
    (``"codes"``); validation fails when the recipe's models do not give them. ``real_logits`` (losses only):
    G's step also scores a fresh real batch, given as ``batch.real_out`` (relativistic losses).
    """

    discriminator: tuple[str, ...] = attrs.field(default=(), converter=_names)
    generator: tuple[str, ...] = attrs.field(default=(), converter=_names)
    real_logits: bool = False

    @classmethod
    def of(cls, value: Needs | Mapping[str, Any] | None) -> Needs:
        """A :class:`Needs`, or the mapping form ``{"discriminator": (...), "generator": (...)}``."""
        if value is None:
            return cls()
        if isinstance(value, Needs):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"needs= must be a ganzoo.Needs or a mapping, not {type(value).__name__}")
        unknown = sorted(set(value) - {"discriminator", "generator", "real_logits"})
        if unknown:
            raise ValueError(f"needs= has an unknown key {unknown[0]!r}; allowed: discriminator, generator, "
                             "real_logits")
        return cls(**value)

    def get(self, role: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The named outputs needed from ``role`` (``"discriminator"`` or ``"generator"``)."""
        return {"discriminator": self.discriminator, "generator": self.generator}.get(role, default)

    def __bool__(self) -> bool:
        return bool(self.discriminator or self.generator or self.real_logits)


NO_NEEDS = Needs()


class GANLoss:
    """A GAN objective as pure tensor functions, kept apart from the training schedule.

    Required: ``d_loss`` and ``g_loss`` take logits (or raw critic scores) and return scalars to *minimise*;
    they never step an optimiser. ``family`` says how the trainer reports D's outputs: ``"logistic"`` losses
    read them as probabilities sigmoid(logit), ``"critic"`` losses as raw scores.

    The trainer calls ``d_objective(batch)`` and ``g_objective(batch)``; by default they hand the logits to
    ``d_loss`` / ``g_loss``. A loss that reads more (ACGAN's class logits, InfoGAN's codes, a relativistic
    loss's ``batch.real_out``) overrides them and declares what it reads once, at registration, with
    ``needs=ganzoo.Needs(...)``; the core records that declaration on the loss it builds (``needs``).

    Deprecated, still honoured: ``kind = "critic"`` on a subclass (write ``family``), and
    ``needs_real_logits = True`` with ``g_loss(fake_logits, real_logits=...)`` (register
    ``needs=Needs(real_logits=True)`` and override ``g_objective``).
    """

    family: ClassVar[Literal["logistic", "critic"]] = "logistic"
    #: what this loss reads beyond the logits: set by the core from the registration's ``needs=``
    needs: Needs = NO_NEEDS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__ and "family" not in cls.__dict__:
            warnings.warn(f"{cls.__qualname__}: GANLoss.kind is deprecated; write family = {cls.kind!r}",
                          DeprecationWarning, stacklevel=2)
            cls.family = cls.__dict__["kind"]
        if cls.__dict__.get("needs_real_logits") is True:
            warnings.warn(f"{cls.__qualname__}: needs_real_logits is deprecated; register the loss with "
                          "needs=ganzoo.Needs(real_logits=True) and override g_objective(batch)",
                          DeprecationWarning, stacklevel=2)

    @property
    def kind(self) -> str:
        """Deprecated name of :attr:`family`."""
        return self.family

    @property
    def needs_real_logits(self) -> bool:
        """Whether G's step gives this loss D's output on a fresh real batch (``batch.real_out``)."""
        return self.needs.real_logits

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def d_objective(self, batch: DBatch) -> torch.Tensor:
        return self.d_loss(batch.real_out.logits, batch.fake_out.logits)

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        if type(self).__dict__.get("needs_real_logits") is True or _legacy_relativistic(type(self)):
            assert batch.real_out is not None
            legacy: Any = self.g_loss  # the deprecated signature g_loss(fake_logits, real_logits=...)
            return legacy(batch.fake_out.logits, real_logits=batch.real_out.logits)
        return self.g_loss(batch.fake_out.logits)


def _legacy_relativistic(cls: type) -> bool:
    return any(base.__dict__.get("needs_real_logits") is True for base in cls.__mro__)


class Regularizer:
    """A term added to D's loss or to G's, or a constraint applied after D's optimiser step, apart from the
    objective.

    ``penalty(batch)`` returns an unweighted scalar (or None); the trainer multiplies it by the recipe's
    ``weight`` and, when applied lazily every N critic steps, by N (StyleGAN2's lazy regularisation).
    ``g_penalty(batch)`` is the same for G's loss, on G's steps (every N of them when lazy): a term on what G
    draws, such as mode seeking, that is no part of the adversarial objective. ``after_d_step(discriminator)``
    runs after each critic step it is due (weight clipping). Override any of them.
    """

    def penalty(self, batch: DBatch) -> torch.Tensor | None:
        return None

    def g_penalty(self, batch: GBatch) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: Any) -> None:
        """Nothing by default."""


@runtime_checkable
class Augment(Protocol):
    """A differentiable transform of D's inputs, applied alike to reals and fakes in both steps, drawing its
    randomness from ``generator`` only (the run keeps that stream in its checkpoints)."""

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...


@runtime_checkable
class AdaptiveAugment(Protocol):
    """Optional, for an augmentation that adapts while training (ADA's probability p): ``observe(real_logits)``
    is called after each critic step with D's logits on the augmented reals (detached); ``figures()`` gives the
    values to log (``augment_NAME`` in metrics.jsonl and the progress line); ``state_dict()`` /
    ``load_state_dict(state)`` carry its state through checkpoints (an empty state is not stored), so a
    resumed run adapts exactly as an unbroken one."""

    def observe(self, real_logits: torch.Tensor) -> None: ...

    def figures(self) -> Mapping[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


# ------------------------------------------------------------------------------------- metrics
@runtime_checkable
class Metric(Protocol):
    """Required: ``compute(context) -> {figure: float}``, the figures named without the metric's name;
    ``context`` is a :class:`ganzoo.evaluation.EvalContext`. Raise :class:`ganzoo.GanzooError` with one line
    when the metric does not fit the generator or its data.

    Optional: ``applies_to(context) -> bool`` (default False: the metric runs only when named), cheap, True
    when it should run by default; ``better`` (default ``{}``), ``{"figure": "lower" | "higher"}``, the
    figures a recipe's ``eval.keep_best`` may name; ``name`` (default: the registered name), for messages;
    ``protocol`` (default ``{}``), filled by ``compute``, what the figures depend on (sample counts, resize, the
    library's version), which ``ganzoo eval`` prints beside them and writes to ``--json``.
    Registration's ``data_kinds`` and ``conditional`` are enforced before ``compute`` is called.
    """

    def compute(self, context: Any) -> Mapping[str, float]: ...


# ----------------------------------------------------------------------------------- observers
class Observer(Protocol):
    """Sees what a run writes (main process only); any method may be left out."""

    def on_row(self, row: dict[str, Any]) -> None:
        """A row of figures, as appended to metrics.jsonl (``step`` included)."""

    def on_samples(self, step: int, path: Path, samples: torch.Tensor) -> None:
        """A sample grid written to ``path`` from ``samples`` (G's output on the fixed noise)."""

    def on_start(self, step: int) -> None:
        """A ``fit()`` begins at ``step`` (above 0: a resumed run; an experiment tracker reopens its run)."""

    def on_end(self) -> None:
        """A ``fit()`` ended (finished, interrupted or failed): flush and close."""


OBSERVER_EVENTS = ("on_row", "on_samples", "on_start", "on_end")


# ------------------------------------------- the optional members, read with their documented defaults
def _member(obj: Any, name: str) -> Callable[..., Any] | None:
    found = getattr(obj, name, None)
    return found if callable(found) else None


def adaptive(augment: Any) -> AdaptiveAugment | None:
    """The run's augmentation when it is an :class:`AdaptiveAugment` (all four members), else None."""
    return augment if augment is not None and isinstance(augment, AdaptiveAugment) else None


def latent_codes(generator: Any) -> Callable[[torch.Tensor], dict[str, torch.Tensor]] | None:
    """The generator's :class:`LatentPrior` ``latent_codes``, or None when it draws plain noise."""
    return _member(generator, "latent_codes")


def code_names(generator: Any) -> list[str]:
    """The codes a :class:`Traversable` generator can vary; ``[]`` for any other."""
    names = _member(generator, "code_names")
    return list(names()) if names is not None and _member(generator, "vary") is not None else []


def num_classes(generator: Any) -> int:
    """A :class:`Generator`'s ``num_classes``; 0 (unconditional) for a bare module that does not say."""
    return int(getattr(generator, "num_classes", 0))


def pack(discriminator: Any) -> int:
    """How many consecutive samples share one score of the discriminator (PacGAN); 1 by default."""
    return int(getattr(discriminator, "pack", 1))


def applies_to(metric: Any, context: Any) -> bool:
    """The metric's own ``applies_to(context)``; False (run only when named) when it has none."""
    check = _member(metric, "applies_to")
    return bool(check(context)) if check is not None else False


def better(metric: Any) -> dict[str, str]:
    """The metric's ``better`` (which way each figure improves); ``{}`` when it declares none."""
    return dict(getattr(metric, "better", None) or {})


def protocol(metric: Any) -> dict[str, Any]:
    """The metric's ``protocol`` after ``compute`` (what its figures depend on); ``{}`` when it keeps none."""
    return dict(getattr(metric, "protocol", None) or {})


def card(model: Any) -> Any:
    """The card (a :class:`ganzoo.weights.ModelCard`) that ``ganzoo.build_generator`` /
    ``build_discriminator`` attach to what they build, so that weights written from a Trainer composed in
    Python load again; None for a module built any other way. Not something a plugin sets."""
    return getattr(model, "card", None)


def data_form(data: Any) -> DataForm | None:
    """Which of the three forms a dataset offers its data in (the first that fits, in this order), or None.

    ``sample`` and ``tensors`` must be methods: torch's ``TensorDataset`` has a ``tensors`` tuple, and is
    offered as items.
    """
    if _member(data, "sample") is not None:
        return "sample"
    if _member(data, "tensors") is not None:
        return "tensors"
    if _member(data, "__getitem__") is not None and _member(data, "__len__") is not None:
        return "items"
    return None


def data_info(data: Any) -> DataInfo | None:
    """A dataset's ``info``; None for raw data handed to the Python API (a tensor, a DataLoader)."""
    info = getattr(data, "info", None)
    return info if isinstance(info, DataInfo) else None


def notify(observer: Any, event: str, *args: Any) -> None:
    """Call one of :class:`Observer`'s methods when the observer has it (each is optional)."""
    if event not in OBSERVER_EVENTS:
        raise ValueError(f"unknown observer event {event!r}; allowed: {', '.join(OBSERVER_EVENTS)}")
    method = _member(observer, event)
    if method is not None:
        method(*args)
