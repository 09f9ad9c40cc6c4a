#!/usr/bin/env python3
"""Validate `kvmbox run --stats-json` files against docs/stats.schema.json.

Usage: check_stats.py SCHEMA FILE...   (exit 0: all valid; 1: one line per error)
The subset of JSON Schema the schema uses is checked here, so no module is needed; where the
jsonschema module is installed (Debian python3-jsonschema), it checks the files too."""
import json
import re
import sys


def check(node, value, root, path, errors):
    if "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/$defs/"), ref
        node = root["$defs"][ref[len("#/$defs/"):]]
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool}
    want = node.get("type")
    if want == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif want == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = want is None or isinstance(value, kinds[want])
    if not ok:
        errors.append(f"{path}: {value!r} is not of type {want}")
        return
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{path}: {value!r} is not one of {node['enum']}")
    if "minimum" in node and value < node["minimum"]:
        errors.append(f"{path}: {value} < {node['minimum']}")
    if "maximum" in node and value > node["maximum"]:
        errors.append(f"{path}: {value} > {node['maximum']}")
    if "minLength" in node and len(value) < node["minLength"]:
        errors.append(f"{path}: shorter than {node['minLength']}")
    if "minItems" in node and len(value) < node["minItems"]:
        errors.append(f"{path}: fewer than {node['minItems']} items")
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            check(node["items"], item, root, f"{path}[{i}]", errors)
    if isinstance(value, dict):
        check_object(node, value, root, path, errors)


def check_object(node, value, root, path, errors):
    props = node.get("properties", {})
    for key in node.get("required", []):
        if key not in value:
            errors.append(f"{path}: '{key}' is missing")
    pattern = node.get("propertyNames", {}).get("pattern")
    for key, item in value.items():
        if pattern and not re.search(pattern, key):
            errors.append(f"{path}: key '{key}' does not match {pattern}")
        if key in props:
            check(props[key], item, root, f"{path}.{key}", errors)
        elif node.get("additionalProperties") is False:
            errors.append(f"{path}: '{key}' is not allowed")
        elif isinstance(node.get("additionalProperties"), dict):
            check(node["additionalProperties"], item, root, f"{path}.{key}", errors)


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    errors = []
    for name in sys.argv[2:]:
        with open(name) as f:
            doc = json.load(f)
        check(schema, doc, schema, name, errors)
        try:
            import jsonschema
        except ImportError:
            continue
        for e in jsonschema.Draft202012Validator(schema).iter_errors(doc):
            errors.append(f"{name}: jsonschema: {e.message}")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
