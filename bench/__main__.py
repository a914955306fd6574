"""``python -m bench [PART]``: run every benchmark, print a table, write
bench/results/latest.json; or only one part (``signons``: the sign-on page rush,
``media``: the memory cost of relaying a 20 MB video, ``rooms``: 500 bridged pairs,
50 of them active, one under flood control (bench/many_rooms.py), ``matrix-commands``:
``!whoami`` on Matrix against a bare echo bot, ``relay-cpu``: CPU per relayed
message beside the bare relay and, with ``--against DIR``, another checkout (bench/relay_cpu.py),
``recommendations``: the UHRI
import and /indicators, ``postgresql``: the commands and the relay on PostgreSQL beside
SQLite, and the standby's takeover), written to bench/results/PART.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    commands,
    footprint,
    history,
    indicators,
    many_rooms,
    matrix_commands,
    media,
    rec_import,
    relay,
    relay_cpu,
    scheduler,
    signons,
    takeover,
)
from bench.servers import postgres
from bench.stats import table

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = {"signons": signons, "media": media, "history": history, "rooms": many_rooms,
         "matrix-commands": matrix_commands, "relay-cpu": relay_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="?", default="all",
                        choices=["all", *PARTS, "recommendations", "postgresql"],
                        help="signons: only the sign-on page rush (about 2 minutes); "
                             "media: only the memory cost of relaying a 20 MB video; "
                             "rooms: 500 bridged pairs, 50 active (about 10 minutes); "
                             "matrix-commands: only !whoami on Matrix against an echo bot; "
                             "relay-cpu: CPU per message, this checkout (and --against "
                             "another) beside the bare relay (~6 minutes); "
                             "recommendations: only the import and /indicators; "
                             "history: a million relayed messages beside none (~15 min); "
                             "postgresql: commands and relay on both engines, and takeover")
    parser.add_argument("--messages", type=int, default=None,
                        help="messages per direction: the relay 1000, history 300, "
                             "relay-cpu 200 unless given")
    parser.add_argument("--against", type=Path, default=None,
                        help="relay-cpu: another checkout to measure beside this one")
    parser.add_argument("--signons", type=int, default=1000,
                        help="organisations in the sign-on rush (default 1000)")
    parser.add_argument("--skip-relay", action="store_true")
    parser.add_argument("--skip-import", action="store_true",
                        help="leave out the 1,000,000-record recommendations import (~5 min)")
    parser.add_argument("--skip-postgresql", action="store_true",
                        help="SQLite only (no PostgreSQL server binaries here)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="caucus-bench-"))
    started = time.time()
    out: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                 "machine": f"{platform.machine()}, {platform.python_implementation()} "
                            f"{platform.python_version()}, {_cores()} cores"}
    if args.which == "recommendations":
        out["indicators"] = indicators.run(folder)
        if not args.skip_import:
            out["recs_import"] = rec_import.run(folder)
        _write(out, started, "recommendations.json", recommendation_rows(out))
        return
    if args.which == "postgresql":
        with postgres() as pg:
            out["commands"] = commands.run(folder)
            out["commands_postgresql"] = commands.run(folder, url=pg.new_database())
            if not args.skip_relay:
                out["relay"] = relay.run(folder, messages=args.messages or 1000,
                                         postgres_url=pg.new_database())
            out["takeover"] = takeover.run(folder, pg.new_database())
        lines = command_rows(out) + (relay_rows(out["relay"]) if "relay" in out else [])
        _write(out, started, "postgresql.json", lines + takeover_rows(out))
        return
    if args.which != "all":
        part = PARTS[args.which]
        kwargs = {"signons": {"signons": args.signons}, "history": {
            "messages": args.messages or 300, "postgresql": not args.skip_postgresql},
            "relay-cpu": {"messages": args.messages or 200, "against": args.against}}
        out[args.which] = part.run(folder, **kwargs.get(args.which, {}))
        _write(out, started, f"{args.which}.json", part.rows(out[args.which]))
        return
    with contextlib.ExitStack() as stack:
        pg = None if args.skip_postgresql else stack.enter_context(postgres())
        out["commands"] = commands.run(folder)
        if pg is not None:
            out["commands_postgresql"] = commands.run(folder, url=pg.new_database())
        out["scheduler"] = scheduler.run(folder)
        out["footprint"] = footprint.run(folder)
        out["indicators"] = indicators.run(folder)
        if not args.skip_import:
            out["recs_import"] = rec_import.run(folder)
        if not args.skip_relay:
            out["relay"] = relay.run(folder, messages=args.messages or 1000,
                                     postgres_url=pg.new_database() if pg else None)
            out["signons"] = signons.run(folder, signons=args.signons)
            out["matrix_commands"] = matrix_commands.run(folder)
        out["media"] = media.run(folder)
        if pg is not None:
            out["takeover"] = takeover.run(folder, pg.new_database())
    _write(out, started, "latest.json", rows(out))


def _write(out: dict, started: float, name: str, lines: list[tuple[str, str, str, str]]) -> None:
    out["seconds"] = round(time.time() - started)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(out, indent=1))
    print(table(lines))
    print(f"\n{out['date']} on {out['machine']}; JSON in {RESULTS / name}")


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def command_rows(out: dict) -> list[tuple[str, str, str, str]]:
    """Each command on SQLite, and below it on PostgreSQL where that was measured."""
    r: list[tuple[str, str, str, str]] = []
    for name, s in out.get("commands", {}).get("commands", {}).items():
        r.append((f"command {name} p50/p95", f"{s['p50_ms']} / {s['p95_ms']} ms", "p95 < 20 ms",
                  _yes(s["p95_ms"] < 20)))
        pg = out.get("commands_postgresql", {}).get("commands", {}).get(name)
        if pg is not None:
            r.append(("  on PostgreSQL", f"{pg['p50_ms']} / {pg['p95_ms']} ms", "p95 < 20 ms",
                      _yes(pg["p95_ms"] < 20)))
    return r


def takeover_rows(out: dict) -> list[tuple[str, str, str, str]]:
    if "takeover" not in out:
        return []
    t = out["takeover"]
    return [(f"standby takeover, kill -9 to ready (median of {t['kills']})",
             f"{t['median_to_ready_s']} s", "< 10 s", _yes(t["median_to_ready_s"] < 10)),
            ("  kill -9 to a message relayed (median; max)",
             f"{t['median_to_relay_s']} s; {t['max_to_relay_s']} s", "< 10 s",
             _yes(t["max_to_relay_s"] < 10))]


def rows(out: dict) -> list[tuple[str, str, str, str]]:
    r = command_rows(out)
    r += recommendation_rows(out)
    if "scheduler" not in out:
        return r
    sch = out["scheduler"]
    jobs = f"{sch['jobs_in_store']:,} jobs"
    r.append((f"scheduler: {jobs}, restart load", f"{sch['restart_load_s']} s", "< 2 s",
              _yes(sch["restart_load_s"] < 2)))
    r.append((f"scheduler: {jobs}, first start", f"{sch['first_start_s']} s", "< 2 s",
              _yes(sch["first_start_s"] < 2)))
    r.append(("scheduler: firing lateness p95", f"{sch['lateness_p95_ms']} ms",
              f"{sch['fired']}/{sch['of']} fired", ""))
    for phase in ("cold", "warm"):
        f = out["footprint"][phase]
        r.append((f"start to ready ({phase})", f"{f['start_to_ready_s']} s", "< 3 s",
                  _yes(f["start_to_ready_s"] is not None and f["start_to_ready_s"] < 3)))
        r.append((f"idle RSS ({phase})", f"{f['idle_rss_mb']} MB", "< 120 MB",
                  _yes(f["idle_rss_mb"] < 120)))
    if "relay" in out:
        r += relay_rows(out["relay"])
    if "signons" in out:
        r += signons.rows(out["signons"])
    if "matrix_commands" in out:
        r += matrix_commands.rows(out["matrix_commands"])
    return r + media.rows(out["media"]) + takeover_rows(out)


def recommendation_rows(out: dict) -> list[tuple[str, str, str, str]]:
    r: list[tuple[str, str, str, str]] = []
    ind = out.get("indicators")
    if ind:
        n = f"{ind['cases']:,} cases"
        for name, s in ind["commands"].items():
            r.append((f"{name}, {n} p50/p95", f"{s['p50_ms']} / {s['p95_ms']} ms",
                      "p95 < 200 ms", _yes(s["p95_ms"] < 200)))
            r.append(("  CPU time p50/p95", f"{s['cpu']['p50_ms']} / {s['cpu']['p95_ms']} ms",
                      "", ""))
        for part, s in ind["parts"].items():
            r.append((f"  of which {part} p50/p95", f"{s['p50_ms']} / {s['p95_ms']} ms", "", ""))
    imports = out.get("recs_import")
    if imports:
        sizes = sorted(imports, key=int)
        for size in sizes:
            first = imports[size]["first"]
            r.append((f"recs import {int(size):,} UHRI records ({imports[size]['file_mb']} MB)",
                      f"{first['seconds']} s, {imports[size]['records_per_s']:,}/s", "", ""))
            r.append((f"  peak RSS, {int(size):,} records", f"{first['peak_rss_mb']} MB",
                      "flat", ""))
            if imports[size].get("again"):
                again = imports[size]["again"]
                r.append((f"  re-import {int(size):,} (all unchanged)",
                          f"{again['seconds']} s, {again['peak_rss_mb']} MB", "", ""))
        small, large = imports[sizes[0]]["first"], imports[sizes[-1]]["first"]
        ratio = round(large["peak_rss_mb"] / small["peak_rss_mb"], 2)
        r.append((f"  peak RSS {int(sizes[-1]):,} / {int(sizes[0]):,} records", f"{ratio}x",
                  "≈ 1x (flat)", _yes(ratio <= 1.1)))
    return r


def relay_rows(rel: dict) -> list[tuple[str, str, str, str]]:
    r: list[tuple[str, str, str, str]] = []
    for d, short in (("telegram_to_matrix", "T→M"), ("matrix_to_telegram", "M→T")):
        o, b = rel["ours"][d], rel["bare"][d]
        ratio50, ratio95 = rel["ratios"][f"{d}_p50_ms"], rel["ratios"][f"{d}_p95_ms"]
        r.append((f"relay {short} p50 ours/bare", f"{o['p50_ms']}/{b['p50_ms']} ms = "
                  f"{ratio50}x", "≤ 1.1x", _yes(ratio50 <= 1.1)))
        r.append((f"relay {short} p95 ours/bare", f"{o['p95_ms']}/{b['p95_ms']} ms = "
                  f"{ratio95}x", "≤ 1.2x", _yes(ratio95 <= 1.2)))
        r.append((f"relay {short} p99 ours/bare", f"{o['p99_ms']}/{b['p99_ms']} ms", "", ""))
        if "ours_postgresql" in rel:
            g, ratios = rel["ours_postgresql"][d], rel["ratios_postgresql"]
            r.append(("  on PostgreSQL p50/p95 ours/bare", f"{g['p50_ms']}/{g['p95_ms']} ms = "
                      f"{ratios[f'{d}_p50_ms']}x/{ratios[f'{d}_p95_ms']}x", "≤ 1.1x/1.2x",
                      _yes(ratios[f"{d}_p50_ms"] <= 1.1 and ratios[f"{d}_p95_ms"] <= 1.2)))
    r.append(("relay CPU per message ours/bare", f"{rel['ours']['cpu_ms_per_message']}/"
              f"{rel['bare']['cpu_ms_per_message']} ms = {rel['ratios']['cpu_per_message']}x",
              "", ""))
    syn = rel["synapse"]
    ceiling = f"Synapse: ≤ {syn['one_room_concurrent_per_s']}/s"
    for key, short in (("throughput_t_to_m_per_s", "T→M"), ("throughput_m_to_t_per_s", "M→T")):
        r.append((f"throughput {short} live ours (bare)",
                  f"{rel['ours'][key]} ({rel['bare'][key]}) msg/s", f"≥ 100; {ceiling}",
                  _yes(rel["ours"][key] >= 100)))
    r.append(("throughput M→T backlog, ours", f"{rel['ours']['drain_m_to_t_per_s']} msg/s",
              "≥ 100 msg/s", _yes(rel["ours"]["drain_m_to_t_per_s"] >= 100)))
    if "ours_postgresql" in rel:
        g = rel["ours_postgresql"]
        r.append(("relay CPU per message, PostgreSQL", f"{g['cpu_ms_per_message']} ms = "
                  f"{rel['ratios_postgresql']['cpu_per_message']}x bare", "", ""))
        r.append(("throughput T→M / M→T live / M→T backlog, PostgreSQL",
                  f"{g['throughput_t_to_m_per_s']} / {g['throughput_m_to_t_per_s']} / "
                  f"{g['drain_m_to_t_per_s']} msg/s", "≥ 100 backlog",
                  _yes(g["drain_m_to_t_per_s"] >= 100)))
    r.append(("Synapse alone: one room, 1 / 8 in flight",
              f"{syn['one_room_per_s']} / {syn['one_room_concurrent_per_s']} events/s",
              f"its CPU: {syn['cpu_ms_per_event']} ms/event", ""))
    return r


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
