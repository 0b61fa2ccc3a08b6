"""depthkit: syntactic-depth stress tests for language models.

Notebook API::

    import depthkit
    g = depthkit.load_grammar("object-rc")
    items = depthkit.generate(g, depths="0-4", per_depth=10, seed=1)
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_grammar", "generate", "DepthkitError"]


def __getattr__(name: str):  # lazy: `import depthkit` stays cheap
    if name == "load_grammar":
        from .grammar import load_grammar

        return load_grammar
    if name == "generate":
        from .generation import generate

        return generate
    if name == "DepthkitError":
        from .errors import DepthkitError

        return DepthkitError
    raise AttributeError(name)
