# SPDX-License-Identifier: Apache-2.0
# A compromised Python function: what code an attacker controls inside it would try
# (FunctionShield's four blocks). Each attempt's result is in the response, as the errno name
# ("ok" if it worked). The policy beside it denies all four; the guest's kernel enforces it.
#
# The module is imported from its compiled form (__pycache__, checked by hash, not by reading
# this file), so the policy can deny reading the source without keeping it from running.
import errno
import socket
import subprocess


def _name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


def handler(event, context):
    result = {}
    # 1. Steal the function's own code.
    try:
        with open(__file__) as f:
            f.read()
        result["read_handler"] = "ok"
    except OSError as e:
        result["read_handler"] = _name(e)
    # 2. Leave something in /tmp for the next invocation.
    try:
        with open("/tmp/stolen", "w") as f:
            f.write("x")
        result["write_tmp"] = "ok"
    except OSError as e:
        result["write_tmp"] = _name(e)
    # 3. Start a shell.
    try:
        subprocess.run(["/bin/sh", "-c", "id"], check=True, capture_output=True)
        result["start_shell"] = "ok"
    except OSError as e:
        result["start_shell"] = _name(e)
    except subprocess.CalledProcessError as e:
        result["start_shell"] = f"exit {e.returncode}"
    # 4. Call home (a documentation address: it goes nowhere even when allowed).
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(("192.0.2.1", 443))
        result["connect_out"] = "ok"
    except OSError as e:
        result["connect_out"] = _name(e)
    finally:
        s.close()
    return result
