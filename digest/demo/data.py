"""The demo world's data: topics, outlets, subscribers and the editors' letters.

Plain values only; digest.demo.world turns them into rows and digest.demo.outlets
serves the files under demo_data/site/ that stand in for the outlets.
"""

from __future__ import annotations

from dataclasses import dataclass

from articles.models import Source

# Printed by the command and used only when DEBUG is on (a local demo).
DEMO_PASSWORD = "digest-demo"  # noqa: S105
ADMIN_USERNAME = "editor"


TOPICS: list[tuple[str, str, str, list[str]]] = [
    (
        "Artificial intelligence",
        "artificial-intelligence",
        "Rules for AI models and systems, AI safety, and AI in public services.",
        [
            "artificial intelligence",
            "AI",
            "machine learning",
            "general-purpose model",
            "language model",
            "chatbot",
            "algorithm",
        ],
    ),
    (
        "E-commerce and trade",
        "e-commerce-and-trade",
        "Online marketplaces, digital trade agreements, customs and data flows in trade.",
        [
            "e-commerce",
            "online marketplace",
            "digital trade",
            "trade agreement",
            "customs",
            "tariff",
            "e-invoicing",
        ],
    ),
    (
        "Competition",
        "competition",
        "Antitrust cases, merger control and rules for gatekeeper platforms.",
        [
            "antitrust",
            "competition authority",
            "competition",
            "dominant position",
            "gatekeeper",
            "gatekeepers",
            "merger",
            "self-preferencing",
        ],
    ),
    (
        "Content policy",
        "content-policy",
        "Content moderation, disinformation, platform transparency and online speech.",
        [
            "content moderation",
            "disinformation",
            "takedown",
            "transparency report",
            "code of practice",
            "hate speech",
            "online platform",
        ],
    ),
    (
        "Child safety online",
        "child-safety-online",
        "Age assurance, design codes and protection of children on online services.",
        [
            "child safety",
            "children",
            "minors",
            "age verification",
            "age assurance",
            "age checks",
            "parental consent",
        ],
    ),
    (
        "Data protection and privacy",
        "data-protection",
        "Personal data, privacy regulators and surveillance.",
        [
            "data protection",
            "privacy",
            "personal data",
            "data protection authority",
            "surveillance",
            "biometric",
        ],
    ),
    (
        "Cybersecurity",
        "cybersecurity",
        "Cyberattacks, ransomware, vulnerabilities and cybercrime cooperation.",
        [
            "cybersecurity",
            "ransomware",
            "cyberattack",
            "vulnerability",
            "cybercrime",
            "incident response",
        ],
    ),
    (
        "Cryptocurrencies and digital finance",
        "digital-finance",
        "Crypto-assets, stablecoins, central bank digital currencies and payments.",
        [
            "cryptocurrency",
            "crypto",
            "stablecoin",
            "digital currency",
            "central bank",
            "exchange",
            "digital payments",
        ],
    ),
    (
        "Semiconductors",
        "semiconductors",
        "Chips, fabrication plants, subsidies and export controls.",
        [
            "semiconductor",
            "chip",
            "chips",
            "chipmaking",
            "fabrication plant",
            "foundry",
            "export controls",
            "lithography",
        ],
    ),
    (
        "Geopolitics and digital diplomacy",
        "digital-diplomacy",
        "Treaties, multilateral forums and technology in foreign policy.",
        [
            "diplomacy",
            "geopolitical",
            "treaty",
            "negotiations",
            "multilateral",
            "Global Digital Forum",
            "delegations",
            "capacity building",
        ],
    ),
    (
        "Infrastructure",
        "infrastructure",
        "Broadband, subsea cables, data centres, cloud and connectivity.",
        [
            "infrastructure",
            "broadband",
            "subsea cable",
            "cables",
            "data centre",
            "cloud computing",
            "cloud providers",
            "connectivity",
            "satellite",
        ],
    ),
    (
        "Health tech",
        "health-tech",
        "Digital health, telemedicine and health data.",
        [
            "health data",
            "digital health",
            "telemedicine",
            "hospital",
            "hospitals",
            "patient records",
            "medical",
        ],
    ),
]


@dataclass(frozen=True)
class DemoSource:
    name: str
    path: str
    site_path: str
    kind: str
    category: str
    strip_patterns: str = ""


SOURCES: list[DemoSource] = [
    DemoSource(
        "Policy Wire",
        "policy-wire/feed.rss",
        "policy-wire/",
        Source.Kind.FEED,
        Source.Category.NEWS,
    ),
    DemoSource(
        "NetGov Observer",
        "netgov-observer/atom.xml",
        "netgov-observer/",
        Source.Kind.FEED,
        Source.Category.NEWS,
        # An editor's own pattern; the other outlets' trailers are recognised unaided.
        strip_patterns=r"^Want the week's digital policy news in your inbox\?",
    ),
    DemoSource(
        "Digital Commons Review",
        "digital-commons/index.rdf",
        "digital-commons/",
        Source.Kind.FEED,
        Source.Category.ANALYSIS,
    ),
    DemoSource(
        "Digital policy events",
        "events/calendar.ics",
        "events/",
        Source.Kind.ICAL,
        Source.Category.EVENTS,
    ),
]


SUBSCRIBERS: list[tuple[str, str, list[str]]] = [
    ("amira.haddad@example.org", "active", []),
    ("ben.okoro@example.org", "active", ["artificial-intelligence", "data-protection"]),
    ("chen.wei@example.net", "active", []),
    ("dora.lindgren@example.com", "active", ["semiconductors", "e-commerce-and-trade"]),
    ("emil.novak@example.org", "pending", []),
    ("farah.qureshi@example.net", "unsubscribed", []),
]


ISSUE_ONE_TITLE = "Guidance for AI models, age checks for social media, and cables under the sea"
ISSUE_ONE_LETTER = """Dear readers,

Two regulators set the tone this week. The Meridian Union's AI Office published its \
[first guidance for developers of general-purpose models]({ai_office}), and \
[Caldoria's parliament voted]({age_checks}) to require age checks on social media. \
Both raise the question our Reading corner returns to: how much can be checked \
before a product is used, and how much only afterwards?

Infrastructure reminded us that it is physical. [Two subsea cables were cut]({cables}) \
in the Strait of Lunaria, and [a ransomware attack]({ransomware}) postponed \
operations at three hospitals in Port Sable.

As always, Upcoming events lists where these debates continue.
"""


ISSUE_TWO_LETTER = """Dear readers,

A first draft for this week: the privacy regulator's decision on Kestrel Systems, \
the new export controls on chipmaking tools, and CoinHarbor's collapse.

"""


SIGN_OFF = "The Digital Policy Weekly team"

# The stories issue #1's letter links to, by the slug of their canonical URL.
LETTER_LINK_SLUGS = {
    "ai_office": "ai-office-guidance-general-purpose-models",
    "age_checks": "caldoria-passes-social-media-age-verification-law",
    "cables": "two-subsea-cables-cut-strait-of-lunaria",
    "ransomware": "ransomware-attack-disrupts-port-sable-hospitals",
}
