#!/usr/bin/env python3
"""The peer of `modelgate::docs::read::read` on model cards: huggingface_hub.

    python bench/docs/peer.py [--repeat N] [--corpus-repeat N] [--criterion DIR] [--json OUT]

Per model-card fixture of tests/fixtures/docs/ (the ones `benches/docs.rs` reads), and
over a corpus of 500 cards (copies of those four in a temporary folder, read one after
another, named as the Rust bench names them), the median wall time in µs
(time.perf_counter_ns) of:

- Hugging Face README.md: `huggingface_hub.ModelCard.load(path)`: the file read, the YAML
  front matter found by a regex and parsed with `yaml.safe_load`, `ModelCardData` built
  from it, whose constructor runs `model_index_to_eval_results` on the `model-index` where
  there is one (so the eval results are parsed once, as in use; `card.data.eval_results` is
  checked, not computed a second time). The Markdown body is kept as one string: no
  sections, no headings, no placeholders, no dates.
- Model Card Toolkit JSON: `json.load` (huggingface_hub has no reader for MCT).

huggingface_hub calls `yaml.safe_load`, PyYAML's pure-Python loader, which is nearly all of
its time on a card with a model-index. A second column does the same with `yaml.safe_load`
pointed at PyYAML's libyaml loader (`yaml.CSafeLoader`, when PyYAML was built with it): what
a user who patches that in gets; huggingface_hub itself does not.

With `--criterion DIR` (criterion's output folder, `$CARGO_TARGET_DIR/criterion`), the
medians of `cargo bench --bench docs` are read from it and the table shows both sides and
the ratio huggingface_hub / modelgate.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import huggingface_hub
import yaml
from huggingface_hub import ModelCard

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "docs"
CARDS = ["hf-template-untouched.md", "hf-filled.md", "hf-trainer-autogen.md", "mct.json"]
CORPUS = 500


def read_card(path: Path):
    if path.suffix == ".json":
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    card = ModelCard.load(path)
    # ModelCard.load has already run model_index_to_eval_results on the model-index.
    return card.data.eval_results


class CLoader:
    """`yaml.safe_load` through libyaml (CSafeLoader) while inside the block."""

    def __enter__(self):
        self.saved = yaml.safe_load
        yaml.safe_load = lambda stream: yaml.load(stream, Loader=yaml.CSafeLoader)

    def __exit__(self, *exc):
        yaml.safe_load = self.saved


def median_us(function, repeat: int) -> float:
    for _ in range(max(repeat // 10, 3)):
        function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1e3


def criterion_medians(folder: Path) -> dict:
    """{(group, function): median µs} from criterion's estimates."""
    medians = {}
    for benchmark in folder.glob("*/*/new/benchmark.json"):
        described = json.loads(benchmark.read_text())
        estimates = json.loads((benchmark.parent / "estimates.json").read_text())
        medians[(described["group_id"], described["function_id"])] = estimates["median"]["point_estimate"] / 1e3
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000, help="timed reads per fixture")
    parser.add_argument("--corpus-repeat", type=int, default=20, help="timed reads of the corpus")
    parser.add_argument("--criterion", type=Path, help="criterion's output folder")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    # The fixtures give what modelgate's reader finds in them (eval results, MCT sections).
    with_c = bool(getattr(yaml, "__with_libyaml__", False))
    results, results_c = {}, {}
    for name in CARDS:
        path = FIXTURES / name
        read = read_card(path)
        if name == "hf-template-untouched.md":
            assert read is None, "the untouched template has no model-index"
        elif name.endswith(".md"):
            assert read, f"{name}: eval results expected"
        results[name] = median_us(lambda path=path: read_card(path), args.repeat)
        if with_c:
            with CLoader():
                assert read_card(path) == read
                results_c[name] = median_us(lambda path=path: read_card(path), args.repeat)

    folder = Path(tempfile.mkdtemp(prefix="modelgate-docs-peer-"))
    try:
        paths = []
        for index in range(CORPUS):
            name = CARDS[index % len(CARDS)]
            stem, extension = name.rsplit(".", 1)
            path = folder / f"{index:03}-{stem}.{extension}"
            shutil.copyfile(FIXTURES / name, path)
            paths.append(path)

        def corpus():
            for path in paths:
                read_card(path)

        results["500-cards"] = median_us(corpus, args.corpus_repeat)
        if with_c:
            with CLoader():
                results_c["500-cards"] = median_us(corpus, args.corpus_repeat)
    finally:
        shutil.rmtree(folder)

    ours = criterion_medians(args.criterion) if args.criterion else {}
    keys = {name: ("read", name) for name in CARDS} | {"500-cards": ("corpus", "500-cards")}
    print(
        f"huggingface_hub {huggingface_hub.__version__}, PyYAML {yaml.__version__} "
        f"(libyaml: {with_c}), Python {sys.version.split()[0]}; "
        f"medians, µs ({args.repeat} reads per fixture, {args.corpus_repeat} of the corpus)"
    )
    print()
    print("| input | huggingface_hub | huggingface_hub, CSafeLoader | modelgate | huggingface_hub / modelgate |")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for name, peer in results.items():
        mine = ours.get(keys[name])
        peer_c = results_c.get(name)
        rows[name] = {"huggingface_hub_us": peer, "huggingface_hub_csafeloader_us": peer_c, "modelgate_us": mine}
        label = name if name in CARDS else f"{CORPUS} cards, one after another"
        cells = [f"{peer:,.1f}", "" if peer_c is None else f"{peer_c:,.1f}"]
        cells += ["", ""] if mine is None else [f"{mine:,.1f}", f"{peer / mine:.1f}x"]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
