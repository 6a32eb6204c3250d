# SPDX-License-Identifier: Apache-2.0
"""The protobuf wire format, as far as the test clients need it (standard library only): the
varint-delimited frames of the daemon API and the agent channel, and the few field kinds the
messages use. Shared by api_call.py, control_limits.py and microvm_client.py."""


def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def frame(body):
    return varint(len(body)) + body


def read_varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def parse_fields(buf):
    """[(field number, value)] in order: varints as int, the rest as bytes."""
    i, out = 0, []
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, v))
    return out


def decode(buf):
    """{field number: [values]}."""
    fields = {}
    for num, v in parse_fields(buf):
        fields.setdefault(num, []).append(v)
    return fields
