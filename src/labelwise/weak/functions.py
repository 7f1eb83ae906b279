"""Labeling functions: plain Python functions of an item that return a class or abstain.

A labeling function is declared with :func:`labeling_function`; it receives one
item (a row of the table, readable as ``x.text`` or ``x["text"]``) and returns one
of the classes, or :data:`ABSTAIN` (``None``) when it has nothing to say.
:func:`load_functions` collects the functions declared in a Python file, as the
``labelwise weak`` command does.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from labelwise.errors import InputError, ParameterError

__all__ = [
    "ABSTAIN",
    "Item",
    "LabelingFunction",
    "keyword_function",
    "labeling_function",
    "load_functions",
    "pattern_function",
]

#: What a labeling function returns when it does not vote.
ABSTAIN = None


class Item(dict[str, Any]):
    """One row of the table handed to a labeling function: ``x.text`` and ``x["text"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"the item has no column {name!r}; columns: {', '.join(map(str, self))}"
            ) from None


@dataclass(frozen=True)
class LabelingFunction:
    """A named function ``item -> class or ABSTAIN``.

    Attributes
    ----------
    name : str
        Unique name; the column of the vote matrix.
    fn : callable
        The user's function.
    """

    name: str
    fn: Callable[[Item], Any]

    def __call__(self, item: Item) -> Any:
        return self.fn(item)


@overload
def labeling_function(fn: Callable[[Item], Any], /) -> LabelingFunction: ...


@overload
def labeling_function(
    *, name: str | None = None
) -> Callable[[Callable[[Item], Any]], LabelingFunction]: ...


def labeling_function(
    fn: Callable[[Item], Any] | None = None, /, *, name: str | None = None
) -> LabelingFunction | Callable[[Callable[[Item], Any]], LabelingFunction]:
    """Declare a labeling function: ``@labeling_function`` or ``@labeling_function(name=...)``.

    Returns
    -------
    LabelingFunction
        The wrapped function, named after the Python function unless ``name`` is given.

    Examples
    --------
    >>> @labeling_function
    ... def mentions_goal(x):
    ...     return "sports" if "goal" in x.text else ABSTAIN
    >>> mentions_goal.name
    'mentions_goal'
    """

    def wrap(f: Callable[[Item], Any]) -> LabelingFunction:
        if not callable(f):
            raise ParameterError(f"labeling_function expects a function; got {type(f).__name__}.")
        return LabelingFunction(name=name or getattr(f, "__name__", "lf"), fn=f)

    return wrap(fn) if fn is not None else wrap


def pattern_function(
    name: str, label: Any, pattern: str, *, field: str = "text", flags: int = re.IGNORECASE
) -> LabelingFunction:
    """A labeling function that votes ``label`` where the regular expression ``pattern``
    matches the item's ``field`` and abstains elsewhere: the most common kind of
    labeling function, declared in one line.

    Examples
    --------
    >>> who = pattern_function("who", "HUM", r"^who\b")
    >>> who(Item(text="Who wrote Hamlet ?")), who(Item(text="Where is Rome ?"))
    ('HUM', None)
    """
    regex = re.compile(pattern, flags)

    def vote(x: Item) -> Any:
        return label if regex.search(str(x[field])) else ABSTAIN

    return LabelingFunction(name=name, fn=vote)


def keyword_function(
    name: str, label: Any, words: Iterable[str], *, field: str = "text", flags: int = re.IGNORECASE
) -> LabelingFunction:
    """A :func:`pattern_function` that votes ``label`` where any of ``words`` stands as a
    whole word in ``field`` (each word may itself be a regular expression, e.g. ``goals?``)."""
    return pattern_function(
        name, label, r"\b(?:" + "|".join(words) + r")\b", field=field, flags=flags
    )


def check_functions(functions: Iterable[LabelingFunction]) -> list[LabelingFunction]:
    """Return the functions as a list; raise on an empty list, a non-function or a
    repeated name (the names are the columns of the vote matrix)."""
    out = list(functions)
    seen: set[str] = set()
    for f in out:
        if not isinstance(f, LabelingFunction):
            raise ParameterError(
                f"expected labeling functions (declare them with @labeling_function); got "
                f"{type(f).__name__} {f!r}."
            )
        if f.name in seen:
            raise ParameterError(f"two labeling functions are named {f.name!r}; names must differ.")
        seen.add(f.name)
    return out


def load_functions(path: str | Path) -> list[LabelingFunction]:
    """Import a Python file and return the labeling functions it declares, in file order.

    The file may also define ``CLASSES`` (a list of class names); read it with
    :func:`load_classes`. The module is registered so that the functions can be sent
    to worker processes for parallel application.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"labeling-function file {p} does not exist.")
    mod_name = f"_labelwise_lfs_{abs(hash(p.resolve()))}"
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise InputError(f"cannot import {p} as a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: report, do not crash
        del sys.modules[mod_name]
        raise InputError(f"importing {p} failed: {type(exc).__name__}: {exc}") from exc
    try:
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
    except (ImportError, ValueError):  # pragma: no cover - loky ships cloudpickle
        pass
    found = [v for v in vars(module).values() if isinstance(v, LabelingFunction)]
    if not found:
        raise InputError(
            f"{p} declares no labeling function; decorate functions with "
            "@labeling_function (from labelwise.weak import labeling_function)."
        )
    return check_functions(found)


def load_classes(path: str | Path) -> list[Any] | None:
    """The ``CLASSES`` list declared in a labeling-function file, or ``None``."""
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if f and Path(f).resolve() == Path(path).resolve() and hasattr(mod, "CLASSES"):
            return list(mod.CLASSES)
    return None
