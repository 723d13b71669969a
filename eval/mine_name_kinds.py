"""Mine which kinds of thing names are called, from an arXiv metadata export (`rag/data/name_kinds.json`).

An abstract calls a name a kind of thing by the noun after it ("the PPO algorithm", "ImageNet dataset", "a NISQ
processor"), or by a list it puts it in ("optimizers such as Adam", "Gurobi and other solvers", "the solver
Gurobi"). Counted over many abstracts, these say what a name is ("Frank-Wolfe": a method or an algorithm, not a
solver), which tells a sentence that names something else from one that answers "which solver ...?".

A noun counts as a kind noun when many names precede it (at least `--min-names` distinct names), a fair share of its
uses follow a name (`--min-named` of them), it is a noun (after "the", "a", "this", ... at least `--min-det` of the
time), and not one that mostly relates another ("use", "family" or "subset" of, at most `--max-of` of the time
before "of"): "dataset", "solver", "algorithm", "encoder", not "achieve", "and" or "paper". The output lists those kind
nouns and, for every name (as written: "BLOOM" the model is not "Bloom" the filter) seen at least `--min-count`
times before one, how often before each.

    python eval/mine_name_kinds.py --corpus ../shared/corpora/arxiv-118k.jsonl.gz --out rag/data/name_kinds.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from rag.names import singular

# a name (acronym, letters with digits, a capitalised or hyphenated word; "GPT-3.5", "ViT-B/16") and the word after it
_PAIR = re.compile(r"(?<![\w\-./])([A-Za-z0-9](?:[\w\-]|[./](?=\w))*[A-Za-z0-9])(?=\s+([a-z]{3,}|[A-Z]{2,4}s?)\b)")
_WORD = re.compile(r"\b[a-z]{3,}\b|\b[A-Z]{2,4}s?\b")
_AFTER_DETERMINER = re.compile(r"\b(?:the|a|an|this|these|our|their|its|each)\s+([a-z]{3,}|[A-Z]{2,4}s?)\b")
_BEFORE_OF = re.compile(r"\b([a-z]{3,}|[A-Z]{2,4}s?)\s+of\b")
# a sentence's end before a capital, not an abbreviation's dot ("e.g. Gurobi", "et al. Gurobi", "vs. Gurobi")
_SENTENCE_START = re.compile(r"(?:^|(?<!e\.g)(?<!i\.e)(?<!\bvs)(?<!\bal)(?<!\bFig)(?<!\bEq)(?<!\bcf)[.?!:]\s+)$")
_NAME = r"[A-Za-z0-9][\w\-.]*[A-Za-z0-9]"
_NAMED = rf"{_NAME}(?:\s+[A-Z0-9][\w\-.]*[A-Za-z0-9])?"  # "Penn Treebank", not "Gurobi and"
# "optimizers such as Adam and SGD", "datasets, e.g., MNIST, CIFAR-10 or SVHN"
_SUCH_AS = re.compile(
    r"\b([A-Za-z][a-z]{2,})\s*,?\s*\(?(?:such as|including|like|e\.g\.,?|i\.e\.,?|namely)\s+"
    rf"({_NAMED}(?:\s*,\s*(?:and\s+|or\s+)?{_NAMED}|\s+(?:and|or)\s+{_NAMED}){{0,6}})"
)
_AND_OTHER = re.compile(rf"({_NAME})\s*,?\s*(?:and|or)\s+other\s+([a-z]{{3,}})")  # "Gurobi and other solvers"
_THE_KIND_NAME = re.compile(rf"\b(?:[Tt]he|[Aa]n?)\s+([a-z]{{3,}})\s+({_NAME})\b")  # "the optimizer Adam"
_LISTED = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def _is_name(token: str, before: str) -> bool:
    """Whether a token is written as a name: two capitals, letters with digits, or a capital not opening a
    sentence ("Gurobi", "Frank-Wolfe")."""
    letters = token.replace("-", "")
    if sum(c.isupper() for c in letters) >= 2:
        return True
    if any(c.isdigit() for c in letters) and any(c.isalpha() for c in letters):
        return True
    return token[:1].isupper() and not _SENTENCE_START.search(before)


def mine(
    texts: list[str], min_names: int, min_named: float, min_det: float, max_of: float, min_count: int
) -> dict[str, object]:
    """The kind nouns and each name's counts before them, from abstracts' texts."""
    pairs: Counter[tuple[str, str]] = Counter()
    uses: Counter[str] = Counter()
    after_det: Counter[str] = Counter()
    before_of: Counter[str] = Counter()
    is_a: Counter[tuple[str, str]] = Counter()
    for text in texts:
        uses.update(singular(w) for w in _WORD.findall(text))
        after_det.update(singular(w) for w in _AFTER_DETERMINER.findall(text))
        before_of.update(singular(w) for w in _BEFORE_OF.findall(text))
        for m in _PAIR.finditer(text):
            token, word = m.group(1), m.group(2)
            if _is_name(token, text[max(0, m.start() - 8) : m.start()]):
                pairs[(token, singular(word))] += 1
        is_a.update(_called(text))
    named: Counter[str] = Counter()
    distinct: Counter[str] = Counter()
    for (_, word), count in pairs.items():
        named[word] += count
        distinct[word] += 1
    heads = sorted(
        w
        for w in named
        if distinct[w] >= min_names
        and named[w] >= min_named * max(uses[w], 1)
        and after_det[w] >= min_det * max(uses[w], 1)
        and before_of[w] < max_of * max(uses[w], 1)
    )
    kept = set(heads)
    names: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for (name, word), count in (pairs + is_a).items():
        if word in kept:
            names[name][word] += count
    return {
        "heads": heads,
        "names": {n: dict(sorted(c.items())) for n, c in sorted(names.items()) if sum(c.values()) >= min_count},
    }


def _called(text: str) -> list[tuple[str, str]]:
    """(name, kind noun) for each name a text calls a thing of a kind: "solvers such as Gurobi", "Gurobi and other
    solvers", "the solver Gurobi"."""
    found = []
    for m in _SUCH_AS.finditer(text):
        kind = singular(m.group(1))
        found += [(n.strip(), kind) for n in _LISTED.split(m.group(2)) if n.strip() and _is_name(n, "x ")]
    others = _AND_OTHER.finditer(text)
    found += [(m.group(1), singular(m.group(2))) for m in others if _is_name(m.group(1), "x ")]
    found += [
        (m.group(2), singular(m.group(1)))
        for m in _THE_KIND_NAME.finditer(text)
        if m.group(2)[:1].isupper() or m.group(2)[:1].isdigit()
    ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpora/arxiv-118k.jsonl.gz"))
    parser.add_argument("--out", type=Path, default=Path("rag/data/name_kinds.json"))
    parser.add_argument("--min-names", type=int, default=20)
    parser.add_argument("--min-named", type=float, default=0.04)
    parser.add_argument("--min-det", type=float, default=0.03)
    parser.add_argument("--max-of", type=float, default=0.25)
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args()
    opener = gzip.open if args.corpus.suffix == ".gz" else open
    texts = []
    with opener(args.corpus, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            texts.append(f"{record.get('title') or ''}. {record.get('text') or record.get('abstract') or ''}")
    found = mine(texts, args.min_names, args.min_named, args.min_det, args.max_of, args.min_count)
    args.out.write_text(json.dumps(found, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(found['heads'])} kind nouns, {len(found['names'])} names, from {len(texts)} abstracts -> {args.out}")


if __name__ == "__main__":
    main()
