"""A package that can be called like its main function: ``depthkit.verify(folder)`` and ``depthkit.report(runs,
out)`` while ``depthkit.verify.verify_folder`` and ``from depthkit.report import load_runs`` keep working.

A function named like a subpackage would be replaced by the module the first time the subpackage is
imported (Python binds submodules as attributes of their parent), so the package itself is made callable.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def make_callable(module_name: str, target: str, home: str) -> None:
    """Calling the module ``module_name`` calls ``home.target`` (``home`` relative to the module)."""
    module = sys.modules[module_name]

    class CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(home, module_name), target)(*args, **kwargs)

    CallableModule.__call__.__doc__ = f"Call :func:`{module_name}{home}.{target}`."
    module.__class__ = CallableModule


__all__ = ["make_callable"]
