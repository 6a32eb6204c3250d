# SPDX-License-Identifier: Apache-2.0
"""fnguard's runtime for Python (docs/runtime.md): the Lambda Runtime API's client.

Imports MODULE from _HANDLER (MODULE.FUNCTION) out of /var/task, then /opt/python, and serves
invocations for as long as the environment lives: GET next, call FUNCTION(event, context),
POST the result as JSON; an exception is posted as an error. A module that cannot be imported
is an init error. Only the standard library of Debian's python3.
"""
import importlib
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]


def post(path, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req) as r:
            r.read()
    except urllib.error.HTTPError as e:
        # 413 (too large) or 400: the invocation is over either way; say why on the log.
        print("runtime: %s: %s %s" % (path, e.code, e.read().decode(errors="replace")),
              file=sys.stderr)


def error_body(e, error_type=None):
    return {
        "errorMessage": str(e),
        "errorType": error_type or type(e).__name__,
        "stackTrace": traceback.format_exception(type(e), e, e.__traceback__),
    }


class Context:
    """Lambda's context object, with its names."""

    def __init__(self, request_id, deadline_ms, arn):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.log_group_name = self.log_stream_name = ""
        self.identity = self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler():
    handler = os.environ["_HANDLER"]
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        raise ValueError("bad handler '%s': expected MODULE.FUNCTION" % handler)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    # Lambda's order: the code, then the layers' python/ and their site-packages.
    sys.path[:0] = [task_root, "/opt/python",
                    "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]]
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as e:  # any import failure is the function's init error
        raise InitError(e, "Runtime.ImportModuleError") from e
    try:
        return getattr(module, function_name)
    except AttributeError as e:
        raise InitError(e, "Runtime.HandlerNotFound") from e


class InitError(Exception):
    def __init__(self, cause, error_type):
        super().__init__(str(cause))
        self.cause, self.error_type = cause, error_type


def main():
    # The log is a pipe: a line is an event as soon as it is written.
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    try:
        handler = load_handler()
    except InitError as e:
        post("/init/error", error_body(e.cause, e.error_type),
             {"Lambda-Runtime-Function-Error-Type": e.error_type})
        sys.exit(1)
    except Exception as e:
        post("/init/error", error_body(e, "Runtime.UserCodeSyntaxError"),
             {"Lambda-Runtime-Function-Error-Type": "Runtime.UserCodeSyntaxError"})
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as r:
            request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline = int(r.headers.get("Lambda-Runtime-Deadline-Ms", "0"))
            arn = r.headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
            payload = r.read()
        os.environ["_X_AMZN_TRACE_ID"] = r.headers.get("Lambda-Runtime-Trace-Id", "")
        try:
            event = json.loads(payload) if payload else {}
            result = handler(event, Context(request_id, deadline, arn))
            body = json.dumps(result).encode()
        except Exception as e:
            post("/invocation/%s/error" % request_id, error_body(e),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        post("/invocation/%s/response" % request_id, body)


if __name__ == "__main__":
    main()
