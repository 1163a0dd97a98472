"""Study throughput per engine: the lesion patch study in-process, in 2 local processes and on a local Ray.

All three in one run, on the same items, each into a fresh folder (nothing resumed). Figures:
items per second per engine (wall clock, including starting the workers and loading their models)
and as ratios to in-process; Ray's own start-up (ray.init of a local instance); and each engine's
overhead per item, measured with items that do no work (the time between the first and the last of
1,000 results, per item: the cost of shipping an item and its result, without the workers' start-up).
The results of the three runs are checked to be identical.

    python bench/study.py [--n 24] [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.patch_scores import write_study  # noqa: E402
from propgrad.study import from_toml, run_study  # noqa: E402
from propgrad.study.engines import InProcess, Processes  # noqa: E402
from propgrad.study.inputs import ImageRef  # noqa: E402
from propgrad.study.items import StudyItem  # noqa: E402
from propgrad.study.worker import OK, ItemResult  # noqa: E402


class _Idle:
    def run(self, item):
        return ItemResult(item.index, item.key, OK)


def idle_worker():
    """A worker that does nothing: what is left of an engine's time per item is its overhead."""
    return _Idle()


def overhead_per_item(engine, count: int) -> float:
    """Seconds per idle item between the first and the last result: the workers are up by the first
    result, so their start-up is not counted."""
    items = [StudyItem(i, f"item {i}", ImageRef(f"item {i}"), 0, "idle", 0) for i in range(count)]
    arrivals = [time.perf_counter() for _ in engine.run(idle_worker, items)]
    assert len(arrivals) == count
    return (arrivals[-1] - arrivals[0]) / (count - 1)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="melanoma images (x 3 stickers each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--idle-items", type=int, default=1000)
    args = parser.parse_args(argv)
    import ray

    from propgrad.study import RayEngine

    root = Path(tempfile.mkdtemp(prefix="bench-study-"))
    study = from_toml(write_study(root, ["cnn"], args.n, 3, 10, args.permutations))
    items = args.n  # one intervention: one item per image

    figures, outputs = {}, {}
    for name, engine in (("in-process", InProcess()), (f"{args.workers} processes", Processes(args.workers))):
        started = time.perf_counter()
        run_study(study, root / name, engine=engine)
        figures[name] = items / (time.perf_counter() - started)
        outputs[name] = (root / name / "results.csv").read_text()

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="WARNING", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}})
    ray_start = time.perf_counter() - started
    try:
        started = time.perf_counter()
        run_study(study, root / "ray", engine=RayEngine(workers=args.workers))
        figures["Ray local"] = items / (time.perf_counter() - started)
        outputs["Ray local"] = (root / "ray" / "results.csv").read_text()
        ray_idle = overhead_per_item(RayEngine(workers=args.workers), args.idle_items)
    finally:
        ray.shutdown()
    process_idle = overhead_per_item(Processes(args.workers), args.idle_items)

    same = len(set(outputs.values())) == 1
    print(f"Lesion patch study: {args.n} melanomas x 3 stickers x 10 steps, 2 lesion CNNs, {args.permutations} "
          f"permutations; {os.cpu_count()} CPUs; each engine starts its workers and loads the models.\n")
    print("| engine | items/s | vs in-process |")
    print("| --- | --- | --- |")
    for name, rate in figures.items():
        print(f"| {name} | {rate:.2f} | {rate / figures['in-process']:.2f}x |")
    print(f"\nray.init (local, {os.cpu_count()} CPUs): {ray_start:.1f} s (not in the Ray rate above)")
    print(f"overhead per item (idle workers, {args.idle_items} items, after start-up): Ray {1000 * ray_idle:.1f} ms, "
          f"{args.workers} processes {1000 * process_idle:.1f} ms")
    print(f"identical results.csv on all three engines: {same}")
    ratio = figures["Ray local"] / figures["in-process"]
    print(f"study_ray_vs_inprocess: {ratio:.2f}")
    return {"rates": figures, "ray_start_s": ray_start, "ray_overhead_s": ray_idle,
            "process_overhead_s": process_idle, "identical": same}


if __name__ == "__main__":
    main()
