"""Reading one TOML table of the config, and the errors it reports: all of them.

A person fixing a config wants every problem at once, not one per run: each
section records what is wrong and goes on with a stand-in value, and the whole
list is raised at the end (:class:`ConfigErrors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """``config.toml: [matrix].homeserver: must be an http(s) URL``."""

    def __init__(self, source: str, key: str, problem: str):
        super().__init__(f"{source}: {key}: {problem}")
        self.source, self.key, self.problem = source, key, problem


class ConfigErrors(ConfigError):
    """Every problem of one config; reads as one line per problem."""

    def __init__(self, errors: list[ConfigError]):
        first = errors[0]
        super().__init__(first.source, first.key, first.problem)
        self.errors = errors
        lines = [str(e) for e in errors]
        self.args = (lines[0] if len(lines) == 1 else
                     f"{len(lines)} problems:\n" + "\n".join(lines),)


class Problems(list[ConfigError]):
    """Where the sections of one config record what is wrong."""

    def at(self, source: str, key: str, problem: str) -> None:
        self.append(ConfigError(source, key, problem))

    def raise_any(self) -> None:
        if self:
            raise ConfigErrors(list(self))


class Section:
    """Reads one table, names every key in errors, and reports keys it does not know."""

    def __init__(self, source: str, name: str, data: Any, known: set[str], problems: Problems):
        self.source, self.name, self.problems = source, name, problems
        if not isinstance(data, Mapping):
            problems.at(source, name, "must be a table")
            data = {}
        for key in sorted(set(data) - known):
            self.fail(key, f"unknown key (known keys: {', '.join(sorted(known))})")
        self.data = data

    def key(self, key: str) -> str:
        return f"{self.name}.{key}"

    def fail(self, key: str, problem: str) -> None:
        self.problems.at(self.source, self.key(key), problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            self.fail(key, f"must be {_kind_name(kind)}, not {_kind_name(type(value))}")
            return default
        return value

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.get(key, str, default)
        if required and not value:
            self.fail(key, "is required")
        return value

    def url(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.text(key, default, required=required)
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.fail(key, "must be an http(s) URL")
        return value

    def int_list(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.get(key, list, None)
        if value is None:
            return default
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            self.fail(key, "must be a list of whole numbers of days, 0 or more")
            return default
        return tuple(sorted(set(value), reverse=True))


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _tuple(kind))
