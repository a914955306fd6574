"""``caucus-bot recs import`` over generated UHRI exports: time and peak memory.

The files are written in the documented shape (one JSON array; "- " prefixes,
HTML in some texts, lists for sessions and positions, about one record in five
a concern and one in fifty of a State no one knows), one record at a time, so
the generator holds no more than the importer. Each import runs as its own
process, the real command on a fresh SQLite file; its peak RSS is the kernel's
figure for that process (``wait4``). Flat memory shows as the same peak for ten
times the records. The peak is the process's own high-water mark (``VmHWM``, read as
it ends): the kernel's ``ru_maxrss`` of a child counts the parent's memory at the
fork, and the parent here holds the other benchmarks' data.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

STATES = ["Egypt", "Bahrain", "Iran (Islamic Republic of)", "Saudi Arabia", "Türkiye",
          "Russian Federation", "China", "Viet Nam", "Sudan", "Ethiopia", "Nicaragua",
          "Venezuela (Bolivarian Republic of)", "Cuba", "Belarus", "Azerbaijan", "Cambodia",
          "Myanmar", "Philippines", "United Kingdom of Great Britain and Northern Ireland",
          "Bolivia (Plurinational State of)"]
RECOMMENDING = ["Norway", "France", "Germany", "Ireland", "Chile", "Mexico", "Japan", "Ghana"]
BODIES = ["- UPR"] * 6 + ["- CRC", "- CAT", "- CCPR", "- SR Human Rights Defenders"]
AFFECTED = ["- Human rights defenders", "- Journalists", "- Women & girls", "- Children",
            "- Lawyers", "- Persons deprived of their liberty"]
THEMES = ["- Human rights defenders", "- Freedom of opinion and expression",
          "- Administration of justice & fair trial", "- Torture and other cruel treatment"]
POSITIONS = [["- Supported"], ["- Noted"], ["- Supported/Noted"], []]


def record(n: int, rng: random.Random) -> dict[str, Any]:
    body = rng.choice(BODIES)
    upr = body == "- UPR"
    concern = rng.random() < 0.2
    session = rng.randint(41, 54)
    text = (f"{rng.randint(1, 160)}.{rng.randint(1, 300)} Ensure that defenders can work "
            f"without reprisals, and investigate case {n} promptly ({rng.choice(RECOMMENDING)});")
    if n % 3 == 0:
        text = f"<p>{text.replace('defenders', '<b>defenders</b>')} &amp; report back</p>"
    return {
        "AnnotationId": str(uuid.UUID(int=rng.getrandbits(128))),
        "AnnotationType": "- Concerns/Observations" if concern else "- Recommendations",
        "Body": body,
        "Countries": ["Atlantis"] if n % 50 == 0 else [rng.choice(STATES)],
        "Symbol": f"A/HRC/{session + 9}/{rng.randint(1, 20)}" if upr else "CRC/C/EGY/CO/5-6",
        "Text": text,
        "Themes": rng.sample(THEMES, 2),
        "AffectedPersons": rng.sample(AFFECTED, 2),
        "Sdgs": ["16.10 - Public access to information"],
        "PublicationDate": f"{rng.randint(2008, 2026)}-{rng.randint(1, 12):02d}-15T00:00:00",
        "UprCycle": str(rng.randint(1, 4)) if upr else None,
        "UprSession": [str(session)] if upr else [],
        "UprPositions": rng.choice(POSITIONS) if upr else [],
        "UprRecommendingCountry": rng.sample(RECOMMENDING, 2) if upr else [],
        "Regions": ["Africa"],
    }


def generate(path: Path, count: int, *, seed: int = 22) -> int:
    """Write ``count`` records to ``path``; returns its size in bytes."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(count):
            if n:
                out.write(",\n")
            out.write(json.dumps(record(n, rng), ensure_ascii=False))
        out.write("\n]\n")
    return path.stat().st_size


# The command as `caucus-bot recs import` runs it, then its own peak RSS (kB) on stderr.
RUN_AND_MEASURE = """
import sys
from bot.cli import main
code = main(["recs", "import", sys.argv[1], "--database", sys.argv[2]])
with open("/proc/self/status") as status:
    peak = next(line for line in status if line.startswith("VmHWM:"))
print(peak.split()[1], file=sys.stderr)
sys.exit(code)
"""


def import_once(path: Path, database: Path) -> dict[str, Any]:
    """One ``caucus-bot recs import`` process: wall time, peak RSS, its summary line."""
    command = [sys.executable, "-c", RUN_AND_MEASURE, str(path), f"sqlite:///{database}"]
    out, err = database.with_suffix(".out"), database.with_suffix(".err")
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        code = subprocess.call(command, stdout=stdout, stderr=stderr,
                               cwd=Path(__file__).resolve().parent.parent)
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"import failed: {err.read_text().strip()[-500:]}")
    peak_kb = int(err.read_text().split()[-1])
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak_kb / 1024, 1),
            "summary": out.read_text().strip().split(": ", 1)[-1]}


def run(folder: Path, *, sizes: tuple[int, ...] = (100_000, 1_000_000)) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for count in sizes:
        path = folder / f"uhri-{count}.json"
        size = generate(path, count)
        database = folder / f"recs-{count}.db"
        first = import_once(path, database)
        again = import_once(path, database) if count == sizes[0] else None
        results[str(count)] = {"file_mb": round(size / 2**20, 1), "first": first,
                               "again": again,
                               "records_per_s": round(count / first["seconds"])}
        path.unlink()
        database.unlink()
    return results


if __name__ == "__main__":
    import tempfile

    counts = tuple(int(a) for a in sys.argv[1:]) or (100_000, 1_000_000)
    print(json.dumps(run(Path(tempfile.mkdtemp(prefix="caucus-recs-")), sizes=counts),
                   indent=1))
