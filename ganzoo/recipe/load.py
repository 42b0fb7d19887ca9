"""Reading recipe files: TOML -> overrides -> validated :class:`Recipe`, or one clear line of error."""

from __future__ import annotations

import copy
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ganzoo.components import RecipeContext
from ganzoo.errors import GanzooError, RecipeError, UnknownComponentError
from ganzoo.options import did_you_mean, parse_options
from ganzoo.recipe.schema import ComponentChoice, EvalOptions, Header, OptimSection, Recipe, RegularizerChoice
from ganzoo.recipe.schema import RegularizerSchedule, TrainOptions

COMPONENT_SECTIONS = ("data", "generator", "discriminator", "loss")
SECTIONS = {"train": TrainOptions, "optim": OptimSection, "eval": EvalOptions}
TOP_LEVEL = ("name", "description", "seed", "conditional", "clusters")
EXTRA_SECTIONS = ("regularizer", "augment")  # a list of [[regularizer]] tables; an optional [augment] table
KIND_OF_SECTION = {"data": "dataset", "generator": "generator", "discriminator": "discriminator", "loss": "loss",
                   "augment": "augment"}
#: a run's name becomes one folder under runs/: one path component, no '..', nothing hidden or absolute
RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,99}")
RUN_NAME_RULE = "one path component of 1 to 100 letters, digits, '.', '_', '+' or '-', not starting with '.', '-' or '+'"
MAX_RECIPE_BYTES = 1 << 20  # a recipe is a page of TOML; a bigger file is something else


def run_name_from_stem(stem: str) -> str:
    """A file's name made into a valid run name (``my recipe (2)`` -> ``my-recipe-2``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "-", stem).strip("-.+")[:100]
    return cleaned or "run"


def check_keep_best(options: Any, found: Any, source: str) -> None:
    """``eval.keep_best``: "metric/figure" of a registered (and, if listed, evaluated) metric, with ``every``."""
    key = options.keep_best
    if not key:
        return
    metric, sep, figure = key.partition("/")
    if not sep or not metric or not figure:
        raise RecipeError(source, "eval.keep_best", f"{key!r}: expected \"metric/figure\", e.g. \"classifier-fd/fd\"")
    if not options.every:
        raise RecipeError(source, "eval.keep_best", "needs eval.every > 0 (evaluations to choose from)")
    if metric not in found["metric"]:
        raise RecipeError(source, "eval.keep_best", found["metric"].unknown_message(metric))
    if options.metrics and metric not in options.metrics:
        raise RecipeError(source, "eval.keep_best", f"metric {metric!r} is not in eval.metrics {list(options.metrics)}")


def shipped_recipes_dir() -> Path:
    """Where the shipped recipes are: inside the wheel, or the repository's ``recipes/`` when editable."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_recipes", package.parent / "recipes"):
        if candidate.is_dir():
            return candidate
    return package / "_recipes"


def shipped_recipes() -> dict[str, Path]:
    return {path.stem: path for path in sorted(shipped_recipes_dir().glob("*.toml"))}


def resolve_recipe_path(arg: str | Path) -> Path:
    """A path to a recipe file, or the name of a shipped recipe (``cdcgan-digits``)."""
    path = Path(arg)
    if path.is_file():
        return path
    shipped = shipped_recipes()
    stem = path.name.removesuffix(".toml")
    if path.parent == Path(".") and stem in shipped:
        return shipped[stem]
    names = ", ".join(shipped) or "none"
    if path.is_dir():
        raise GanzooError(f"{arg}: is a folder, not a recipe file (shipped recipes: {names})")
    hint = did_you_mean(stem, shipped) if path.parent == Path(".") else ""
    raise GanzooError(f"{arg}: no such recipe file, nor a shipped recipe of that name{hint} (shipped: {names})")


def parse_override(text: str, source: str = "") -> tuple[str, Any]:
    """``section.key=value`` with the value read as TOML (``64``, ``true``, ``[0.5, 0.9]``), else a string.

    ``source`` names the recipe in the error, so ``ganzoo validate a.toml b.toml --set ...`` says which one.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise RecipeError(source, key, f"--set {text!r} is not KEY=VALUE (e.g. --set train.steps=100)")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str], source: str) -> dict[str, Any]:
    """A copy of ``raw`` with each ``--set`` applied; the recipe's checks then judge the result. A number
    steps into a list of tables: ``--set regularizer.0.weight=5`` reaches the first ``[[regularizer]]``."""
    raw = copy.deepcopy(raw)
    for text in overrides:
        key, value = parse_override(text, source)
        *parents, leaf = key.split(".")
        table: Any = raw
        for depth, part in enumerate(parents):
            where = ".".join(parents[: depth + 1])
            if isinstance(table, list):
                table = table[_list_index(table, part, where, key, source)]
            else:
                table = table.setdefault(part, {})
            if not isinstance(table, (dict, list)):
                raise RecipeError(source, where, f"is not a table, so --set {key} cannot apply")
        if isinstance(table, list):
            table[_list_index(table, leaf, key, key, source)] = value
        else:
            table[leaf] = value
    return raw


def _list_index(items: list[Any], part: str, where: str, key: str, source: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        allowed = f"0 to {len(items) - 1}" if items else "none: the list is empty"
        raise RecipeError(source, where, f"no such entry in a list of {len(items)}; indices: {allowed}, so --set "
                                         f"{key} cannot apply")
    return int(part)


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table in ``path``; one line for a file that is not UTF-8 TOML (binary, UTF-16, too big)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RECIPE_BYTES + 1)
    except OSError as err:
        raise GanzooError(f"{path}: cannot read the recipe: {err.strerror or err}") from None
    if len(data) > MAX_RECIPE_BYTES:
        raise RecipeError(str(path), "", f"is over {MAX_RECIPE_BYTES // 1024} KiB; a recipe is a short TOML file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bom = " (it looks like UTF-16: save it as UTF-8)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise RecipeError(
            str(path), "", f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}{bom}; "
            "a recipe is a UTF-8 TOML file"
        ) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as err:
        raise RecipeError(str(path), "", f"not valid TOML: {err}") from None


def load_recipe(arg: str | Path, overrides: Iterable[str] = ()) -> Recipe:
    """Read, override and validate a recipe file (or shipped recipe name)."""
    path = resolve_recipe_path(arg)
    overrides = list(overrides)
    source = f"{path} (with --set)" if overrides else str(path)
    raw = apply_overrides(read_toml(path), overrides, source)
    raw.setdefault("name", run_name_from_stem(path.stem))
    return recipe_from_dict(raw, source=source)


def recipe_from_dict(raw: Mapping[str, Any], *, source: str = "<recipe>") -> Recipe:
    """Validate a recipe given as a dict (the Python API's way in, and the end of :func:`load_recipe`)."""
    from ganzoo.registry import registries

    if not isinstance(raw, Mapping):
        raise RecipeError(source, "", f"got {type(raw).__name__}; expected a table of sections")
    raw = dict(raw)
    allowed = (*TOP_LEVEL, *COMPONENT_SECTIONS, *EXTRA_SECTIONS, *SECTIONS)
    for key in raw:
        if key not in allowed:
            raise RecipeError(source, str(key), f"unknown section or key{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}")
    header = parse_options(Header, {k: raw[k] for k in TOP_LEVEL if k in raw}, source=source)
    if "name" in raw and not RUN_NAME.fullmatch(header.name):
        raise RecipeError(source, "name", f"got {header.name!r}; must be {RUN_NAME_RULE}")
    found = registries()
    choices = {section: _component(found, section, raw.get(section), source) for section in COMPONENT_SECTIONS}
    sections = {name: parse_options(cls, raw.get(name), source=source, path=name) for name, cls in SECTIONS.items()}
    data_component = found.component("dataset", choices["data"].name)
    info = _data_info(data_component, choices["data"].options, source)
    if header.conditional and info.num_classes == 0:
        raise RecipeError(
            source, "conditional", f"is true, but dataset {choices['data'].name!r} has no class labels; allowed: false"
        )
    if header.conditional and header.clusters:
        raise RecipeError(source, "clusters", f"is {header.clusters} with conditional = true: condition on the "
                          "data's classes or on clusters of it, not both; allowed: 0")
    # the models see the clusters as their classes; metrics and the data keep the data's own view
    models_info = attrs.evolve(info, num_classes=header.clusters) if header.clusters else info
    models_conditional = header.conditional or header.clusters > 0
    for section in ("generator", "discriminator"):
        choice = choices[section]
        problem = found.component(section, choice.name).validate_for(choice.options, models_info, models_conditional)
        if problem:
            raise RecipeError(source, f"{section}.name", problem)
    augment = None
    if raw.get("augment") is not None:
        augment = _component(found, "augment", raw["augment"], source)
        problem = found.component("augment", augment.name).validate_for(augment.options, info, False)
        if problem:
            raise RecipeError(source, "augment.name", problem)
    chosen = {**choices, **({"augment": augment} if augment is not None else {})}
    context = RecipeContext(data=models_info, train=sections["train"], conditional=models_conditional,
                            components=chosen)
    for section, choice in chosen.items():  # rules across sections, each component judging its own options
        problem = found.component(choice.kind, choice.name).problem_with_recipe(choice.options, context)
        if problem:
            raise RecipeError(source, section, problem)
    regularizers = _regularizers(found, raw.get("regularizer"), source)
    _check_needs(found, choices, regularizers, models_info.num_classes if models_conditional else 0, source)
    for index, regularizer in enumerate(regularizers):
        problem = found.component("regularizer", regularizer.name).problem_with_recipe(regularizer.options, context)
        if problem:
            raise RecipeError(source, f"regularizer[{index}]", problem)
    _check_trackers(sections["train"], source)
    if sections["train"].group_by_class and not models_conditional:
        raise RecipeError(source, "train.group_by_class", "orders batches by class, which needs conditional = true "
                          "or clusters > 0 (this recipe's batches carry no classes); allowed: false")
    # metrics judge the samples as the data's own classes see them: a self-conditioned model is unconditional
    metrics_context = attrs.evolve(context, data=info, conditional=header.conditional)
    for index, metric in enumerate(sections["eval"].metrics):
        if metric not in found["metric"]:
            raise RecipeError(source, f"eval.metrics[{index}]", found["metric"].unknown_message(metric))
        component = found.component("metric", metric)  # a metric that cannot judge this data says so now
        problem = component.problem_with_recipe(component.parse({}, source=source), metrics_context)
        if problem:
            raise RecipeError(source, f"eval.metrics[{index}]", problem)
    check_keep_best(sections["eval"], found, source)
    return Recipe(
        header=header,
        data_info=info,
        source=source,
        regularizers=regularizers,
        augment=augment,
        **choices,  # type: ignore[arg-type]
        **sections,  # type: ignore[arg-type]
    )


def _regularizers(found: Any, entries: Any, source: str) -> tuple[RegularizerChoice, ...]:
    """The ``[[regularizer]]`` list: each a table with a registered ``name``, ``weight``, ``every`` and options."""
    if entries is None:
        return ()
    if isinstance(entries, Mapping):
        entries = [entries]  # a single [regularizer] table
    if not isinstance(entries, list):
        raise RecipeError(source, "regularizer", f"got {entries!r}; expected [[regularizer]] tables with a name")
    chosen = []
    schedule_keys = [f.name for f in attrs.fields(RegularizerSchedule)]
    for index, table in enumerate(entries):
        path = f"regularizer[{index}]"
        if not isinstance(table, Mapping):
            raise RecipeError(source, path, f"got {table!r}; expected a table such as name = \"r1\"")
        rest = dict(table)
        name = rest.pop("name", None)
        if not isinstance(name, str):
            raise RecipeError(source, f"{path}.name", "missing required field (a regulariser's name)"
                              if name is None else f"got {name!r}; expected a string")
        try:
            component = found.component("regularizer", name)
        except UnknownComponentError as err:
            raise RecipeError(source, f"{path}.name", str(err)) from None
        taken = [f.name for f in attrs.fields(component.options) if f.name in schedule_keys] \
            if attrs.has(component.options) else []
        if taken:  # the entry's `weight` would be read as the schedule's, and the option never set
            raise RecipeError(source, f"{path}.name", f"regularizer {name!r} of plugin {component.plugin!r} has an "
                              f"option named {taken[0]!r}, which [[regularizer]] keeps for its schedule "
                              f"({', '.join(schedule_keys)}); the plugin must rename that option")
        schedule = parse_options(RegularizerSchedule, {k: rest.pop(k) for k in schedule_keys if k in rest},
                                 source=source, path=path)
        if not math.isfinite(schedule.weight):
            raise RecipeError(source, f"{path}.weight", f"got {schedule.weight!r}; must be a finite number >= 0")
        options = component.parse(rest, source=source, path=path)
        chosen.append(RegularizerChoice(name=name, schedule=schedule, options=options))
    return tuple(chosen)


def _check_needs(found: Any, choices: Mapping[str, ComponentChoice], regularizers: Any, classes: int,
                 source: str) -> None:
    """A loss or regulariser that reads an output the discriminator does not give (or a latent part the generator
    does not own) is an error here, before anything is built."""
    consumers = [("loss.name", found.component("loss", choices["loss"].name))]
    consumers += [(f"regularizer[{i}].name", found.component("regularizer", r.name)) for i, r in enumerate(regularizers)]
    for field, consumer in consumers:
        for role in ("discriminator", "generator"):
            choice = choices[role]
            problem = consumer.missing(role, found.component(role, choice.name), choice.options, classes)
            if problem:
                raise RecipeError(source, field, problem)


def check_data(recipe: Recipe) -> Recipe:
    """Whether the data files the recipe names are there (the dataset's ``check_data``: a few file look-ups),
    or one RecipeError naming the recipe and ``data``; ``ganzoo validate`` and ``ganzoo run`` call it after
    :func:`load_recipe`, so a missing download is found before any work starts. Returns ``recipe``."""
    from ganzoo.registry import registries

    component = registries().component("dataset", recipe.data.name)
    problem = component.problem_with_data(recipe.data.options)
    if problem:
        raise RecipeError(recipe.source, "data", problem)
    return recipe


def _data_info(component: Any, options: Any, source: str) -> Any:
    try:
        return component.data_info(options)
    except RecipeError:
        raise
    except (ValueError, GanzooError) as err:  # a missing image folder, say: name the recipe and its section
        raise RecipeError(source, "data", str(err)) from None


def _check_trackers(train: TrainOptions, source: str) -> None:
    """A tracker named but not installed fails here, before any work, not at the first logged step."""
    from ganzoo.training.tracking import missing_tracker  # finds modules without importing them (or torch)

    missing = missing_tracker(train.log_with)
    if missing:
        index = train.log_with.index(missing[0])
        raise RecipeError(source, f"train.log_with[{index}]", f"{missing[0]!r} is not installed; {missing[1]}")


def _component(found: Any, section: str, table: Any, source: str) -> ComponentChoice:
    kind = KIND_OF_SECTION[section]
    if table is None:
        raise RecipeError(source, section, f"missing required section (a table with the {kind}'s name)")
    if not isinstance(table, Mapping):
        raise RecipeError(source, section, f"got {table!r}; expected a table such as [{section}] name = \"...\"")
    rest = dict(table)
    name = rest.pop("name", None)
    if name is None:
        raise RecipeError(source, f"{section}.name", "missing required field")
    if not isinstance(name, str):
        raise RecipeError(source, f"{section}.name", f"got {name!r}; expected a string")
    try:
        component = found.component(kind, name)
    except UnknownComponentError as err:
        raise RecipeError(source, f"{section}.name", str(err)) from None
    return ComponentChoice(kind=kind, name=name, options=component.parse(rest, source=source, path=section))
