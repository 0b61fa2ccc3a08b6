"""From a grammar to items: exact-depth test items, their minimal pairs, and matched controls.

:func:`generate` is pure: same grammar, seed and options give the same items, and no
global random state is touched (each depth and each control has its own seeded RNG).
:func:`write_generated` is the file-writing edge used by the CLI.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nltk import Tree

from . import __version__
from .derivation import Node, marked_spans, spans
from .errors import DepthkitError
from .grammar import CompiledGrammar, Grammar, compile_grammar, load_grammar
from .metrics import tree_metrics
from .pairs import make_bad
from .sampling import MAX_WORDS_LIMIT, DepthTable, build_table
from .store import ITEMS_FILE, log, package_versions, update_manifest, write_jsonl

CONTROL_CANDIDATES = 400  # most candidates drawn for one control
CONTROL_PATIENCE = 80  # stop after this many draws without a better match
UNIQUE_ATTEMPTS = 50


@dataclass(frozen=True)
class Options:
    """Everything besides the grammar that decides which items come out."""

    depths: tuple[int, ...] = (0, 1, 2, 3)
    per_depth: int = 20
    seed: int = 0
    controls: bool = False
    uniform: bool = False  # ignore rule weights: uniform over derivations
    min_words: int | None = None
    max_words: int | None = None
    extra_words: int = 6  # without max_words: lengths up to the shortest possible + this
    length_mode: str = "uniform"  # "uniform" over reachable lengths, or "weighted" by derivation mass
    unique: bool = True

    def __post_init__(self) -> None:
        if self.per_depth < 1:
            raise DepthkitError("--per-depth must be at least 1", fix="e.g. --per-depth 20")
        if not self.depths or min(self.depths) < 0:
            raise DepthkitError("depths must be non-negative", fix="e.g. --depths 0-6 or --depths 0,2,4")
        if self.length_mode not in ("uniform", "weighted"):
            raise DepthkitError(f"unknown length mode {self.length_mode!r}", fix="use uniform or weighted")
        if self.min_words and self.max_words and self.min_words > self.max_words:
            raise DepthkitError("--min-words is larger than --max-words", fix="swap them")
        if self.extra_words < 0:
            raise DepthkitError("--extra-words must be 0 or more", fix="e.g. --extra-words 6")
        if self.max_words is not None and not 1 <= self.max_words <= MAX_WORDS_LIMIT:
            raise DepthkitError(f"--max-words must be between 1 and {MAX_WORDS_LIMIT}",
                                fix=f"derivation counts overflow beyond about {MAX_WORDS_LIMIT} words; ask for fewer")


@dataclass(frozen=True)
class Item:
    """One generated sentence (and its twin); ``to_dict`` gives the items.jsonl record."""

    id: str
    grammar: str
    construction: str
    kind: str
    control_of: str | None
    depth: int
    good: str
    bad: str | None
    tree: str
    regions: dict[str, Any]
    pair: dict[str, Any] | None
    frame: str
    metrics: dict[str, Any]
    match: dict[str, int] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_depths(text: str) -> tuple[int, ...]:
    """``"0-6"``, ``"0,2,4"`` or ``"1-3,6"`` → sorted unique depths."""
    out: set[int] = set()
    try:
        for part in str(text).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                out.update(range(int(lo), int(hi) + 1))
            elif part:
                out.add(int(part))
    except ValueError:
        raise DepthkitError(f"cannot read depths {text!r}", fix="write e.g. 0-6, or 0,2,4, or 1-3,6") from None
    if not out or min(out) < 0:
        raise DepthkitError(f"cannot read depths {text!r}", fix="depths are non-negative integers, e.g. 0-6")
    return tuple(sorted(out))


def generate(grammar: Grammar | str | Path, depths=(0, 1, 2, 3), per_depth: int = 20, seed: int = 0,
             **options: Any) -> list[Item]:
    """Sample ``per_depth`` items at each exact embedding depth (plus controls if asked).

    ``grammar`` is a :class:`Grammar`, a shipped grammar name or a file path. Other keyword
    options are the fields of :class:`Options`.
    """
    if not isinstance(grammar, Grammar):
        grammar = load_grammar(grammar)
    if isinstance(depths, str):
        depths = parse_depths(depths)
    opts = Options(depths=tuple(sorted(set(depths))), per_depth=per_depth, seed=seed, **options)
    compiled = compile_grammar(grammar)
    table = build_table(compiled, max(opts.depths), need_words=opts.max_words, weighted=not opts.uniform,
                        max_words=opts.max_words)
    items: list[Item] = []
    for depth in opts.depths:
        tests = _sample_depth(grammar, table, depth, opts)
        for item in tests:
            items.append(item)
            if opts.controls:
                items.append(_control(grammar, table, item, opts))
    return items


def _window(table: DepthTable, depth: int, opts: Options) -> list[int]:
    lengths = table.lengths(depth, opts.min_words or 1, opts.max_words)
    if not lengths:
        g = table.compiled.grammar
        raise DepthkitError(f"no sentence of depth {depth} fits the word limits "
                            f"({opts.min_words or 1}..{opts.max_words or table.max_words} words)", path=g.path,
                            fix="widen --min-words/--max-words")
    if opts.max_words is None:
        lengths = [n for n in lengths if n <= lengths[0] + opts.extra_words]
    return lengths


def _sample_depth(grammar: Grammar, table: DepthTable, depth: int, opts: Options) -> list[Item]:
    rng = random.Random(f"{opts.seed}/{grammar.name}/{depth}")
    lengths = _window(table, depth, opts)
    mass = [float(table.counts(depth)[n]) for n in lengths]
    seen: set[str] = set()
    items: list[Item] = []
    attempts = 0
    while len(items) < opts.per_depth and attempts < opts.per_depth * UNIQUE_ATTEMPTS:
        attempts += 1
        if opts.length_mode == "uniform":
            length = lengths[rng.randrange(len(lengths))]
        else:
            length = rng.choices(lengths, weights=mass)[0]
        node = table.sample(rng, depth, length)
        sentence = " ".join(node.words())
        if opts.unique and sentence in seen:
            continue
        seen.add(sentence)
        items.append(_item(table.compiled, node, f"{grammar.name}/d{depth}/{len(items):03d}", depth, "test", None))
    if len(items) < opts.per_depth:
        warnings.warn(f"{grammar.name}: only {len(items)} distinct sentences found at depth {depth} "
                      f"(asked for {opts.per_depth}); widen the length window or the lexicon", stacklevel=2)
    return items


def _control(grammar: Grammar, table: DepthTable, item: Item, opts: Options) -> Item:
    """A depth-0 item matched to ``item`` in word count and (for agreement) subject-verb distance."""
    rng = random.Random(f"{opts.seed}/{grammar.name}/control/{item.id}")
    n = item.metrics["n_words"]
    lengths = table.lengths(0)
    if not lengths:
        raise DepthkitError(f"grammar '{grammar.name}' has no depth-0 sentences for controls", path=grammar.path,
                            fix="controls need depth-0 sentences; drop --controls for this grammar")
    length = min(lengths, key=lambda m: (abs(m - n), m))
    want_sv = item.metrics.get("sv_distance")
    want_attractors = item.metrics.get("attractors", 0)
    # Rank candidates by |subject-verb distance difference|, then |attractor difference|;
    # ties go to the first drawn. Only the winner is turned into a full item.
    best: tuple[tuple[int, int], Node] | None = None
    since_better = 0
    for _ in range(CONTROL_CANDIDATES):
        node = table.sample(rng, 0, length)
        score = (0, 0)
        if want_sv is not None:
            facts = _agreement(grammar, node, _target_start(grammar, node), {})
            score = (abs(facts.get("sv_distance", 0) - want_sv), abs(facts.get("attractors", 0) - want_attractors))
        since_better += 1
        if best is None or score < best[0]:
            best, since_better = (score, node), 0
        if score == (0, 0) or since_better >= CONTROL_PATIENCE:
            break
    assert best is not None
    cand = _item(table.compiled, best[1], f"{item.id}/control", 0, "control", item.id)
    match = {"n_words": cand.metrics["n_words"] - n}
    if want_sv is not None:
        match["sv_distance"] = cand.metrics.get("sv_distance", 0) - want_sv
        match["attractors"] = cand.metrics.get("attractors", 0) - want_attractors
    return Item(**{**cand.to_dict(), "match": match})


def _target_start(grammar: Grammar, node: Node) -> int:
    return min(s for _, s, _ in marked_spans(node, grammar.pair.target))


def _span(spans_: list[tuple[int, int]]) -> list[int]:
    return [min(s for s, _ in spans_), max(e for _, e in spans_)]


def _item(compiled: CompiledGrammar, node: Node, item_id: str, depth: int, kind: str, control_of: str | None) -> Item:
    grammar = compiled.grammar
    words = node.words()
    tree_text = node.bracketed()
    metrics: dict[str, Any] = tree_metrics(Tree.fromstring(tree_text), grammar.embedding, grammar.clauses)
    if metrics["embedding_depth"] != depth:  # the sampler's guarantee; a failure here is a depthkit bug
        raise AssertionError(f"sampled depth {metrics['embedding_depth']} != requested {depth}: {tree_text}")
    bad_words = None
    regions: dict[str, Any] = {"target": None, "critical": None, "controller": None}
    pair_facts = None
    if grammar.pair is not None:
        bad_node, targets = make_bad(compiled, node)
        bad_words = bad_node.words()
        bad_spans = [(s, e) for _, s, e in marked_spans(bad_node, grammar.pair.target)]
        tg, tb = _span([(s, e) for _, s, e in targets]), _span(bad_spans)
        regions["target"] = {"good": tg, "bad": tb}
        if grammar.critical == "target-to-end":
            regions["critical"] = {"good": [tg[0], len(words)], "bad": [tb[0], len(bad_words)]}
        else:
            regions["critical"] = {"good": tg, "bad": tb}
        good_value = targets[0][0].ground.node.get(grammar.pair.flip)
        pair_facts = {"feature": grammar.pair.flip, "good_value": good_value,
                      "bad_value": dict(grammar.pair.values).get(good_value)}
        if grammar.controller:
            metrics.update(_agreement(grammar, node, tg[0], regions))
    return Item(id=item_id, grammar=grammar.name, construction=grammar.construction, kind=kind,
                control_of=control_of, depth=depth, good=" ".join(words),
                bad=" ".join(bad_words) if bad_words is not None else None, tree=tree_text, regions=regions,
                pair=pair_facts, frame=node.frame_id(), metrics=metrics)


def _agreement(grammar: Grammar, node: Node, target_start: int, regions: dict[str, Any]) -> dict[str, int]:
    """Subject-verb distance and attractor count for agreement grammars.

    Attractors are the words between the controller and the target whose category is in
    ``agreement.attractors`` (default: the controller's own category) and whose value of
    the flipped feature differs from the controller's.
    """
    if not grammar.controller or grammar.pair is None:
        return {}
    ctrl = marked_spans(node, grammar.controller, lowest=True)
    if not ctrl:
        return {}
    ctrl_node, s, e = ctrl[0]
    regions["controller"] = [s, e]
    head = e - 1
    preterminals = [(n, s2) for n, s2, e2 in spans(node) if e2 - s2 == 1 and all(isinstance(c, str) for c in n.children)]
    flip = grammar.pair.flip if grammar.pair else None
    head_pt = next((n for n, s2 in preterminals if s2 == head), None)
    value = ctrl_node.ground.node.get(flip) if flip else None
    attractors = 0
    if head_pt is not None and flip:
        for n, s2 in preterminals:
            if head < s2 < target_start and n.label in (grammar.attractor_categories or {head_pt.label}):
                v = n.ground.node.get(flip)
                if v is not None and v != value:
                    attractors += 1
    return {"sv_distance": target_start - head, "attractors": attractors}


def write_generated(out: str | Path, grammar: Grammar, items: list[Item], options: dict[str, Any], *,
                    warn_stale: bool = True) -> Path:
    """Write ``items.jsonl`` and the ``generate`` section of ``manifest.json`` into ``out``.

    With ``warn_stale``, say on stderr when new items replace old ones that were already
    verified or evaluated in that folder.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DepthkitError("--out exists and is not a folder", path=out, fix="give a folder path, e.g. generated/my-set")
    old_items = out / ITEMS_FILE
    previous = old_items.read_bytes() if old_items.exists() else None
    write_jsonl(old_items, (item.to_dict() for item in items))
    stale = [p.name for p in (out / "verification.jsonl", out / "runs") if p.exists()]
    if warn_stale and previous is not None and previous != old_items.read_bytes() and stale:
        log(f"warning: {out} had other items before; {' and '.join(stale)} there describe the old items: "
            "run `depthkit verify --force` and `depthkit eval --force` (or use a new --out)")
    by_depth: dict[int, int] = {}
    for item in items:
        if item.kind == "test":
            by_depth[item.depth] = by_depth.get(item.depth, 0) + 1
    update_manifest(out, "generate", {
        "grammar": grammar.name,
        "grammar_path": grammar.path,
        "grammar_sha256": grammar.sha256,
        "includes": list(grammar.includes),
        "construction": grammar.construction,
        "options": options,
        "n_items": len(items),
        "items_per_depth": {str(k): v for k, v in sorted(by_depth.items())},
        "depthkit_version": __version__,
        "versions": package_versions(("depthkit", "nltk", "numpy", "pyyaml")),
    })
    return out / ITEMS_FILE
