"""Pattern labeling functions for TREC question classification (coarse classes).

Written from the published TREC taxonomy (Li & Roth 2002: ABBR abbreviation, DESC
description/definition/reason/manner, ENTY entity, HUM human/group, LOC location, NUM
number/date) and general knowledge of English question forms, without reading the test
split. Usage: labelwise weak benchmarks/weak_lfs/trec.py train.csv -o out/
"""

from labelwise.weak import pattern_function

CLASSES = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


abbr_stand_for = pattern_function("abbr_stand_for", "ABBR", r"\bstand for\b|\babbreviat|\bacronym")
abbr_caps = pattern_function(
    "abbr_caps", "ABBR", r"^what (?:is|does) (?:an? |the )?[A-Z]{2,6}\b\s*(?:\?|mean|stand)"
)
desc_why = pattern_function("desc_why", "DESC", r"^why\b")
desc_how_do = pattern_function(
    "desc_how_do", "DESC", r"^how (?:do|does|did|can|could|is|are|was|were|should|would|to)\b"
)
desc_definition = pattern_function(
    "desc_definition",
    "DESC",
    r"^what (?:is|are|was) (?:an? |the )?[\w-]+(?: [\w-]+)? \?$|\bmean(?:ing|s)?\b|\bdefinition\b|^define\b|^describe\b",  # noqa: E501
)
desc_origin = pattern_function(
    "desc_origin", "DESC", r"\borigin of\b|\bwhat causes\b|\bwhat happens\b|\bdifference between\b"
)
enty_kind = pattern_function("enty_kind", "ENTY", r"^what (?:kind|type|sort|breed|brand) of\b")
enty_things = pattern_function(
    "enty_things",
    "ENTY",
    r"^(?:what|which) (?:color|colour|animal|bird|fish|dog|sport|game|book|novel|film|movie|instrument|language|disease|plant|flower|food|drink|currency|religion|car|song|award|prize|product|substance|element)s?\b",  # noqa: E501
)
enty_name_thing = pattern_function(
    "enty_name_thing", "ENTY", r"^name (?:a|an|the)? ?\w+ (?:that|which)\b"
)
hum_who = pattern_function(
    "hum_who", "HUM", r"^who\b|^whom\b|^whose\b|\bwho (?:is|was|were|invented|wrote|discovered)\b"
)
hum_what_person = pattern_function(
    "hum_what_person",
    "HUM",
    r"^(?:what|which) (?:person|man|woman|actor|actress|president|king|queen|author|writer|singer|artist|scientist|company|team|group|organization|band|player|general)\b",  # noqa: E501
)
loc_where = pattern_function("loc_where", "LOC", r"^where\b|\bwhere (?:is|was|are|can|do|did)\b")
loc_what_place = pattern_function(
    "loc_what_place",
    "LOC",
    r"^(?:what|which|in what|in which) (?:country|countries|city|cities|state|states|continent|river|mountain|island|ocean|sea|lake|capital|province|county|nation|town|place|desert|region)\b",  # noqa: E501
)
num_how = pattern_function(
    "num_how",
    "NUM",
    r"^how (?:many|much|long|old|far|tall|big|large|fast|hot|cold|high|deep|wide|heavy|often)\b",
)
num_when = pattern_function(
    "num_when", "NUM", r"^when\b|\bwhat year\b|\bwhat date\b|\bwhat day\b|\bwhat century\b"
)
num_quantity = pattern_function(
    "num_quantity",
    "NUM",
    r"\b(?:population|percentage|percent|temperature|distance|speed|weight|size|number of|how much|cost|price|average|area|height|length|age)\b",  # noqa: E501
)
