"""Evidence scoring: merging near-duplicate sentences (vectorized) keeps the rule it implements."""

from __future__ import annotations

import random

from assistant.evidence import ScoredSentence, _mostly, merge_duplicates, term_set
from assistant.types import Sentence


def merge_pair_by_pair(ranked: list[ScoredSentence]) -> list[ScoredSentence]:
    """The rule, one set intersection per pair: a sentence most of whose words (or most of a kept one's)
    are shared with an earlier kept one is dropped; an earlier telling in the same document replaces it."""
    kept: list[tuple[ScoredSentence, frozenset[str]]] = []
    for s in ranked:
        words = term_set(s.sentence.text)
        for i, (k, kw) in enumerate(kept):
            shared = len(words & kw)
            if _mostly(shared, words) or _mostly(shared, kw):
                earlier = k.sentence.doc_id == s.sentence.doc_id and s.sentence.start < k.sentence.start
                if earlier and _mostly(shared, kw):
                    typed = k.typed or s.typed
                    merged = ScoredSentence(s.sentence, k.score, k.similarity, k.coverage, typed, k.support)
                    kept[i] = (merged, kw)
                break
        else:
            kept.append((s, words))
    return [k for k, _ in kept]


def test_merge_duplicates_matches_the_pair_by_pair_rule() -> None:
    rng = random.Random(7)
    vocabulary = ["ferry", "storm", "harbor", "island", "mayor", "council", "vote", "museum", "harvest", "not"]
    dropped = replaced = 0
    for _ in range(200):
        ranked = []
        for n in range(rng.randint(0, 40)):
            text = " ".join(rng.sample(vocabulary, rng.randint(0, 6))) + "."
            sentence = Sentence(f"doc{rng.randint(0, 3)}", "src", rng.randint(0, 500), 600, text)
            ranked.append(ScoredSentence(sentence, 1.0 - n / 100, 0.5, 0.5, rng.random() < 0.3, 0.9))
        assert merge_duplicates(ranked) == merge_pair_by_pair(ranked)
        dropped += len(ranked) - len(merge_duplicates(ranked))
        replaced += sum(1 for k in merge_duplicates(ranked) if k not in ranked)
    # The random sets exercise both branches of the rule.
    assert dropped > 100 and replaced > 10
