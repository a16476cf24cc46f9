"""A long run (many small steps): memory stays flat, queues stay bounded, node stats stay scalars."""

from __future__ import annotations

import statistics

from .harness import STEPS_PER_EPOCH, start, tap_config

EPOCHS = 40  # 400 steps + 40 evaluations
RSS_EVERY = 10


def test_long_run_has_no_memory_growth_and_bounded_queues(exported, data_dir, tmp_path):
    config = tap_config(exported, tmp_path / "config.json", rss_every=RSS_EVERY)
    run = start(exported, data_dir, tmp_path / "run", "--epochs", str(EPOCHS), config=config)
    code, _ = run.wait(timeout=240)
    assert code == 0, run.stderr
    rss = [r["rss_kb"] for r in run.metrics("rss")]
    assert len(rss) == EPOCHS * STEPS_PER_EPOCH // RSS_EVERY
    # after warm-up (first quarter), the last quarter may not sit more than 8 MiB above the second quarter
    quarter = len(rss) // 4
    early = statistics.median(rss[quarter : 2 * quarter])
    late = statistics.median(rss[-quarter:])
    assert late - early < 8 * 1024, f"RSS grew from {early} kB to {late} kB over {len(rss) * RSS_EVERY} steps"
    (stats,) = run.metrics("stats")
    for queue in stats["queues"]:
        assert queue["high_water"] <= queue["maxsize"], queue
        assert queue["drops"] == 0, queue
    # lockstep training loop: nothing piles up in front of any node
    assert max(q["high_water"] for q in stats["queues"]) <= 2
    steps = EPOCHS * STEPS_PER_EPOCH
    by_class = {n["class"]: n for n in stats["nodes"]}
    assert by_class["TrainingStep"]["firings"] == steps and by_class["FaultTap"]["firings"] == steps
    for node in stats["nodes"]:  # per-node stats are fixed-size numbers, not per-firing lists
        assert all(isinstance(v, (int, float, str)) for v in node.values()), node
