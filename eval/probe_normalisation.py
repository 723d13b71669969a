"""Issue 18 item 2 probe: people-style wordings (an acronym's expansion, a number in words, a compound) checked
by the sufficiency rules on their gold paper alone (no retrieval), over an index of the bundled corpus.

    python eval/probe_normalisation.py DATA_DIR    # an index built by `bench_answers.py --data-dir DATA_DIR`

Prints one JSON line per question: the question, the verdict expected, the verdict given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag.index.manifest import Manifest
from rag.index.terms import CorpusTerms
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker

ROT, S2S, LPR = "049c22606db15160", "b50fba88202d6dfe", "f6538b79a7d2415a"
TTS, MEM = "06f2491c64fa34b1", "ac50228fa09aadc0"
PROBES = [
    (
        ROT,
        "What Mean Average Precision does the rotation-prediction AlexNet reach on PASCAL VOC 2007 detection?",
        "answered",
    ),
    (
        ROT,
        "What mean average precision does the rotation-prediction AlexNet reach on PASCAL VOC 2007 detection?",
        "answered",
    ),
    (S2S, "What BLEU score does the Long Short-Term Memory model get on WMT'14 English to French?", "answered"),
    (S2S, "What BLEU score does the long short-term memory network get on WMT'14 English to French?", "answered"),
    (S2S, "What BLEU score does the seq2seq LSTM get on WMT'14 English to French?", "answered"),
    (S2S, "What BLEU score does the Deep Neural Network get on WMT'14 English to French?", "answered"),
    (LPR, "Does LPRNet recognise a Chinese licence plate in three milliseconds on a GTX 1080?", "answered"),
    (LPR, "Does LPRNet recognise a Chinese licence plate in five milliseconds on a GTX 1080?", "partial"),
    (LPR, "Does LPRNet reach ninety-five percent recognition accuracy on Chinese license plates?", "answered"),
    (LPR, "Does LPRNet reach 95 per cent recognition accuracy on Chinese license plates?", "answered"),
    (TTS, "Which problem of Recurrent Neural Networks does the Transformer TTS model address?", "answered"),
    (TTS, "Does Transformer TTS replace the RNN structures of Tacotron2?", "answered"),
    (TTS, "How much faster does the text to speech Transformer train than Tacotron2?", "answered"),
    (
        MEM,
        "On Penn TreeBank and Text8, does the end-to-end memory network match Long Short-Term Memory networks?",
        "answered",
    ),
    (MEM, "On Penn TreeBank and Text8, does the end-to-end memory network match recurrent networks?", "answered"),
]


def main() -> None:
    data_dir = Path(sys.argv[1])
    manifest = Manifest(data_dir / "manifest.sqlite3")
    checker = SufficiencyChecker(CorpusTerms(data_dir / "bm25"), partial_coverage=0.5, abstain_coverage=0.2)
    right = 0
    for pid, question, expected in PROBES:
        paper = manifest.get(pid)
        assert paper is not None, f"{data_dir}: paper {pid} is not indexed"
        verdict = checker.check(analyze(question), [paper.abstract], [paper])
        right += verdict.status == expected
        print(json.dumps([question, expected, verdict.status, verdict.missing]))
    print(f"{right}/{len(PROBES)} verdicts as expected")


if __name__ == "__main__":
    main()
