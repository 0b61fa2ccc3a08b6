"""Generation: from a grammar to exact-depth items, minimal pairs and matched controls.

==============  =======================================================================
module          concept
==============  =======================================================================
``derivation``  derivation trees (the sampler's output) and their word spans
``sampling``    exact-depth dynamic programming and sampling (pure)
``pairs``       the ungrammatical twin of a derivation (pure)
``metrics``     depth and complexity metrics from trees (pure)
``chart``       the grammar's own recognizer: at which depths a sentence parses (fast)
``edit``        grammatical edits of a derivation: set a feature where it is bound, use given words
``ladder``      depth ladders: one frame at every depth, one embedding level removed per rung
``conditions``  counterbalanced conditions: controller value x attractor match, pair types
``validity``    item checks: one reading, a real violation, no repeated word, no deep modifier nesting
``sets``        frames -> complete, checked sets of items (ladders or single depths) with a tally
``builder``     a derivation -> a :class:`depthkit.schema.Item` (pair, regions, metrics)
``controls``    the structure-matched depth-0 control of a test item
``items``       :func:`generate`: options, the plan, the tally
``write``       items.jsonl and the manifest's ``generate`` section
==============  =======================================================================
"""

from __future__ import annotations

from .builder import build_item
from .controls import matched_control
from .derivation import Node, marked_spans, spans
from .items import DEFAULT_DEPTHS, Generation, Options, generate, generate_items, make_options, parse_depths, run_generation
from .metrics import tree_metrics
from .pairs import make_bad
from .sampling import DepthTable, build_table
from .write import write_generated

__all__ = [
    "DEFAULT_DEPTHS", "DepthTable", "Generation", "Node", "Options", "run_generation", "build_item", "build_table", "generate", "generate_items",
    "make_bad", "make_options", "marked_spans", "matched_control", "parse_depths", "spans", "tree_metrics",
    "write_generated",
]
