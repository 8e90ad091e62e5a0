"""Vocabularies of the synthetic shop: names, places, enums, comments, pages and campaigns."""

from __future__ import annotations

import unicodedata

# --- enums (order matters: the codes are positions) --------------------------------------------
# Each enum equals its declaration in the raw data contract (models/staging/*/_*__sources.yml,
# meta.values): tests/test_raw_contract.py.
CHANNELS = (
    "organic_search",
    "paid_search",
    "social",
    "email",
    "referral",
    "affiliate",
    "direct",
)
ACQUISITION_P = (0.27, 0.17, 0.14, 0.06, 0.12, 0.07, 0.17)
REFERRAL = CHANNELS.index("referral")
TRAFFIC_P = (0.30, 0.17, 0.15, 0.10, 0.04, 0.06, 0.18)

STATUSES = ("completed", "returned", "cancelled")
SALES_CHANNELS = ("web", "app", "store")
CURRENCIES = ("EUR", "GBP", "CHF")
DEVICES = ("desktop", "mobile", "tablet")
SURVEY_CHANNELS = ("email", "web", "app")
EVENT_TYPES = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed")
BOOLEANS = ("false", "true")

# --- geography ---------------------------------------------------------------------------------
COUNTRIES = ("DE", "AT", "CH", "NL", "GB", "FR", "BE", "IT")
COUNTRY_P = (0.68, 0.09, 0.07, 0.05, 0.05, 0.03, 0.02, 0.01)
# Name pool per country: positions into NAME_POOLS.
COUNTRY_POOL = {"DE": 0, "AT": 0, "CH": 0, "NL": 2, "GB": 1, "FR": 3, "BE": 2, "IT": 4}
# Currency per country (code into CURRENCIES).
COUNTRY_CURRENCY = {"GB": 1, "CH": 2}

CITIES: dict[str, tuple[tuple[str, float], ...]] = {
    "DE": (
        ("Berlin", 3.7),
        ("Hamburg", 1.9),
        ("München", 1.5),
        ("Köln", 1.1),
        ("Frankfurt am Main", 0.8),
        ("Stuttgart", 0.6),
        ("Düsseldorf", 0.6),
        ("Leipzig", 0.6),
        ("Dortmund", 0.6),
        ("Essen", 0.6),
        ("Bremen", 0.6),
        ("Dresden", 0.55),
        ("Hannover", 0.55),
        ("Nürnberg", 0.5),
        ("Münster", 0.3),
        ("Lübeck", 0.2),
        ("Würzburg", 0.13),
        ("Saarbrücken", 0.18),
        ("Göttingen", 0.12),
        ("Osnabrück", 0.16),
        ("Fürth", 0.13),
        ("Gießen", 0.09),
    ),
    "AT": (
        ("Wien", 1.9),
        ("Graz", 0.3),
        ("Linz", 0.2),
        ("Salzburg", 0.15),
        ("Innsbruck", 0.13),
        ("Klagenfurt am Wörthersee", 0.1),
        ("Mödling", 0.02),
    ),
    "CH": (
        ("Zürich", 0.42),
        ("Genève", 0.2),
        ("Basel", 0.18),
        ("Bern", 0.14),
        ("Lausanne", 0.14),
        ("Luzern", 0.08),
        ("St. Gallen", 0.08),
        ("Winterthur", 0.11),
    ),
    "NL": (
        ("Amsterdam", 0.9),
        ("Rotterdam", 0.65),
        ("Den Haag", 0.55),
        ("Utrecht", 0.36),
        ("Eindhoven", 0.24),
        ("Groningen", 0.23),
    ),
    "GB": (
        ("London", 8.9),
        ("Birmingham", 1.1),
        ("Manchester", 0.55),
        ("Leeds", 0.8),
        ("Glasgow", 0.63),
        ("Edinburgh", 0.53),
        ("Bristol", 0.47),
    ),
    "FR": (
        ("Paris", 2.1),
        ("Marseille", 0.87),
        ("Lyon", 0.52),
        ("Toulouse", 0.49),
        ("Strasbourg", 0.29),
        ("Montpellier", 0.3),
    ),
    "BE": (("Bruxelles", 1.2), ("Antwerpen", 0.53), ("Gent", 0.26), ("Liège", 0.2)),
    "IT": (("Milano", 1.4), ("Roma", 2.8), ("Bolzano", 0.1), ("Torino", 0.85)),
}


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


# --- people ------------------------------------------------------------------------------------
_DE_FIRST = _words(
    "Anna Jürgen Jörg Günter Björn Sören Lukas Leon Jonas Felix Maximilian Paul Thomas Michael "
    "Andreas Stefan Klaus Uwe Horst Matthias Tobias Florian Niklas Moritz Fabian Mehmet Ömer "
    "Hannah Lena Marie Mia Emma Lara Greta Ursula Brigitte Renate Monika Sabine Petra Katrin "
    "Bärbel Dörte Käthe Jana Lea Sophie Charlotte Johanna Frieda Elif Zoë Ayşe"
)
_DE_LAST = _words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König "
    "Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel "
    "Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht "
    "Schuster Simon Ludwig Böhm Winter Kraus Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß "
    "Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel "
    "Horn Busch Bergmann Voigt Sauer Arnold Wolff Pfeiffer Özdemir Yılmaz Kaya Demir Şahin Çelik "
    "Nowak Kowalski Gößling Strauß Rößler Fußmann"
)
_EN_FIRST = _words(
    "Oliver George Harry Jack Charlie Thomas James William Olivia Amelia Isla Ava Emily Sophie "
    "Grace Chloe Jessica Daniel Matthew Sarah Rebecca Siobhán Niamh Seán Zoë Chloë Noah Ethan"
)
_EN_LAST = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen "
    "O'Brien Murphy O'Neill Khan"
)
_NL_FIRST = _words(
    "Daan Sem Lucas Levi Bram Ruben Thijs Emma Julia Tess Sophie Anouk Sanne Femke Joëlle Maartje"
)
_NL_LAST = _words(
    "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|"
    "Mulder|de Groot|Bos|Vos|Peeters|Hendriks|Claes|Maes|Willems",
    sep="|",
)
_FR_FIRST = _words(
    "Léa Chloé Manon Camille Inès Zoé Louis Gabriel Raphaël Jules Hugo Arthur Théo Noé François "
    "Hélène Amélie Céline"
)
_FR_LAST = _words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre "
    "Michel Garcia Fournier Girard Bonnet Dupont Lambert Rousseau Faure Mercier Gauthier"
)
_IT_FIRST = _words("Giulia Francesca Sofia Chiara Alessandro Lorenzo Matteo Luca Niccolò Noemi")
_IT_LAST = _words("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco")

# (first names, last names) per pool: 0 German, 1 English, 2 Dutch/Flemish, 3 French, 4 Italian.
NAME_POOLS: tuple[tuple[list[str], list[str]], ...] = (
    (_DE_FIRST, _DE_LAST),
    (_EN_FIRST, _EN_LAST),
    (_NL_FIRST, _NL_LAST),
    (_FR_FIRST, _FR_LAST),
    (_IT_FIRST, _IT_LAST),
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
EMAIL_DOMAIN_P = (0.6, 0.25, 0.15)

_TRANSLIT = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "ı": "i",
        "'": "",
        " ": "",
    }
)


def email_local_part(name: str) -> str:
    """ASCII e-mail spelling of a name: `Müller` -> `mueller`, `O'Brien` -> `obrien`."""
    text = name.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text


# --- web ---------------------------------------------------------------------------------------
_PRODUCTS = _words(
    "leinenhemd-natur wollpullover-grau sneaker-weiss regenjacke-oliv jeans-slim-blau "
    "strickmuetze-bordeaux lederguertel-braun sommerkleid-gelb daunenjacke-schwarz "
    "baumwoll-tshirt-3er-pack chino-beige hoodie-navy laufschuhe-trail seidenschal-muster "
    "wanderrucksack-30l bademantel-frottee fleecejacke-rot cordhose-camel merino-socken "
    "lederstiefel-cognac"
)
_BLOG = _words(
    "pflegetipps-wolle capsule-wardrobe-guide nachhaltige-materialien size-guide "
    "herbst-trends-2024 schuhe-richtig-pflegen"
)
LANDING_PAGES: tuple[str, ...] = (
    "/",
    "/sale",
    "/new",
    "/category/damen",
    "/category/herren",
    "/category/kinder",
    "/account",
    *(f"/products/{slug}" for slug in _PRODUCTS),
    *(f"/blog/{slug}" for slug in _BLOG),
)
_LANDING_W = (30.0, 8.0, 5.0, 6.0, 6.0, 3.0, 3.0, *([1.5] * len(_PRODUCTS)), *([1.0] * len(_BLOG)))
LANDING_P = tuple(w / sum(_LANDING_W) for w in _LANDING_W)

# --- survey comments (band: 0 detractor, 1 passive, 2 promoter; language de/en) -----------------
COMMENTS: dict[tuple[int, str], tuple[str, ...]] = {
    (0, "de"): (
        "Lieferung kam eine Woche zu spät.",
        "Artikel war beschädigt, Rücksendung sehr umständlich.",
        'Die Größe fällt viel zu klein aus, "M" ist eher ein S.',
        "Kundenservice hat nie geantwortet. Schade!",
        "Qualität hat stark nachgelassen, früher war alles besser.",
        "Zu teuer für das, was man bekommt.",
        "Die Rückerstattung dauert jetzt schon drei Wochen,\nich bin enttäuscht.",
        "Paket kam geöffnet an, Ware fehlte.",
    ),
    (0, "en"): (
        "Delivery was late, again.",
        'Item arrived damaged and the "easy returns" were anything but easy.',
        "Customer service never got back to me.",
        "Sizes are way off, had to send everything back.",
        "Refund took ages,\nnot ordering again.",
    ),
    (1, "de"): (
        "Ganz okay, aber die Lieferung könnte schneller sein.",
        "Gute Ware, Preise sind allerdings gestiegen.",
        "Passt, nichts Besonderes.",
        'Die Beschreibung "wasserdicht" ist etwas übertrieben.',
        "Größe passt, Farbe weicht leicht ab.",
    ),
    (1, "en"): (
        "Decent quality, shipping a bit slow.",
        "Fine, but prices went up.",
        "OK overall, the app is a bit clunky.",
    ),
    (2, "de"): (
        "Super schnelle Lieferung, alles bestens!",
        "Tolle Qualität, ich bestelle gern wieder.",
        "Sehr freundlicher Kundenservice, Umtausch problemlos.",
        'Mein neuer Lieblingspulli, "kuschelig" trifft es genau.',
        "Schöne Verpackung, nachhaltig und ohne Plastik. Weiter so!",
        "Passt perfekt, Größenberatung war hilfreich.",
        "Wie immer top,\ndanke an das ganze Team!",
    ),
    (2, "en"): (
        "Fast delivery, great quality!",
        "Love it, will order again.",
        'Exactly as described, "true to size" really means it.',
        "Great service, thank you!",
    ),
}

# --- e-mail campaigns: (theme, day of month) per month; the newsletter goes out on the 5th ------
CAMPAIGN_THEMES: dict[int, tuple[str, int]] = {
    1: ("winter-sale", 8),
    2: ("valentines", 9),
    3: ("spring-sale", 18),
    4: ("easter", 3),
    5: ("mothers-day", 6),
    6: ("summer-kickoff", 17),
    7: ("summer-sale", 10),
    8: ("back-to-school", 20),
    9: ("autumn-collection", 12),
    10: ("halloween", 24),
    11: ("black-friday", 0),  # 0: the Friday after the fourth Thursday
    12: ("christmas", 8),
}
NEWSLETTER_DAY = 5

# --- invalid values used by planted defects ----------------------------------------------------
BAD_TIMESTAMPS = (
    "2024-13-45T25:00:00+01:00",
    "not a date",
    "31.02.2024 10:00",
    "2024-02-30T10:61:00Z",
)
BAD_DATES = ("not a date", "1985-02-31", "31.12.1979", "19xx-05-04")
BAD_AMOUNTS = ("12,50€", "EUR 49.90", "n/a", "1.234,56")
BAD_INTEGERS = ("abc", "12 Stk.", "zwei", "#NV")
BAD_ENUMS: dict[str, tuple[str, ...]] = {
    "acquisition_channel": ("tv", "billboard", "podcast"),
    "country_code": ("XX", "Deutschland", "UK"),
    "status": ("pending", "shipped", "COMPLETED"),
    "sales_channel": ("fax", "phone", "marketplace"),
    "currency": ("USD", "€", "eur"),
    "device": ("smartwatch", "smart_tv", "console"),
    "traffic_source": ("carrier_pigeon", "tv", "(not set)"),
    "survey_channel": ("sms", "phone", "paper"),
    "event_type": ("forwarded", "printed", "spam_report"),
}
