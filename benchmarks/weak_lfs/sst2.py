"""Keyword and pattern labeling functions for SST-2 (sentence sentiment: negative, positive).

Written from general knowledge of English opinion words (the kind listed in public
sentiment lexicons), before any run and without reading the test split.
Usage: labelwise weak benchmarks/weak_lfs/sst2.py train.csv -o out/
"""

import re

from labelwise.weak import ABSTAIN, labeling_function

CLASSES = ["negative", "positive"]


def _keywords(name, cls, words):
    pattern = re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)

    @labeling_function(name=name)
    def lf(x):
        return cls if pattern.search(x.text) else ABSTAIN

    return lf


pos_quality = _keywords(
    "pos_quality",
    "positive",
    [
        "great",
        "excellent",
        "wonderful",
        "superb",
        "brilliant",
        "masterpiece",
        "terrific",
        "outstanding",
        "beautiful(?:ly)?",
        "gorgeous",
        "remarkable",
        "stunning",
    ],
)
pos_enjoy = _keywords(
    "pos_enjoy",
    "positive",
    [
        "enjoy\\w*",
        "delight\\w*",
        "fun",
        "funny",
        "charming",
        "entertaining",
        "engaging",
        "moving",
        "touching",
        "heartfelt",
        "witty",
        "hilarious",
        "pleasure",
    ],
)
pos_praise = _keywords(
    "pos_praise",
    "positive",
    [
        "best",
        "finest",
        "love(?:ly|d)?",
        "smart",
        "clever",
        "fresh",
        "intelligent",
        "powerful",
        "compelling",
        "memorable",
        "solid",
        "well-made",
        "worth",
    ],
)
neg_quality = _keywords(
    "neg_quality",
    "negative",
    [
        "bad",
        "awful",
        "terrible",
        "horrible",
        "worst",
        "mess",
        "failure",
        "fails?",
        "poor(?:ly)?",
        "lousy",
        "junk",
        "garbage",
        "disaster",
    ],
)
neg_bore = _keywords(
    "neg_bore",
    "negative",
    [
        "bor(?:ing|ed|edom)",
        "dull",
        "tedious",
        "tiresome",
        "flat",
        "lifeless",
        "slow",
        "plodding",
        "bland",
        "forgettable",
        "predictable",
        "pointless",
    ],
)
neg_criticism = _keywords(
    "neg_criticism",
    "negative",
    [
        "stupid",
        "dumb",
        "silly",
        "lame",
        "pretentious",
        "annoying",
        "unfunny",
        "clich(?:e|é)d?",
        "contrived",
        "waste",
        "mediocre",
        "incoherent",
        "shallow",
        "sloppy",
    ],
)
_NEGATED_GOOD = re.compile(
    r"\b(?:not|n't|never|hardly)\s+(?:\w+\s+)?(?:good|great|funny|interesting|worth)\b", re.I
)
_TOO = re.compile(r"\btoo\s+(?:long|much|little|many|slow|silly|obvious)\b", re.I)


@labeling_function
def negated_praise(x):
    """'not very good', "isn't funny"."""
    return "negative" if _NEGATED_GOOD.search(x.text) else ABSTAIN


@labeling_function
def too_much(x):
    """'too long', 'too slow'."""
    return "negative" if _TOO.search(x.text) else ABSTAIN
