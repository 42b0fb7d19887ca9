"""Declarative, validated options: one schema for recipe sections and for component arguments.

A component says what its constructor takes as a small attrs class built with :func:`option`; the recipe
loader, ``--set`` overrides and the Python API all pass through :func:`parse_options`, so a bad value is
rejected the same way everywhere, before any work starts, in one line that names the field path, the
value and what is allowed. Nothing here imports torch: ``ganzoo validate`` stays fast.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs

from ganzoo.errors import RecipeError

T = TypeVar("T")

_META = "ganzoo"

#: No integer option may exceed what torch's int64 holds (sizes, steps, counts): beyond it a build overflows
#: ("Storage size calculation overflowed") or a loop never ends. Options that need less say ``max=``.
INT64_MAX = 2**63 - 1


def option(
    default: Any = attrs.NOTHING,
    *,
    help: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: typing.Sequence[Any] | None = None,
    exclusive_min: bool = False,
    nonfinite: bool = False,
    local: bool = False,
) -> Any:
    """An attrs field with the range and choices that :func:`parse_options` enforces.

    Numbers must be finite (``nan`` and ``inf`` are rejected) unless ``nonfinite=True``. ``local=True`` marks
    a machine-local option (a data folder, a network switch): it belongs to the user running the command and
    is never taken from a weights file someone else wrote (see :func:`drop_local_options`).
    """
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple (immutable) as an option's default")
    meta = {
        _META: {
            "help": help, "min": min, "max": max, "choices": choices, "exclusive_min": exclusive_min,
            "nonfinite": nonfinite, "local": local,
        }
    }
    return attrs.field(default=default, metadata=meta, kw_only=True)


def options_class(cls: type[T]) -> type[T]:
    """Decorate an options class: frozen, keyword-only attrs with types resolved once."""
    cls = attrs.frozen(kw_only=True)(cls)
    attrs.resolve_types(cls)
    return cls


def parse_options(cls: type[T], table: Mapping[str, Any] | None, *, source: str = "", path: str = "") -> T:
    """Build ``cls`` from a TOML table, checking keys, types, ranges and choices.

    ``path`` is the dotted name of the table (``generator``) so messages read ``generator.latent_dim``.
    """
    if table is None:
        table = {}
    if not isinstance(table, Mapping):  # `train = 3`, `train = [1, 2]`, `train = false`: never the defaults
        raise RecipeError(source, path, f"got {_short(table)}; expected a table ([{path or 'section'}] key = value)")
    table = dict(table)
    fields = attrs.fields_dict(cls)
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(table) - set(fields), key=str)
    retired = getattr(cls, "__retired__", {})  # option name -> what to write instead (a one-line hint)
    for name in unknown:
        if name in retired:
            raise RecipeError(source, _join(path, str(name)), f"is no longer an option: {retired[name]}")
    if unknown:
        allowed = ", ".join(fields) or "(none)"
        name = str(unknown[0])
        raise RecipeError(source, _join(path, name), f"unknown key{did_you_mean(name, fields)}; allowed keys: {allowed}")
    values = {}
    for name, field in fields.items():
        where = _join(path, name)
        if name not in table:
            if field.default is attrs.NOTHING:
                raise RecipeError(source, where, "missing required field")
            continue
        values[name] = check_value(hints[name], table[name], field, source=source, path=where)
    return cls(**values)


def check_value(annotation: Any, value: Any, field: attrs.Attribute | None, *, source: str, path: str) -> Any:
    """Return ``value`` converted to ``annotation`` (lists become tuples, ints floats) or raise RecipeError."""
    converted = _convert(annotation, value, source=source, path=path)
    meta = (field.metadata.get(_META) if field is not None else None) or {}
    if not meta.get("nonfinite"):
        _check_finite(converted, source=source, path=path)
    if meta.get("max") is None:
        _check_int64(converted, source=source, path=path)
    _check_range(meta, converted, source=source, path=path)
    return converted


def check_defaults(cls: type) -> None:
    """Hold an options class's defaults to its own rules (a plugin's ``option(0, min=1)``), so a component
    never receives a value that ``--set`` would have refused; raises RecipeError naming the class (module and
    qualified name: the plugin's own, for its author to find) and the field."""
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise TypeError(f"options={cls!r} is not an options class (decorate it with @ganzoo.options_class)")
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        if field.default is attrs.NOTHING or isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            continue
        default = field.default
        if attrs.has(type(default)):
            default = options_to_dict(default)
        check_value(hints[field.name], default, field, source=f"options class {cls.__module__}.{cls.__qualname__}",
                    path=f"{field.name} (default)")


def local_fields(cls: type) -> set[str]:
    """Names of the options marked ``local=True`` (paths, downloads) in an options class."""
    return {f.name for f in attrs.fields(cls) if (f.metadata.get(_META) or {}).get("local")}


def drop_local_options(cls: type, table: Mapping[str, Any]) -> dict[str, Any]:
    """``table`` less the machine-local options: what may be taken from a file someone else wrote."""
    local = local_fields(cls)
    return {key: value for key, value in table.items() if key not in local}


def did_you_mean(name: str, candidates: typing.Iterable[str]) -> str:
    """``"; did you mean 'steps'?"`` when a close candidate exists (difflib), else ``""``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_options(cls: type) -> list[dict[str, Any]]:
    """Name, type, default and help of each option, for ``ganzoo list --json`` and the docs."""
    hints = typing.get_type_hints(cls)
    rows = []
    for field in attrs.fields(cls):
        meta = field.metadata.get(_META, {})
        default = None if field.default is attrs.NOTHING else field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = None
        rows.append(
            {
                "name": field.name,
                "type": type_name(hints[field.name]),
                "default": list(default) if isinstance(default, tuple) else default,
                "required": field.default is attrs.NOTHING,
                "range": range_text(meta),
                "help": meta.get("help", ""),
            }
        )
    return rows


def range_text(meta: Mapping[str, Any]) -> str:
    """What :func:`parse_options` lets through beyond the type: ``>= 0``, ``0 to 1``, ``> 0``, ``'a', 'b'``."""
    if meta.get("choices") is not None:
        return ", ".join(repr(c) for c in meta["choices"])
    lo, hi = meta.get("min"), meta.get("max")
    low = None if lo is None else f"{'>' if meta.get('exclusive_min') else '>='} {lo:g}"
    if low and hi is not None and not meta.get("exclusive_min"):
        return f"{lo:g} to {hi:g}"
    return " and ".join(part for part in (low, None if hi is None else f"<= {hi:g}") if part)


def options_to_dict(options: Any) -> dict[str, Any]:
    """Plain TOML/JSON-friendly dict of an options instance (tuples become lists, None dropped)."""
    return _plain(attrs.asdict(options, recurse=True))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def type_name(annotation: Any) -> str:
    """A reader's name for a type: ``integer``, ``list of numbers``, ``one of 'a', 'b'``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    if annotation is bool:
        return "true or false"
    if annotation is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        parts = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" (or omitted)" if type(None) in args else "")
    if origin in (tuple, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} ({', '.join(type_name(a) for a in args)})"
        inner = args[0] if args else Any
        if get_origin(inner) is Literal:
            return f"a list, each {type_name(inner)}"
        return f"a list of {type_name(inner).removeprefix('an ').removeprefix('a ')}s"
    if isinstance(annotation, type) and attrs.has(annotation):
        return "a table"
    if origin is dict or annotation is dict:
        return "a table"
    return getattr(annotation, "__name__", str(annotation))


def _fail(annotation: Any, value: Any, source: str, path: str) -> typing.NoReturn:
    raise RecipeError(source, path, f"got {_short(value)}; expected {type_name(annotation)}")


def _walk_numbers(value: Any, path: str) -> typing.Iterator[tuple[str, Any]]:
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _walk_numbers(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk_numbers(item, f"{path}.{key}")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def _check_finite(value: Any, *, source: str, path: str) -> None:
    for where, number in _walk_numbers(value, path):
        if isinstance(number, float) and not math.isfinite(number):
            raise RecipeError(source, where, f"got {number!r}; expected a finite number (nan and inf are not allowed)")


def _check_int64(value: Any, *, source: str, path: str) -> None:
    for where, number in _walk_numbers(value, path):
        if isinstance(number, int) and abs(number) > INT64_MAX:
            raise RecipeError(source, where, f"got {number}; must be <= {INT64_MAX} (and >= -{INT64_MAX})")


def _convert(annotation: Any, value: Any, *, source: str, path: str) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            _fail(annotation, value, source, path)
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(annotation, value, source, path)
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(annotation, value, source, path)
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            _fail(annotation, value, source, path)
        return value
    if origin is Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args if a == value):
            _fail(annotation, value, source, path)
        return value
    if origin in (Union, types.UnionType):
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, source=source, path=path)
            except RecipeError:
                pass
        _fail(annotation, value, source, path)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            _fail(annotation, value, source, path)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                _fail(annotation, value, source, path)
            return tuple(_convert(a, v, source=source, path=f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        inner = args[0] if args else Any
        return tuple(_convert(inner, v, source=source, path=f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict or annotation is dict:
        if not isinstance(value, Mapping):
            _fail(annotation, value, source, path)
        return dict(value)
    if isinstance(annotation, type) and attrs.has(annotation):
        if not isinstance(value, Mapping):
            _fail(annotation, value, source, path)
        return parse_options(annotation, value, source=source, path=path)
    raise TypeError(f"unsupported option type {annotation!r} at {path}")


def _check_range(meta: Mapping[str, Any], value: Any, *, source: str, path: str) -> None:
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise RecipeError(source, path, f"got {_short(value)}; allowed: {allowed}")
    items = value if isinstance(value, tuple) else (value,)
    lo, hi = meta.get("min"), meta.get("max")
    for item in items:
        if not isinstance(item, (int, float)) or isinstance(item, bool):
            continue
        if lo is not None and (item < lo or (meta.get("exclusive_min") and item == lo)):
            op = ">" if meta.get("exclusive_min") else ">="
            raise RecipeError(source, path, f"got {_short(value)}; must be {op} {_bound(lo)}")
        if hi is not None and item > hi:
            raise RecipeError(source, path, f"got {_short(value)}; must be <= {_bound(hi)}")


def _bound(number: float) -> str:
    """A bound as people read it: ``65536``, ``0.9`` (``:g`` would print ``6.5536e+04``)."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"
