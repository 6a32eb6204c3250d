# SPDX-License-Identifier: Apache-2.0
# A Python function, written as for AWS Lambda: handler(event, context) returns what is sent
# back as JSON. Module state lives as long as the environment: `calls` counts the invocations
# this environment served (warm invocations see it grow; isolate_invocations would reset it).
import json
import os
import sys

calls = 0


def handler(event, context):
    global calls
    calls += 1
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"greeting {name} (call {calls})", file=sys.stderr)
    return {
        "greeting": f"Hello, {name}!",
        "calls": calls,
        "function": context.function_name,
        "version": context.function_version,
        "memory_mb": int(context.memory_limit_in_mb),
        "request_id": context.aws_request_id,
        "remaining_ms_positive": context.get_remaining_time_in_millis() > 0,
        "python": sys.version.split()[0],
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
    }
