"""Generation: from a grammar to exact-depth items, minimal pairs and matched controls.

==============  =======================================================================
module          concept
==============  =======================================================================
``derivation``  derivation trees (the sampler's output) and their word spans
``sampling``    exact-depth dynamic programming and sampling (pure)
``pairs``       the ungrammatical twin of a derivation (pure)
``metrics``     depth and complexity metrics from trees (pure)
``builder``     a derivation -> a :class:`depthkit.schema.Item` (pair, regions, metrics)
``controls``    the matched depth-0 control of a test item
``items``       :func:`generate`: options, depths, the per-depth draws
``write``       items.jsonl and the manifest's ``generate`` section
==============  =======================================================================
"""

from __future__ import annotations

from .builder import build_item
from .controls import matched_control
from .derivation import Node, marked_spans, spans
from .items import DEFAULT_DEPTHS, Options, generate, generate_items, make_options, parse_depths
from .metrics import tree_metrics
from .pairs import make_bad
from .sampling import DepthTable, build_table
from .write import write_generated

__all__ = [
    "DEFAULT_DEPTHS", "DepthTable", "Node", "Options", "build_item", "build_table", "generate", "generate_items",
    "make_bad", "make_options", "marked_spans", "matched_control", "parse_depths", "spans", "tree_metrics",
    "write_generated",
]
