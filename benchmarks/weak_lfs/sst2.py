"""Keyword and pattern labeling functions for SST-2 (sentence sentiment: negative, positive).

Written from general knowledge of English opinion words (the kind listed in public
sentiment lexicons), before any run and without reading the test split.
Usage: labelwise weak benchmarks/weak_lfs/sst2.py train.csv -o out/
"""

import re

from labelwise.weak import ABSTAIN, keyword_function, labeling_function

CLASSES = ["negative", "positive"]


pos_quality = keyword_function(
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
pos_enjoy = keyword_function(
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
pos_praise = keyword_function(
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
neg_quality = keyword_function(
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
neg_bore = keyword_function(
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
neg_criticism = keyword_function(
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
