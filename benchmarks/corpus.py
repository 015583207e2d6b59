"""A reproducible synthetic news corpus: same seed, same articles, byte for byte, on every machine.

Articles are made of sentences drawn from a finite pool of generated sentences. Each sentence belongs to
one of a dozen topics (its own vocabulary), and an article keeps to one main topic with a few asides, so
the embeddings form topical clusters as real news does (HNSW behaves on such data as on real text, unlike
on uniform random vectors). The pool being finite lets the benchmarks embed each distinct sentence once
and build 100k-passage indexes from cached vectors of the real model (see `benchmarks/cache.py`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

FIRST = """Amara Bruno Chen Dmitri Elena Farid Grace Hiro Ines Jonas Kemal Lena Marco Nadia Omar Priya Quentin
Rosa Samir Tamara Umar Vera Wei Ximena Yusuf Zara Aidan Beatriz Carlos Dana Emil Fatima Gustav Hana Ivan Julia
Kofi Leila Mateo Noor""".split()
LAST = """Abbott Bauer Castillo Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Lindqvist Moreau Novak
Okafor Petrov Quinn Rossi Sato Tanaka Ueda Varga Weber Xu Yilmaz Zhou Almeida Brennan Costa Duarte""".split()
PLACES = """Lisbon Nairobi Oslo Lima Hanoi Tbilisi Quito Accra Riga Dhaka Porto Almaty Tunis Bergen Cebu
Montreal Krakow Valencia Osaka Mombasa Perth Leipzig Recife Izmir""".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

# topic: (organisations, actions, objects, consequences)
TOPICS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "economy": (
        ["the central bank", "the finance ministry", "the national statistics office", "a group of exporters"],
        ["raised its forecast for", "warned about", "published new figures on", "cut its estimate of"],
        ["inflation", "household spending", "the trade deficit", "wage growth", "interest rates", "bond yields"],
        ["markets fell sharply", "the currency gained ground", "economists urged caution", "investors were relieved"],
    ),
    "politics": (
        ["the ruling coalition", "the opposition party", "the parliament", "the electoral commission"],
        ["announced a vote on", "blocked a bill on", "opened talks about", "called for a review of"],
        ["the new constitution", "regional autonomy", "campaign finance rules", "the state budget", "term limits"],
        [
            "protesters gathered outside",
            "the cabinet reshuffle was delayed",
            "turnout was expected to be low",
            "several ministers resigned",
        ],
    ),
    "sports": (
        ["the national football team", "the city marathon organisers", "the cycling federation", "the home club"],
        ["won the final of", "withdrew from", "signed a new coach for", "confirmed the schedule of"],
        ["the continental cup", "the summer league", "the indoor championship", "the relay tournament"],
        [
            "fans celebrated in the streets",
            "the stadium was sold out",
            "the captain was injured",
            "ticket prices doubled",
        ],
    ),
    "technology": (
        ["a chip maker", "the telecom regulator", "a software start-up", "the largest cloud provider"],
        ["unveiled", "delayed the launch of", "opened a factory for", "was fined over"],
        [
            "a low-power processor",
            "satellite broadband",
            "a speech recognition tool",
            "its data centre network",
            "a battery for phones",
        ],
        [
            "shares jumped after the news",
            "privacy groups raised concerns",
            "rivals promised to respond",
            "engineers were hired by the hundreds",
        ],
    ),
    "health": (
        ["the health ministry", "a university hospital", "the regional clinics", "a vaccine maker"],
        ["began a trial of", "reported a rise in", "expanded access to", "issued guidance on"],
        ["a malaria vaccine", "dental care", "measles cases", "mental health services", "heat stroke"],
        [
            "waiting lists grew longer",
            "nurses demanded higher pay",
            "the results were encouraging",
            "pharmacies ran short of supplies",
        ],
    ),
    "climate": (
        ["the weather service", "an environmental agency", "coastal towns", "a coalition of farmers"],
        ["recorded", "prepared for", "sued the government over", "received aid after"],
        ["the hottest July on record", "severe flooding", "a long drought", "rising sea levels", "wildfires"],
        [
            "crops were lost across the valley",
            "thousands were evacuated",
            "roads were closed for days",
            "insurers raised premiums",
        ],
    ),
    "courts": (
        ["the supreme court", "a district judge", "the prosecutors", "the defence lawyers"],
        ["ruled on", "postponed the hearing on", "appealed the verdict in", "opened an inquiry into"],
        ["a bribery case", "the land dispute", "a privacy complaint", "the pension reform", "a fraud scheme"],
        [
            "the decision can still be appealed",
            "the defendants denied wrongdoing",
            "the hearing lasted nine hours",
            "the families welcomed the ruling",
        ],
    ),
    "culture": (
        ["the national museum", "a film festival", "the city orchestra", "a publishing house"],
        ["opened an exhibition on", "awarded its main prize to", "cancelled", "announced a season devoted to"],
        ["medieval maps", "a debut novel", "silent cinema", "folk music", "modern sculpture"],
        [
            "critics praised the choice",
            "queues formed before dawn",
            "the tickets sold out in an hour",
            "the artist thanked her family",
        ],
    ),
    "energy": (
        ["the grid operator", "a state oil company", "a wind farm developer", "the energy regulator"],
        ["approved", "halted work on", "signed a contract for", "reported record output from"],
        ["an offshore wind park", "a gas pipeline", "rooftop solar panels", "a nuclear reactor", "a hydro dam"],
        [
            "electricity prices eased",
            "local residents objected",
            "the project created jobs",
            "the blackout ended by morning",
        ],
    ),
    "transport": (
        ["the national railway", "the airport authority", "a bus operator", "the port administration"],
        ["extended", "suspended", "announced fare changes for", "finished building"],
        ["the night train service", "a new runway", "the ferry line", "the metro extension", "a cargo terminal"],
        [
            "commuters complained about delays",
            "the unions threatened a strike",
            "traffic eased in the centre",
            "passenger numbers recovered",
        ],
    ),
}
FORMS = [
    "On {day}, {org} {action} {obj} in {place}, and {consequence}.",
    "{person}, a spokesperson for {org}, said the plan for {obj} would cost {number} million.",
    "In {place}, {org} {action} {obj} after {number} people signed a petition.",
    "{person} told reporters in {place} that {consequence}.",
    "Officials said {org} {action} {obj} for the {ordinal} time this year.",
    "According to {person}, {obj} in {place} had been discussed for {number} weeks before {consequence}.",
    "The decision by {org} on {obj} surprised analysts in {place}.",
    "{person} of {org} expects that {consequence} before the end of the year.",
]
ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def sentence_pool(size: int, seed: int = 7) -> list[tuple[str, str]]:
    """`size` distinct (topic, sentence) pairs, each a plain declarative sentence ending in a period."""
    rng = random.Random(seed)
    seen: set[str] = set()
    pool: list[tuple[str, str]] = []
    topics = sorted(TOPICS)
    while len(pool) < size:
        topic = topics[len(pool) % len(topics)]
        orgs, actions, objects, consequences = TOPICS[topic]
        text = rng.choice(FORMS).format(
            day=rng.choice(WEEKDAYS),
            org=rng.choice(orgs),
            action=rng.choice(actions),
            obj=rng.choice(objects),
            place=rng.choice(PLACES),
            consequence=rng.choice(consequences),
            person=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            number=rng.randint(2, 950),
            ordinal=rng.choice(ORDINALS),
        )
        text = text[0].upper() + text[1:]
        if text not in seen:
            seen.add(text)
            pool.append((topic, text))
    return pool


def articles(count: int, pool: list[tuple[str, str]], seed: int = 11) -> Iterator[dict[str, str]]:
    """`count` news articles (id, title, date, text) of 8-30 sentences in 2-6 paragraphs, mostly on one topic."""
    rng = random.Random(seed)
    by_topic: dict[str, list[str]] = {}
    for topic, text in pool:
        by_topic.setdefault(topic, []).append(text)
    topics = sorted(by_topic)
    start = date(2015, 1, 1)
    for n in range(count):
        topic = rng.choice(topics)
        sentences = [
            rng.choice(by_topic[topic if rng.random() < 0.85 else rng.choice(topics)])
            for _ in range(rng.randint(8, 30))
        ]
        cuts = sorted(rng.sample(range(1, len(sentences)), rng.randint(1, 5)))
        paragraphs = [" ".join(sentences[a:b]) for a, b in zip([0, *cuts], [*cuts, len(sentences)], strict=True)]
        day = start + timedelta(days=rng.randrange(3650))
        yield {
            "id": f"news-{n:06d}",
            "title": f"{topic.capitalize()} report {n}",
            "date": day.isoformat(),
            "text": "\n\n".join(paragraphs),
        }


def write_corpus(folder: Path, count: int, pool: list[tuple[str, str]], per_file: int = 500) -> list[Path]:
    """The articles as jsonl files of `per_file` articles each (the loader makes each line a document)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    handle = None
    for n, article in enumerate(articles(count, pool)):
        if n % per_file == 0:
            if handle:
                handle.close()
            paths.append(folder / f"news-{n // per_file:04d}.jsonl")
            handle = paths[-1].open("w", encoding="utf-8")
        handle.write(json.dumps(article, ensure_ascii=False) + "\n")
    if handle:
        handle.close()
    return paths


if __name__ == "__main__":
    from common import arguments

    parser = arguments(__doc__)
    parser.add_argument("folder", type=Path, help="where the articles are written")
    parser.add_argument("--articles", type=int, default=4000, help="articles generated")
    parser.add_argument("--pool", type=int, default=12000, help="distinct sentences to draw from")
    args = parser.parse_args()
    written = write_corpus(args.folder, args.articles, sentence_pool(args.pool))
    print(f"{args.articles} articles in {len(written)} files under {args.folder}")
