"""Pattern labeling functions for TREC question classification (coarse classes).

Written from the published TREC taxonomy (Li & Roth 2002: ABBR abbreviation, DESC
description/definition/reason/manner, ENTY entity, HUM human/group, LOC location, NUM
number/date) and general knowledge of English question forms, without reading the test
split. Usage: labelwise weak benchmarks/weak_lfs/trec.py train.csv -o out/
"""

import re

from labelwise.weak import ABSTAIN, labeling_function

CLASSES = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


def _pattern(name, cls, regex):
    pattern = re.compile(regex, re.IGNORECASE)

    @labeling_function(name=name)
    def lf(x):
        return cls if pattern.search(x.text) else ABSTAIN

    return lf


abbr_stand_for = _pattern("abbr_stand_for", "ABBR", r"\bstand for\b|\babbreviat|\bacronym")
abbr_caps = _pattern(
    "abbr_caps", "ABBR", r"^what (?:is|does) (?:an? |the )?[A-Z]{2,6}\b\s*(?:\?|mean|stand)"
)
desc_why = _pattern("desc_why", "DESC", r"^why\b")
desc_how_do = _pattern(
    "desc_how_do", "DESC", r"^how (?:do|does|did|can|could|is|are|was|were|should|would|to)\b"
)
desc_definition = _pattern(
    "desc_definition",
    "DESC",
    r"^what (?:is|are|was) (?:an? |the )?[\w-]+(?: [\w-]+)? \?$|\bmean(?:ing|s)?\b|\bdefinition\b|^define\b|^describe\b",  # noqa: E501
)
desc_origin = _pattern(
    "desc_origin", "DESC", r"\borigin of\b|\bwhat causes\b|\bwhat happens\b|\bdifference between\b"
)
enty_kind = _pattern("enty_kind", "ENTY", r"^what (?:kind|type|sort|breed|brand) of\b")
enty_things = _pattern(
    "enty_things",
    "ENTY",
    r"^(?:what|which) (?:color|colour|animal|bird|fish|dog|sport|game|book|novel|film|movie|instrument|language|disease|plant|flower|food|drink|currency|religion|car|song|award|prize|product|substance|element)s?\b",  # noqa: E501
)
enty_name_thing = _pattern("enty_name_thing", "ENTY", r"^name (?:a|an|the)? ?\w+ (?:that|which)\b")
hum_who = _pattern(
    "hum_who", "HUM", r"^who\b|^whom\b|^whose\b|\bwho (?:is|was|were|invented|wrote|discovered)\b"
)
hum_what_person = _pattern(
    "hum_what_person",
    "HUM",
    r"^(?:what|which) (?:person|man|woman|actor|actress|president|king|queen|author|writer|singer|artist|scientist|company|team|group|organization|band|player|general)\b",  # noqa: E501
)
loc_where = _pattern("loc_where", "LOC", r"^where\b|\bwhere (?:is|was|are|can|do|did)\b")
loc_what_place = _pattern(
    "loc_what_place",
    "LOC",
    r"^(?:what|which|in what|in which) (?:country|countries|city|cities|state|states|continent|river|mountain|island|ocean|sea|lake|capital|province|county|nation|town|place|desert|region)\b",  # noqa: E501
)
num_how = _pattern(
    "num_how",
    "NUM",
    r"^how (?:many|much|long|old|far|tall|big|large|fast|hot|cold|high|deep|wide|heavy|often)\b",
)
num_when = _pattern(
    "num_when", "NUM", r"^when\b|\bwhat year\b|\bwhat date\b|\bwhat day\b|\bwhat century\b"
)
num_quantity = _pattern(
    "num_quantity",
    "NUM",
    r"\b(?:population|percentage|percent|temperature|distance|speed|weight|size|number of|how much|cost|price|average|area|height|length|age)\b",  # noqa: E501
)
