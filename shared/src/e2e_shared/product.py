"""The seam between the engine and the product it tests.

Everything that knows one product (its factories, seeded baseline, shared test data, secrets)
lives in one product package, named in ``[tool.e2e] product`` and imported here by that name
only: no engine module imports a product statically (``nox -s lint`` enforces it with
import-linter). Swapping the product means editing ``[tool.e2e]``, ``compose/`` and that package.

A product package offers, each optional (docs/adopting.md shows an example):

- ``seed(settings) -> dict``: load the deterministic baseline (idempotent); what it counted.
- ``reset(settings) -> dict``: remove what the tests created, then ``seed``.
- ``describe(counts) -> str``: the seed summary, e.g. ``10 symbols, 2 users, 36000 trades``.
- ``SECRETS``: values masked in every report (the baseline users' passwords, say).
- ``<product>.plugin``: a pytest plugin module (its fixtures), loaded into every suite.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from . import E2EError
from .config import Settings, find_root, load_tool_config


def product_name(tool: Mapping[str, Any]) -> str | None:
    """The product package's import name from ``[tool.e2e]``, or None when none is named."""
    name = tool.get("product")
    return str(name) if name else None


def load_product(tool: Mapping[str, Any], root: Path | None = None) -> ModuleType | None:
    """The product package named in ``[tool.e2e]`` (None when none is named).

    Installed, it is imported as it is; otherwise from ``product_path`` under ``root`` (its
    ``src/`` folder or the folder itself), so the host's tasks work before anyone installs it.
    """
    name = product_name(tool)
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if not (exc.name and name.startswith(exc.name)):  # one of the product's own imports
            raise
    where = tool.get("product_path")
    if where and root is not None:
        top = name.split(".")[0]
        for folder in (root / where / "src", root / where):
            if (folder / top).is_dir() and str(folder) not in sys.path:
                sys.path.append(str(folder))
                return importlib.import_module(name)
    raise E2EError(f"the product package {name!r} ([tool.e2e] product) is not installed",
                   f"install it: pip install -e {where or 'its folder'} (or set [tool.e2e] product_path)")


def plugin_module(tool: Mapping[str, Any], root: Path | None = None) -> str | None:
    """``<product>.plugin`` when the product ships a pytest plugin, else None."""
    name = product_name(tool)
    if name is None:
        return None
    load_product(tool, root)  # a clear error when the package itself is missing
    return f"{name}.plugin" if importlib.util.find_spec(f"{name}.plugin") else None


def hook(settings: Settings, name: str) -> Any:
    """The product's ``name`` hook, or an error saying what to add."""
    module = load_product(settings.tool, settings.root)
    if module is None:
        raise E2EError("no product package named in [tool.e2e] (product = ...)",
                       "name your product's fixtures package there; see docs/adopting.md")
    found = getattr(module, name, None)
    if found is None:
        raise E2EError(f"the product package {module.__name__!r} has no {name}()",
                       f"define {name}(settings) in {module.__name__}/__init__.py (docs/adopting.md)")
    return found


def describe(settings: Settings, counts: Mapping[str, Any]) -> str:
    """The seed summary in the product's words; ``k=v`` pairs when it has none."""
    module = load_product(settings.tool, getattr(settings, "root", None))
    custom = getattr(module, "describe", None) if module is not None else None
    if custom is not None:
        return str(custom(counts))
    return ", ".join(f"{k}={v}" for k, v in counts.items())


def product_secrets() -> tuple[str, ...]:
    """The product's known secrets (``SECRETS``) for masking, in every process; never raises:
    an environment without the product (or outside a workspace) simply knows none."""
    # Per workspace: a process may look at more than one (tests do), and masking asks often.
    return _secrets_of(os.environ.get("E2E_ROOT", ""), os.getcwd())


@functools.cache
def _secrets_of(_env_root: str, _cwd: str) -> tuple[str, ...]:
    try:
        root = find_root()
        module = load_product(load_tool_config(root, validate=False), root)
    except Exception:  # noqa: BLE001 - masking must work anywhere
        return ()
    return tuple(getattr(module, "SECRETS", ()) or ()) if module is not None else ()
