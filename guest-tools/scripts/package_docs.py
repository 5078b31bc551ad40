#!/usr/bin/env python3
"""Print the `package-docs` custom sections of WebAssembly components.

Walks the binary the way the Corral host does: custom sections at the top
level of the component and inside every nested core module or component.
Exits non-zero when a file has no `package-docs` section.

Usage: python3 scripts/package_docs.py FILE.wasm... [--json]
"""
import json
import sys

SECTION = "package-docs"
CUSTOM, CORE_MODULE, COMPONENT = 0, 1, 4  # component-model section ids


def leb128(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def custom_sections(data, path="component"):
    """Yield (where, name, payload) for every custom section, recursively."""
    if data[:4] != b"\0asm":
        raise ValueError(f"{path}: not a wasm binary")
    is_component = data[6:8] == b"\x01\x00"
    pos = 8
    while pos < len(data):
        section_id = data[pos]
        size, pos = leb128(data, pos + 1)
        body = data[pos : pos + size]
        pos += size
        if section_id == CUSTOM:
            name_len, start = leb128(body, 0)
            name = body[start : start + name_len].decode("utf-8")
            yield path, name, body[start + name_len :]
        elif is_component and section_id in (CORE_MODULE, COMPONENT):
            kind = "core module" if section_id == CORE_MODULE else "component"
            yield from custom_sections(body, f"{path} > {kind}")


def main():
    files = [a for a in sys.argv[1:] if not a.startswith("--")]
    dump = "--json" in sys.argv
    missing = 0
    for file in files:
        with open(file, "rb") as f:
            data = f.read()
        found = False
        for where, name, payload in custom_sections(data):
            if name != SECTION:
                print(f"{file}: {where}: custom section {name!r} ({len(payload)} bytes)")
                continue
            found = True
            docs = json.loads(payload[1:])
            print(
                f"{file}: {where}: {SECTION} v{payload[0]} ({len(payload)} bytes), "
                f"worlds {sorted(docs.get('worlds', {}))}, "
                f"interfaces {sorted(docs.get('interfaces', {}))}"
            )
            if dump:
                print(json.dumps(docs, indent=2))
        if not found:
            print(f"{file}: no {SECTION} section")
            missing += 1
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
