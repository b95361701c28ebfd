#!/usr/bin/env python3
"""The C++ decoder and schemas/manifest.schema.json must agree on every corpus file.

usage: manifest_schema_agreement.py VFIO_RECONCILE SOURCE_DIR

For each file of tests/manifests/good (valid) and tests/manifests/bad (invalid), the verdict of
`vfio-reconcile validate FILE` (exit 0 or 65) and that of jsonschema's Draft7Validator over the
YAML must both match the folder's. tests/manifests/bad-beyond-schema/ is NOT checked here: it holds
errors JSON Schema cannot express (duplicate keys, duplicate names across files, two assignments
with one address, settings in two files, non-UTF-8 bytes, anchors/aliases/tags), which only the
C++ test (manifest_decode_test) checks.

YAML is loaded with the YAML 1.2 core schema, as yaml-cpp and editors' YAML servers read it
(PyYAML's default is YAML 1.1, where `0000:01:00.0` is a number and `on` a boolean).
"""
import json
import pathlib
import re
import subprocess
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types."""


Yaml12Loader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$", list("-+.0123456789")),
]:
    Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern), first)


def construct_int(loader, node):
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", construct_int)


def schema_verdict(validator, path):
    try:
        with open(path, "rb") as f:
            document = yaml.load(f, Loader=Yaml12Loader)
    except yaml.YAMLError as e:
        return False, f"YAML: {str(e).splitlines()[0]}"
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    if errors:
        return False, f"{'/'.join(map(str, errors[0].path))}: {errors[0].message}"
    return True, ""


def main():
    binary, source = sys.argv[1], pathlib.Path(sys.argv[2])
    schema = json.loads((source / "schemas/manifest.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    corpus = source / "tests/manifests"
    disagreements, checked = 0, 0
    for folder, expected in (("good", True), ("bad", False)):
        files = sorted((corpus / folder).glob("*.yaml"))
        if not files:
            print(f"no files in {corpus / folder}")
            return 1
        for path in files:
            checked += 1
            run = subprocess.run([binary, "validate", str(path)], capture_output=True, text=True,
                                 errors="replace")
            if run.returncode not in (0, 65):
                print(f"{path}: validate exited {run.returncode}: {run.stderr.strip()}")
                disagreements += 1
                continue
            cxx = run.returncode == 0
            schema_ok, why = schema_verdict(validator, path)
            if cxx != expected or schema_ok != expected:
                disagreements += 1
                print(f"{folder}/{path.name}: expected {'valid' if expected else 'invalid'}; "
                      f"C++ says {'valid' if cxx else 'invalid'} {run.stderr.strip()!r}; "
                      f"schema says {'valid' if schema_ok else 'invalid'} {why!r}")
    print(f"{checked} files checked, {disagreements} disagreements")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
