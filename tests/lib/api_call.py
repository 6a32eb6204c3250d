#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A raw client of the daemon API (proto/fnguard/v1/api.proto), for the tests that must send
what the fnguard CLI never would, e.g. a policy_path for the daemon to read. Standard library
only: the few protobuf fields are encoded here. Prints "ok" or "error CODE: MESSAGE" and exits
0 or 1 (2: no answer within the timeout).

  api_call.py SOCKET register-path POLICY_PATH [CODE_DIR]
  api_call.py SOCKET status
"""
import socket
import sys

sys.dont_write_bytecode = True
from fngwire import decode as fields, field_bytes, read_varint, varint  # noqa: E402


def main():
    path, method = sys.argv[1], sys.argv[2]
    if method == "register-path":
        reg = field_bytes(1, sys.argv[3].encode())
        if len(sys.argv) > 4:
            reg += field_bytes(4, sys.argv[4].encode())
        body = varint(1 << 3) + varint(1) + field_bytes(16, reg)
    elif method == "status":
        body = varint(1 << 3) + varint(1) + field_bytes(21, b"")
    else:
        sys.exit("unknown method " + method)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(varint(len(body)) + body)
    buf = b""
    try:
        while True:
            if buf:
                n, i = read_varint(buf, 0)
                if len(buf) >= i + n:
                    break
            chunk = s.recv(65536)
            if not chunk:
                print("error: connection closed")
                sys.exit(1)
            buf += chunk
    except socket.timeout:
        print("error: no answer within 30 s")
        sys.exit(2)
    n, i = read_varint(buf, 0)
    resp = fields(buf[i:i + n])
    if 2 in resp:
        err = fields(resp[2][0])
        print("error %d: %s" % (err.get(1, [0])[0], err.get(2, [b""])[0].decode(errors="replace")))
        sys.exit(1)
    print("ok")


main()
