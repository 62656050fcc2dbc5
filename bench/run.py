"""make bench: ours against the old pipeline and the floor, side by side, on the sandbox.

  python -m bench.run            full run (about 40 minutes on 2 cores)
  python -m bench.run --quick    one run of each, 2 targets for the fleet (CI)
  python -m bench.run --rollbacks  one deploy of each method, then 5 rollbacks of each
                                 kind (issue 7's median of 5; about 12 minutes)
  options: --keep (leave the sandbox targets up), --rounds N, --out DIR

Starts the sandbox targets (tests/harness/targets.py up --session sandbox), pushes
the app images when the registry lacks them, measures, writes
bench/results/latest.{json,md,png} (--rollbacks: rollbacks.*), and takes the targets down. Exit status: 0 when
every deploy and rollback went as expected, 1 otherwise, 2 when the bench itself
could not run.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from bench import machine, report
from bench.config import RESULTS, TMP
from bench.sections import Bench, Plan
from bench.shell import elapsed_total, progress


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="one run of each method; CI")
    parser.add_argument(
        "--rollbacks",
        action="store_true",
        help="one deploy of each method, then 5 rollbacks of each kind (no fleet, no overhead)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the sandbox targets up")
    parser.add_argument("--rounds", type=int, help="runs of each deploy method (default 5)")
    parser.add_argument("--out", default=str(RESULTS), help="output directory")
    return parser.parse_args(argv)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    for stale in ("logs", "timelines", "inventories", "fidelity"):
        shutil.rmtree(TMP / stale, ignore_errors=True)
    for stale in TMP.glob("secrets-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    signal.signal(signal.SIGTERM, _terminate)  # clean up (secrets, targets) on kill
    plan = Plan.make(args.quick, args.rounds, rollbacks=args.rollbacks)
    bench = Bench(plan)
    mode = "rollbacks" if args.rollbacks else "quick" if plan.quick else "full"
    progress(f"{mode} run: {plan}")
    meta: dict = {"mode": mode, "command": " ".join(["python -m bench.run", *sys.argv[1:]])}
    broken = None
    try:
        bench.setup(2 if plan.quick and not args.rollbacks else 1)
        meta.update(machine.describe(bench.t1.name))
        bench.deploys()  # measure 1 (in --quick with the prober: measure 2 as well)
        bench.deploys(probed=True)  # measure 2
        bench.old_rollbacks()  # measure 3, the old pipeline deployed last
        if not args.rollbacks:
            bench.overhead()  # measure 5
        if plan.quick and not args.rollbacks:
            bench.fleet()  # measure 4 (2 targets)
        bench.ours_rollbacks()  # measure 3, ours deployed last
        if not plan.quick:
            bench.fleet()  # measure 4, up to 8 targets: last, so that they load nothing else
    except (RuntimeError, OSError, StopIteration, AssertionError, KeyboardInterrupt) as exc:
        broken = f"{type(exc).__name__}: {exc}"
        progress(f"bench stopped: {broken}")
        traceback.print_exc()
    finally:
        try:
            bench.cleanup(args.keep)
        except RuntimeError as exc:
            bench.failures.append(f"clean-up: {exc}")
    meta.setdefault("date", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    meta["duration_s"] = round(elapsed_total(), 1)
    if broken:
        bench.failures.append(f"the bench stopped early: {broken}")
    runs = [r.as_dict() for r in bench.results]
    data = {
        "meta": meta,
        "plan": plan.__dict__,
        "info": bench.info,
        "notes": bench.notes,
        "failures": bench.failures,
        "summary": report.summarize(runs),
        "runs": runs,
    }
    paths = report.write(data, Path(args.out), mode if args.rollbacks else "latest")
    progress(f"results: {', '.join(str(p) for p in paths.values())}")
    print(paths["md"].read_text())
    progress(f"done in {meta['duration_s']:.0f} s; {len(bench.failures)} failure(s)")
    if broken:
        return 2
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
