"""Documents trap 1: one durable_rules session per account.

Asserts one fact per account, each in its own session (sid), as a naive integration
would. durable_rules 2.0.28 holds at most 1,024 live sessions per ruleset: the 1,025th
raises MemoryError (later calls may segfault). Exits 0 only if every account went through.
"""

import json
import sys

import durable_rules_engine as engine

if __name__ == "__main__":
    handle = engine.create_ruleset(
        "naive-sessions", json.dumps({"r": {"all": [{"m": {"$gte": {"x": 0}}}]}}))
    for i in range(int(sys.argv[1])):
        try:
            code, state = engine.assert_fact(handle, json.dumps({"sid": "s%d" % i, "id": 1, "x": i}))
        except MemoryError:
            print(f"MemoryError at session {i}", flush=True)
            sys.exit(3)
        action = engine.start_action_for_state(handle, state)
        message = action[1] if action else None
        while message:
            message = engine.complete_and_start_action(handle, state)
    print("all sessions created")
