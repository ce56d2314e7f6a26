"""The Python side of bench/schema: one timed phase per process; its wall and CPU seconds on stdout.

    peer.py read FILE          pandas.read_parquet / pandas.read_csv of the whole file
    peer.py frictionless FILE  frictionless.validate against data/schema.json (fieldsMatch
                               "equal", duplicate_row check), the error count on stderr
"""

import copy
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    phase, path = sys.argv[1], Path(sys.argv[2])
    if phase == "read":
        import pandas as pd

        start, cpu = time.perf_counter(), time.process_time()
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        assert len(frame) > 0
    elif phase == "frictionless":
        import frictionless
        from frictionless import Checklist, Resource, Schema, checks

        descriptor = copy.deepcopy(json.loads((HERE / "data" / "schema.json").read_text()))
        descriptor["fieldsMatch"] = "equal"
        start, cpu = time.perf_counter(), time.process_time()
        resource = Resource(path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(descriptor))
        report = frictionless.validate(
            resource, checklist=Checklist(checks=[checks.duplicate_row()]), limit_errors=10_000_000
        )
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        print(f"frictionless: {len(report.flatten(['type']))} errors", file=sys.stderr)
    else:
        raise SystemExit(f"unknown phase {phase}")
    print(f"{elapsed:.4f} {cpu:.4f}")


if __name__ == "__main__":
    main()
