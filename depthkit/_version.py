"""depthkit's version (its own module, so any module can import it without importing the package root)."""

__version__ = "0.1.0"  # keep equal to pyproject.toml
