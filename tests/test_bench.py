"""The benchmark (bench/): a tiny run through the real `monitor` CLI, and its scoring."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
bench_run = importlib.import_module("run")
simweb = importlib.import_module("simweb")


def test_tiny_benchmark_finds_every_broken_link_and_no_false_one(tmp_path: Path) -> None:
    # Hangs and slow pages only cost time; the 4 hosts leave out the strict, 429-ing one.
    argv = [sys.executable, str(REPO / "bench" / "run.py"), "--n", "150", "--hosts", "4"]
    argv += ["--only", "monitor", "--skip-kinds", "hang,slow", "--out", str(tmp_path)]
    argv += ["--monitor-extra", "--recheck-interval 200", "--client-deadline", "90", "--no-warm-up"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-3000:]

    result = json.loads((tmp_path / "results.json").read_text())
    run = result["runs"][0]
    score = run["scores"]["monitor"]
    assert score["missing"] == 0
    assert score["false_broken"] == 0, score["false_broken_kinds"]
    assert score["recall"] == 1.0, score["missed_kinds"]
    assert score["truly_broken"] >= 15  # every broken kind is in the list
    assert score["failing_said_ok"] == 0
    # The client stayed within its per-host politeness, as the simulated hosts saw it.
    assert run["server"]["max_inflight"] <= 10
    assert run["server"]["hosts_over_concurrency"] == []


def test_lychee_output_is_scored_under_both_readings(tmp_path: Path) -> None:
    """lychee lists failures only; its 404s are broken, and in the strict reading so is all else."""
    base = "http://127.0.0.2:8000"
    truth = {
        f"{base}/page/1": {"expect": "ok", "kind": "page"},
        f"{base}/flaky/2": {"expect": "ok", "kind": "flaky"},
        f"{base}/gone404/3": {"expect": "broken", "kind": "gone404"},
        f"{base}/soft404/4": {"expect": "broken", "kind": "soft404"},
        f"{base}/challenge/5": {"expect": "failing", "kind": "challenge"},
        f"{base}/hang/6": {"expect": "failing", "kind": "hang"},
        "http://gone-1.nxdomain-bench/page/7": {"expect": "nxdomain", "kind": "nxdomain"},
    }
    code = lambda n, text: {"text": f"Rejected status code: {n} {text}", "code": n}  # noqa: E731
    report = {
        "total": 7,
        "error_map": {
            "links.md": [
                {"url": f"{base}/flaky/2", "status": code(503, "Service Unavailable")},
                {"url": f"{base}/gone404/3", "status": code(404, "Not Found")},
                {"url": f"{base}/challenge/5", "status": code(403, "Forbidden")},
                {
                    "url": "http://gone-1.nxdomain-bench/page/7",
                    "status": {"text": "Network error: Connection failed", "details": "x"},
                },
            ]
        },
        "timeout_map": {"links.md": [{"url": f"{base}/hang/6", "status": {"text": "Timeout"}}]},
        "excluded_map": {},
    }
    out = tmp_path / "lychee.json"
    out.write_text(json.dumps(report))
    raw, _ = bench_run.lychee_verdicts(out, list(truth))
    assert raw[f"{base}/page/1"] == "ok"
    assert raw[f"{base}/hang/6"] == "timeout"

    strict = bench_run.score(truth, raw, "lychee")
    assert (strict["found_broken"], strict["truly_broken"]) == (1, 2)  # the soft-404 passes
    assert strict["false_broken_kinds"] == {"flaky": 1, "challenge": 1, "hang": 1}
    assert strict["nxdomain_said_broken"] == 1

    lenient = bench_run.score(truth, raw, "lychee-404/410")
    assert lenient["false_broken"] == 0
    assert lenient["ok_flagged_kinds"] == {"flaky": 1}
    assert lenient["nxdomain_said_broken"] == 0


def test_every_kind_is_in_a_small_list_and_hosts_are_spread() -> None:
    specs = simweb.host_specs(5)
    assert specs[0].name == "localhost"
    assert [s.conc for s in specs].count(3) == 1  # one strict host in ten
    links = simweb.build_links(200, specs, 8000, skip=frozenset({"hang"}))
    kinds = {link.kind for link in links}
    assert kinds == {k for k, *_ in simweb.KINDS} - {"hang"}
    assert len(links) == len({link.url for link in links}) == 200
