"""Runs potentiel.rules.durable_engine.evaluate in a child process.

Reads {"conditions": ..., "records": ...} as JSON on stdin, prints the result as JSON.
Used by tests whose failure mode (if a guard were removed) is a hang or a segfault.
"""

import json
import sys

from potentiel.rules.durable_engine import evaluate

if __name__ == "__main__":
    job = json.load(sys.stdin)
    json.dump(evaluate(job["conditions"], job["records"]), sys.stdout)
