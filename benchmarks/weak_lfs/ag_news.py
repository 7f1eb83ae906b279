"""Keyword and pattern labeling functions for AG News (World, Sports, Business, Sci/Tech).

Written from general knowledge of news vocabulary before any run, without reading the
test split; the benchmark reports each function's coverage and accuracy on the
training split. Usage: labelwise weak benchmarks/weak_lfs/ag_news.py train.csv -o out/
"""

import re

from labelwise.weak import ABSTAIN, keyword_function, labeling_function

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]


world_conflict = keyword_function(
    "world_conflict",
    "World",
    [
        "killed",
        "bomb\\w*",
        "troops",
        "militants?",
        "rebels?",
        "soldiers?",
        "insurgents?",
        "ceasefire",
        "hostages?",
        "suicide",
        "gunmen",
        "army",
    ],
)
world_places = keyword_function(
    "world_places",
    "World",
    [
        "iraq\\w*",
        "baghdad",
        "afghan\\w*",
        "palestinian\\w*",
        "israel\\w*",
        "gaza",
        "sudan",
        "darfur",
        "pakistan\\w*",
        "kashmir",
        "chechen\\w*",
        "ukrain\\w*",
        "iran\\w*",
    ],
)
world_politics = keyword_function(
    "world_politics",
    "World",
    [
        "prime minister",
        "parliament",
        "foreign minister",
        "president \\w+ said",
        "embassy",
        "united nations",
        "u\\.n\\.",
        "diplomat\\w*",
        "opposition",
        "referendum",
        "nuclear",
    ],
)
sports_games = keyword_function(
    "sports_games",
    "Sports",
    [
        "baseball",
        "basketball",
        "football",
        "soccer",
        "tennis",
        "golf",
        "cricket",
        "rugby",
        "hockey",
        "nba",
        "nfl",
        "nhl",
        "olympics?",
        "olympic",
        "nascar",
        "formula one",
    ],
)
sports_play = keyword_function(
    "sports_play",
    "Sports",
    [
        "coach",
        "quarterback",
        "touchdown",
        "innings?",
        "playoffs?",
        "championship",
        "tournament",
        "season",
        "league",
        "cup",
        "medal",
        "striker",
        "unbeaten",
        "rookie",
        "homer",
        "seeded",
    ],
)
sports_teams = keyword_function(
    "sports_teams",
    "Sports",
    [
        "yankees",
        "red sox",
        "lakers",
        "patriots",
        "manchester united",
        "arsenal",
        "chelsea",
        "real madrid",
        "cardinals",
        "astros",
        "braves",
        "dodgers",
        "mets",
        "cubs",
    ],
)
business_markets = keyword_function(
    "business_markets",
    "Business",
    [
        "stocks?",
        "shares",
        "investors?",
        "wall street",
        "nasdaq",
        "dow",
        "s&p",
        "bonds?",
        "treasur\\w+",
        "dollar",
        "euro",
        "yen",
        "trading",
    ],
)
business_results = keyword_function(
    "business_results",
    "Business",
    [
        "profits?",
        "earnings",
        "revenues?",
        "quarterly",
        "sales",
        "forecast",
        "analysts?",
        "fiscal",
        "percent",
    ],
)
business_economy = keyword_function(
    "business_economy",
    "Business",
    [
        "economy",
        "economic",
        "inflation",
        "interest rates?",
        "federal reserve",
        "oil prices?",
        "crude",
        "opec",
        "gdp",
        "jobless",
        "unemployment",
        "retail\\w*",
    ],
)
business_corporate = keyword_function(
    "business_corporate",
    "Business",
    [
        "merger",
        "acquisitions?",
        "takeover",
        "bankruptcy",
        "ceo",
        "chief executive",
        "airlines?",
        "insurer",
        "retailer",
        "wal-mart",
        "billion deal",
        "buyout",
    ],
)
tech_computing = keyword_function(
    "tech_computing",
    "Sci/Tech",
    [
        "software",
        "microsoft",
        "linux",
        "windows",
        "computers?",
        "internet",
        "web",
        "online",
        "google",
        "intel",
        "ibm",
        "apple",
        "ipod",
        "browser",
        "search engine",
        "open source",
    ],
)
tech_devices = keyword_function(
    "tech_devices",
    "Sci/Tech",
    [
        "wireless",
        "broadband",
        "mobile phones?",
        "cell phones?",
        "chips?",
        "processor",
        "handheld",
        "digital",
        "wi-?fi",
        "playstation",
        "xbox",
        "nintendo",
        "video games?",
    ],
)
tech_security = keyword_function(
    "tech_security",
    "Sci/Tech",
    [
        "virus",
        "worm",
        "spam",
        "spyware",
        "hackers?",
        "phishing",
        "security hole",
        "vulnerabilit\\w+",
        "patch",
    ],
)
science = keyword_function(
    "science",
    "Sci/Tech",
    [
        "nasa",
        "space",
        "scientists?",
        "research(?:ers)?",
        "study",
        "planet",
        "mars",
        "species",
        "telescope",
        "astronomers?",
        "genetic",
        "climate",
        "fossil",
        "spacecraft",
        "orbit",
    ],
)

_SCORE = re.compile(r"\b\d{1,3}-\d{1,3}\b")
_MONEY = re.compile(r"\$\s?\d+(?:\.\d+)?\s?(?:billion|million)", re.IGNORECASE)


@labeling_function
def score_pattern(x):
    """A game score such as 3-1 or 24-17 (also matches some vote counts)."""
    return "Sports" if _SCORE.search(x.text) else ABSTAIN


@labeling_function
def money_pattern(x):
    """An amount such as $2.5 billion."""
    return "Business" if _MONEY.search(x.text) else ABSTAIN
