"""The arrows run one way: storage <- kernel <- handlers <- runtime.

storage/ knows nothing of the bot; the kernel (events, replies, commands, context,
parsing, dispatcher, deliveries, features) knows nothing of the features or of the
running program; handlers/ know nothing of the running program; and the runtime
(service, console, scheduler, adapters, command line) reaches the features only
through ``handlers.features()`` (or the registry), never a feature module by name.
A test over the source, so that an import running back up fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KERNEL = {"bot.events", "bot.replies", "bot.commands", "bot.arguments", "bot.context",
          "bot.parsing",
          "bot.dispatcher", "bot.deliveries", "bot.features", "bot.failures",
          "bot.formatting", "bot.config", "bot.config_reader", "bot.config_web",
          "bot.config_networks",
          "bot.text_limits", "bot.rooms"}


def layer(module: str) -> str:
    if module.split(".")[0] == "storage":
        return "storage"
    if module.split(".")[0] == "handlers":
        return "handlers"
    return "kernel" if module in KERNEL or module == "bot" else "runtime"


def modules() -> dict[str, Path]:
    found = {}
    for package in ("bot", "handlers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, name: str) -> set[str]:
    """Every module this one imports, anywhere in it (in functions too), ours only."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            # "from bot import deliveries" names a module too.
            out |= {f"{base}.{alias.name}" for alias in node.names}
    ours = modules()
    return {m for m in out if m in ours}


ALLOWED = {"storage": {"storage"}, "kernel": {"storage", "kernel"},
           "handlers": {"storage", "kernel", "handlers"},
           "runtime": {"storage", "kernel", "handlers", "runtime"}}


def test_no_import_runs_back_up():
    wrong = []
    for name, path in sorted(modules().items()):
        for imported in sorted(imports_of(path, name)):
            if layer(imported) not in ALLOWED[layer(name)]:
                wrong.append(f"{name} ({layer(name)}) imports {imported} ({layer(imported)})")
    assert wrong == []


def test_the_runtime_reaches_the_features_only_through_the_handlers_package():
    wrong = [f"{name} imports {imported}" for name, path in sorted(modules().items())
             if layer(name) == "runtime"
             for imported in sorted(imports_of(path, name))
             if layer(imported) == "handlers" and imported != "handlers"]
    assert wrong == []


@pytest.mark.parametrize("source, expected", [
    ("from bot.scheduler import ReminderScheduler\n", "kernel) imports bot.scheduler"),
    ("def f():\n    from handlers.cases import flag\n", "imports handlers.cases"),
])
def test_the_check_sees_an_import_that_runs_back_up(tmp_path: Path, source: str,
                                                     expected: str, monkeypatch):  # type: ignore[no-untyped-def]
    """The test itself can fail: a kernel module that imports the runtime or a feature."""
    fake = ROOT / "bot" / "events.py"
    real = fake.read_text()
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: (
        real + source if self == fake else Path.read_bytes(self).decode()))
    with pytest.raises(AssertionError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        test_no_import_runs_back_up()


def test_each_command_entry_sits_beside_its_function():
    """A new command is one function and one registry entry, in the same module."""
    import importlib
    import pkgutil

    import handlers

    astray = []
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"handlers.{info.name}")
        astray += [f"{c.qualified} in {module.__name__}, its function in {c.handler.__module__}"
                   for c in getattr(module, "COMMANDS", [])
                   if c.handler.__module__ != module.__name__]
    assert astray == []
    listed = {id(c) for c in handlers.all_commands()}
    gathered = [c for info in pkgutil.iter_modules(handlers.__path__)
                for c in getattr(importlib.import_module(f"handlers.{info.name}"), "COMMANDS", [])]
    assert all(id(c) in listed for c in gathered)  # every module's entries are registered
