"""Helpers for the `depthkit verify` tests: small generated folders and a tiny benepar model.

The tiny benepar model is built with benepar 0.2.0's own classes (char-LSTM, no pretrained
encoder) and saved in the single-file checkpoint format `benepar.Parser(path)` loads. It
exists to exercise the real loading and parsing path: trained (if at all) on the generator's
own trees, it verifies nothing linguistically.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

DATA = Path(__file__).parent / "data" / "verify"
TINY_GRAMMAR = DATA / "tiny-rc.yaml"
AMBIGUOUS_GRAMMAR = DATA / "tiny-pp.yaml"


def make_generated(folder: Path, depths: str = "0-2", per_depth: int = 4, seed: int = 1, controls: bool = True,
                   grammar: Path = TINY_GRAMMAR) -> Path:
    """A folder as `depthkit generate` writes it (items.jsonl + manifest.json)."""
    import depthkit
    from depthkit.generation import write_generated

    g = depthkit.load_grammar(grammar)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny lexicon has few distinct depth-0 sentences
        items = depthkit.generate(g, depths=depths, per_depth=per_depth, seed=seed, controls=controls)
    write_generated(folder, g, items, {"depths": depths, "per_depth": per_depth, "seed": seed})
    return folder


def make_item(good: str, tree: str, bad: str | None = None, depth: int = 0, target: list[int] | None = None,
              controller: list[int] | None = None, item_id: str = "x"):
    """A schema.Item with the fields the checks read; the rest as `depthkit generate` would leave them."""
    from depthkit.schema import Item

    return Item.from_dict({
        "id": item_id, "grammar": "tiny", "construction": None, "kind": "test", "control_of": None, "depth": depth,
        "good": good, "bad": bad, "tree": tree,
        "regions": {"target": {"good": target, "bad": target} if target else None, "controller": controller},
        "pair": None, "frame": "test", "metrics": {},
    })


def read_records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "verification.jsonl").read_text().splitlines() if line.strip()]


def ptb_trees(grammar_path: Path = TINY_GRAMMAR, depths: str = "0-3", per_depth: int = 20):
    """The generator's intended trees with PTB labels, wrapped in TOP as benepar's treebanks are."""
    import nltk

    import depthkit
    from depthkit.verify.intended import relabel

    g = depthkit.load_grammar(grammar_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        items = depthkit.generate(g, depths=depths, per_depth=per_depth, seed=7)
    return [nltk.Tree("TOP", [relabel(nltk.Tree.fromstring(i.tree), g)]) for i in items]


@dataclasses.dataclass
class _Example:
    """The training-example interface benepar's ChartParser.encode expects."""

    words: list
    space_after: list
    tree: object

    def leaves(self):
        return self.words

    def pos(self):
        return self.tree.pos()


def build_tiny_benepar(path: Path, trees=None, encoder_max_len: int = 40, epochs: int = 0, seed: int = 0) -> Path:
    """Build (and optionally train for a few epochs) a tiny char-LSTM benepar model; save it to ``path``.

    ``encoder_max_len`` bounds the sentence length the model accepts (2 positions go to the
    start/stop tokens): longer sentences make benepar raise, like the 512-subword limit of the
    released models.
    """
    import torch
    from benepar import char_lstm, decode_chart, nkutil, parse_chart

    trees = trees if trees is not None else ptb_trees()
    torch.manual_seed(seed)
    hparams = nkutil.HParams(
        use_chars_lstm=True, use_pretrained=False, pretrained_model="none", use_encoder=True,
        d_model=32, d_char_emb=16, char_lstm_input_dropout=0.0, morpho_emb_dropout=0.0,
        encoder_max_len=encoder_max_len, num_heads=2, d_kv=8, d_ff=32, relu_dropout=0.0, residual_dropout=0.0,
        attention_dropout=0.0, num_layers=1, d_label_hidden=32, predict_tags=False, d_tag_hidden=16,
        tag_loss_scale=1.0, force_root_constituent=decode_chart.ChartDecoder.infer_force_root_constituent(trees),
    )
    model = parse_chart.ChartParser(
        tag_vocab={tag: i for i, tag in enumerate(sorted({t for tree in trees for _, t in tree.pos()}))},
        label_vocab=decode_chart.ChartDecoder.build_vocab(trees),
        char_vocab=char_lstm.RetokenizerForCharLSTM.build_vocab([t.leaves() for t in trees]),
        hparams=hparams,
    )
    if epochs:
        examples = [_Example(t.leaves(), [True] * (len(t.leaves()) - 1) + [False], t) for t in trees]
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        model.train()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(epochs):
                for start in range(0, len(examples), 32):
                    optimizer.zero_grad()
                    for _, batch in model.encode_and_collate_subbatches(examples[start:start + 32], 2000):
                        model.compute_loss(batch).backward()
                    optimizer.step()
        model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config, "state_dict": model.state_dict()}, path)
    return path
