#!/usr/bin/env python3
"""The JSON outputs and schemas/{plan,apply,status,validate,owners}.schema.json must agree.

usage: output_schemas_test.py SOURCE_DIR [VFIO_RECONCILE EXAMPLE_HOSTS_DIR]

- Each schema is valid against its metaschema (draft 2020-12), and every $ref in it resolves.
- Every golden file tests/e2e/golden/{plan,apply,status,validate,owners}_*.json validates against
  its
  schema:
  each JSON document in it (the apply goldens hold one per run, each followed by a line
  "[run N: exit N, N writes]"; the "[exit N]" line at the end is stripped too). A golden JSON
  file of another command (no schema for it) fails.
- The schemas are strict: known-good documents with an unknown key, a wrong kind word or a
  required key removed are rejected; shapes no golden shows (deferred changes, a failure, a
  holder) are accepted.
- The schemas' kind words (action, blocked_by, result, hazard, finding and hint kinds, device
  kinds) are exactly the words the C++ to_string functions write, and their format_version
  consts are the code's, so a word or version added to the code but to no golden still fails.
- With VFIO_RECONCILE and EXAMPLE_HOSTS_DIR given, `status --json` of the real binary on the
  workstation example host validates too.

The schemas are draft 2020-12; apply.schema.json refers to plan.schema.json's $defs by a
relative $ref, resolved here through a registry (jsonschema >= 4.18) or a RefResolver store
(older, e.g. Debian 12's 4.10).
"""
import copy
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import jsonschema

KINDS = ("plan", "apply", "status", "validate", "owners")


def load_schemas(source):
    return {kind: json.loads((source / f"schemas/{kind}.schema.json").read_text())
            for kind in KINDS}


def make_validators(schemas):
    cls = jsonschema.Draft202012Validator
    try:
        import referencing  # jsonschema >= 4.18
    except ImportError:
        store = {s["$id"]: s for s in schemas.values()}
        return {kind: cls(s, resolver=jsonschema.RefResolver.from_schema(s, store=store))
                for kind, s in schemas.items()}
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in schemas.values())
    return {kind: cls(s, registry=registry) for kind, s in schemas.items()}


def errors_of(validator, document, limit=3):
    # Deepest first: the most specific. (jsonschema < 4.18 also reports a change whose nested
    # value is invalid as having that key unevaluated.)
    errors = sorted(validator.iter_errors(document),
                    key=lambda e: (-len(e.path), [str(p) for p in e.path]))
    return [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:limit]]


def read_golden(path):
    """The JSON documents of a golden file, which ends with a line "[exit N]". When
    vfio-sim-run --runs prints one document per run, each is followed by a line
    "[run N: exit N, N writes]"."""
    documents, chunk, markers = [], [], []
    for line in path.read_text().splitlines():
        run_marker = re.fullmatch(r"\[run \d+: .*\]", line)
        if run_marker or re.fullmatch(r"\[exit \d+\]", line):
            if "".join(chunk).strip():
                documents.append(json.loads("\n".join(chunk)))
            elif run_marker or not markers:
                raise ValueError(f"{line!r} follows no JSON document")
            chunk = []
            markers.append(line)
        else:
            chunk.append(line)
    if not markers or not markers[-1].startswith("[exit "):
        raise ValueError("no closing [exit N] line")
    if "".join(chunk).strip():
        raise ValueError(f"text after {markers[-1]!r}: {chunk[0]!r}")
    return documents


# --- the schemas themselves -----------------------------------------------------------------

def resolve_pointer(document, pointer):
    node = document
    for part in pointer.lstrip("/").split("/") if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def unresolved_refs(name, schema, by_file):
    """Every $ref as FILE#POINTER or #POINTER that does not name a schema in by_file."""
    bad = []

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target, _, pointer = ref.partition("#")
                try:
                    resolve_pointer(by_file[target or name], pointer)
                except (KeyError, IndexError, ValueError, TypeError):
                    bad.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return bad


def check_schemas(schemas):
    failures = 0
    by_file = {f"{kind}.schema.json": s for kind, s in schemas.items()}
    for kind, schema in schemas.items():
        problems = []
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            problems.append(f"not a valid draft 2020-12 schema: {e.message}")
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append("$schema is not draft 2020-12")
        if schema.get("$id", "").rsplit("/", 1)[-1] != f"{kind}.schema.json":
            problems.append("$id does not end in its file name")
        problems += [f"$ref {ref} does not resolve"
                     for ref in unresolved_refs(f"{kind}.schema.json", schema, by_file)]
        print(f"{'FAIL' if problems else 'ok  '} schema  schemas/{kind}.schema.json")
        for p in problems:
            print(f"       {p}")
        failures += bool(problems)
    # status.schema.json and owners.schema.json stand alone; what they share with
    # plan.schema.json must not drift.
    for kind, names in (("status", ("pciAddress", "pciId", "classCode", "name", "holder")),
                        ("owners", ("pciAddress", "name"))):
        for name in names:
            if schemas[kind]["$defs"][name] != schemas["plan"]["$defs"][name]:
                print(f"FAIL schema  $defs/{name} differs between {kind} and plan schemas")
                failures += 1
    # An owners group says how and in_flight as a holder does.
    owners_group = schemas["owners"]["$defs"]["group"]["properties"]
    for key in ("how", "in_flight"):
        if owners_group[key] != schemas["plan"]["$defs"]["holder"]["properties"][key]:
            print(f"FAIL schema  owners group {key} differs from plan's holder {key}")
            failures += 1
    return failures


# --- the schemas against the code's words ---------------------------------------------------

def switch_words(source, path, signature):
    """The words `case X: return "word";` of the function starting with signature."""
    text = (source / path).read_text()
    start = text.find(signature)
    if start < 0:
        raise LookupError(f"{path}: no {signature!r}")
    body = text[start:text.find("\n}\n", start)]
    return re.findall(r'case\s+[\w:]+:\s*return\s+"([^"]+)";', body)


def cxx_constant(source, path, name):
    match = re.search(rf'{name}\s*=\s*"([^"]+)"', (source / path).read_text())
    if not match:
        raise LookupError(f"{path}: no {name}")
    return match.group(1)


def check_words(source, schemas):
    plan, apply, status = schemas["plan"], schemas["apply"], schemas["status"]
    status_device = status["$defs"]["device"]["properties"]
    result_words = None
    checks = []
    try:
        result_words = switch_words(source, "src/apply/apply_outcome.cc",
                                    "std::string_view to_string(GroupResult")
        checks = [
            ("plan action", plan["$defs"]["action"]["enum"],
             switch_words(source, "src/plan/plan.cc", "std::string_view to_string(GroupAction")),
            ("plan blocked_by", plan["$defs"]["blockReason"]["enum"],
             switch_words(source, "src/plan/plan.cc", "std::string_view to_string(BlockReason")),
            ("apply result", apply["$defs"]["result"]["enum"], result_words),
            ("apply applied keys", apply["$defs"]["applied"]["required"],
             [w.replace("-", "_") for w in result_words] + ["interrupted"]),
            ("status hazard kind", status["$defs"]["hazard"]["properties"]["kind"]["enum"],
             switch_words(source, "src/observe/host_snapshot.cc",
                          "std::string_view to_string(Hazard::Kind")),
            ("status device kind", status_device["kind"]["enum"],
             switch_words(source, "src/observe/host_snapshot.cc",
                          "std::string_view to_string(DeviceKind")),
            ("status finding kind", status["$defs"]["finding"]["properties"]["kind"]["enum"],
             switch_words(source, "src/cli/status_hints.cc",
                          "std::string_view to_string(Finding::Kind")),
            ("status hint kind", status["$defs"]["hint"]["properties"]["kind"]["enum"],
             re.findall(r'hints\.push_back\(\{"([^"]+)"',
                        (source / "src/cli/status_hints.cc").read_text())),
            ("plan format_version", [plan["$defs"]["formatVersion"]["const"]],
             [cxx_constant(source, "src/cli/plan_json.h", "kPlanFormatVersion")]),
            ("status format_version", [status["properties"]["format_version"]["const"]],
             [cxx_constant(source, "src/cli/status_json.h", "kStatusFormatVersion")]),
            ("validate format_version",
             [schemas["validate"]["properties"]["format_version"]["const"]],
             [cxx_constant(source, "src/cli/validate_command.h", "kValidateFormatVersion")]),
            ("owners format_version",
             [schemas["owners"]["properties"]["format_version"]["const"]],
             [cxx_constant(source, "src/cli/owners_command.h", "kOwnersFormatVersion")]),
        ]
    except (LookupError, OSError) as e:
        print(f"FAIL words   cannot read the code's words: {e}")
        return 1
    failures = 0
    for what, schema_words, code_words in checks:
        ok = code_words and sorted(schema_words) == sorted(code_words)
        print(f"{'ok  ' if ok else 'FAIL'} words   {what}: {len(code_words)} in the code")
        if not ok:
            print(f"       only in the schema: {sorted(set(schema_words) - set(code_words))}; "
                  f"only in the code: {sorted(set(code_words) - set(schema_words))}")
            failures += 1
    return failures


# --- strictness: mutations of known-good documents ------------------------------------------

def first_with(items, predicate):
    return next(i for i, item in enumerate(items) if predicate(item))


def change_base(doc):
    return {k: v for k, v in doc["changes"][0].items() if k != "outcome"}


def strictness_cases(goldens):
    """(kind, document name, what, mutate, should_pass); mutate changes a copy in place."""
    plan = ("plan", goldens["plan"])
    apply = ("apply", goldens["apply"])
    status = ("status", goldens["status"])
    owners = ("owners", goldens["owners"])
    holder = {"owner": "boot", "assignment": "gpu0", "how": "adopted", "in_flight": False}
    holder_1x = {k: v for k, v in holder.items() if k != "in_flight"}  # plan 1.x/2.0's shape
    failure = {"device": "0000:01:00.0", "step": "wait for vfio-pci",
               "message": "no driver bound", "errno": None}

    def hazard_device(d):
        return d["devices"][first_with(d["devices"], lambda x: x["hazards"])]

    return [
        # Rejected: an unknown key at each level.
        (*plan, "an unknown top-level key", lambda d: d.update(extra=1), False),
        (*plan, "an unknown key in a change", lambda d: d["changes"][0].update(bogus=1), False),
        (*plan, "an unknown key in a device",
         lambda d: d["changes"][0]["devices"][0].update(bogus=1), False),
        (*plan, "an unknown key in after",
         lambda d: d["changes"][0]["devices"][0]["after"].update(bogus=1), False),
        (*plan, "deferred in a change of changes[]",
         lambda d: d["changes"][0].update(deferred="why"), False),
        (*apply, "an unknown key in a change (through plan.schema.json)",
         lambda d: d["changes"][0].update(bogus=1), False),
        (*apply, "an unknown key in an outcome",
         lambda d: d["changes"][0]["outcome"].update(bogus=1), False),
        (*apply, "a 1.x key in applied", lambda d: d["applied"].update({"vfs-set": 0}), False),
        (*status, "an unknown top-level key", lambda d: d.update(extra=1), False),
        (*status, "an unknown key in a device", lambda d: d["devices"][0].update(bogus=1),
         False),
        # Rejected: a word that names no kind, a bad value.
        (*plan, "action 'claimed'", lambda d: d["changes"][0].update(action="claimed"), False),
        (*plan, "blocked_by 'busy'", lambda d: d["changes"][0].update(blocked_by="busy"), False),
        (*plan, "role 'primary'",
         lambda d: d["changes"][0]["devices"][0].update(role="primary"), False),
        (*plan, "format_version 1.4", lambda d: d.update(format_version="1.4"), False),
        (*plan, "a short address",
         lambda d: d["changes"][0]["devices"][0].update(address="0000:3:00.0"), False),
        (*plan, "an upper-case vendor ID",
         lambda d: d["changes"][0]["devices"][0].update(vendor="10DE"), False),
        (*plan, "a bad fingerprint",
         lambda d: d["observed"].update(fingerprint="fnv1a64:1234"), False),
        (*plan, "held_by how 'taken'",
         lambda d: d["changes"][0].update(held_by=dict(holder, how="taken")), False),
        (*apply, "action 'bogus' (plan's enum through the $ref)",
         lambda d: d["changes"][0].update(action="bogus"), False),
        (*apply, "result 'claim'", lambda d: d["changes"][0]["outcome"].update(result="claim"),
         False),
        (*status, "hazard kind 'busy'",
         lambda d: hazard_device(d)["hazards"][0].update(kind="busy"), False),
        (*status, "a 4-digit class", lambda d: d["devices"][0].update({"class": "0x0300"}),
         False),
        (*status, "format_version 1.2", lambda d: d.update(format_version="1.2"), False),
        # Rejected: a required key missing.
        (*plan, "no pruned in a change", lambda d: d["changes"][0].pop("pruned"), False),
        (*plan, "no set_vfs in summary", lambda d: d["summary"].pop("set_vfs"), False),
        (*plan, "a deferred change without deferred",
         lambda d: d.update(deferred=[change_base(d)]), False),
        (*apply, "a change without outcome", lambda d: d["changes"][0].pop("outcome"), False),
        (*apply, "no warnings in a change (through plan.schema.json)",
         lambda d: d["changes"][0].pop("warnings"), False),
        (*apply, "no interrupted in applied", lambda d: d["applied"].pop("interrupted"), False),
        (*apply, "no dry_run", lambda d: d.pop("dry_run"), False),
        (*status, "no hints", lambda d: d.pop("hints"), False),
        (*status, "held_by without in_flight",
         lambda d: d["groups"][0].update(held_by=holder_1x), False),
        (*owners, "an unknown key in a group",
         lambda d: d["owners"][0]["groups"][0].update(bogus=1), False),
        (*owners, "an owner holding no group",
         lambda d: d["owners"][0].update(groups=[]), False),
        (*owners, "how 'taken'", lambda d: d["owners"][0]["groups"][0].update(how="taken"),
         False),
        (*owners, "no in_flight", lambda d: d["owners"][0]["groups"][0].pop("in_flight"), False),
        (*owners, "an owner name with a capital",
         lambda d: d["owners"][0].update(owner="Boot"), False),
        # Accepted: shapes no golden shows.
        (*plan, "a deferred change",
         lambda d: d.update(deferred=[dict(change_base(d), deferred="left for the boot run")]),
         True),
        (*plan, "a held group",
         lambda d: d["changes"][0].update(held_by=holder, owner="boot"), True),
        (*plan, "a change without a group or assignment",
         lambda d: d["changes"][0].update(group=None, assignment=None, owner=None), True),
        (*apply, "a deferred change",
         lambda d: d.update(deferred=[dict(change_base(d), deferred="left for the boot run")]),
         True),
        (*apply, "a failure with an errno",
         lambda d: d["changes"][0]["outcome"].update(failure=dict(failure, errno="EBUSY")), True),
        (*apply, "a failure without an errno",
         lambda d: d["changes"][0]["outcome"].update(failure=failure), True),
        (*apply, "an outcome device not read",
         lambda d: d["changes"][0]["outcome"].update(
             devices=[{"address": "0000:01:00.0", "before": None, "after": None}]), True),
        (*status, "a held group in flight",
         lambda d: d["groups"][0].update(held_by=dict(holder, in_flight=True)), True),
        (*plan, "a held group without in_flight (one holder shape in plan and status)",
         lambda d: d["changes"][0].update(held_by=holder_1x, owner="boot"), False),
        (*owners, "a group gone from the host (no devices)",
         lambda d: d["owners"][0]["groups"][0].update(devices=[]), True),
        (*owners, "no owners at all", lambda d: d.update(owners=[]), True),
        (*status, "a device pci.ids does not name",
         lambda d: d["devices"][0]["names"].update(vendor=None, device=None, **{"class": None}),
         True),
        (*status, "a finding",
         lambda d: d["findings"].append({"kind": "group-mismatch", "device": "0000:01:00.0",
                                         "path": "kernel/iommu_groups/1/devices",
                                         "message": "0000:01:00.0 is not listed"}), True),
    ]


def check_strictness(validators, goldens):
    failures = 0
    for kind, (name, document), what, mutate, should_pass in strictness_cases(goldens):
        mutated = copy.deepcopy(document)
        mutate(mutated)
        errors = errors_of(validators[kind], mutated, limit=1)
        ok = not errors if should_pass else bool(errors)
        verdict = "accepted" if should_pass else "rejected"
        print(f"{'ok  ' if ok else 'FAIL'} strict  {kind} ({name}) with {what} is "
              f"{verdict if ok else 'not ' + verdict}{': ' + errors[0] if errors else ''}")
        failures += not ok
    return failures


# --- the outputs ----------------------------------------------------------------------------

def check_goldens(source, validators):
    """Failures, and per kind one valid document (the one with the most changes/hazards)."""
    failures, checked, samples = 0, 0, {}
    golden_dir = source / "tests/e2e/golden"
    for path in sorted(golden_dir.glob("*.json")):
        kind = path.name.split("_", 1)[0]
        rel = path.relative_to(source)
        if kind not in validators:
            print(f"FAIL golden  {rel}: no schema for {kind} output "
                  f"(add schemas/{kind}.schema.json)")
            failures += 1
            continue
        checked += 1
        try:
            documents = read_golden(path)
        except ValueError as e:
            print(f"FAIL golden  {rel}: {e}")
            failures += 1
            continue
        for number, document in enumerate(documents, 1):
            what = f"{rel}" + (f" document {number}" if len(documents) > 1 else "")
            errors = errors_of(validators[kind], document)
            print(f"{'FAIL' if errors else 'ok  '} golden  {what} ({kind}.schema.json)")
            for e in errors:
                print(f"       {e}")
            failures += bool(errors)
            if not errors:
                weight = len(document.get("changes", []))
                if kind == "status":
                    weight = sum(len(d["hazards"]) for d in document["devices"])
                if kind == "validate":
                    weight = len(document["problems"])
                if kind == "owners":
                    weight = len(document["owners"])
                if weight and (kind not in samples or weight > samples[kind][2]):
                    samples[kind] = (path.name, document, weight)
    for kind in KINDS:
        if kind not in samples:
            print(f"FAIL golden  no valid {kind}_*.json golden with changes (or hazards)")
            failures += 1
    return failures, checked, {k: (name, doc) for k, (name, doc, _) in samples.items()}


def check_live_status(binary, hosts, validator):
    host = pathlib.Path(hosts) / "workstation"
    with tempfile.TemporaryDirectory() as scratch:
        run = subprocess.run(
            [binary, "--sysfs-root", str(host), "--proc-root", f"{host}.proc",
             "--state-dir", str(pathlib.Path(scratch) / "no-state-dir"), "status", "--json"],
            capture_output=True, text=True, errors="replace")
    what = f"{binary} status --json on {host.name}"
    if run.returncode != 0:
        print(f"FAIL live    {what}: exit {run.returncode}: {run.stderr.strip()}")
        return 1
    try:
        errors = errors_of(validator, json.loads(run.stdout))
    except json.JSONDecodeError as e:
        errors = [f"not JSON: {e}"]
    print(f"{'FAIL' if errors else 'ok  '} live    {what} (status.schema.json)")
    for e in errors:
        print(f"       {e}")
    return bool(errors)


def main():
    if len(sys.argv) not in (2, 4):
        print(__doc__.splitlines()[2])
        return 2
    source = pathlib.Path(sys.argv[1])
    schemas = load_schemas(source)
    failures = check_schemas(schemas)
    validators = make_validators(schemas)
    failures += check_words(source, schemas)
    golden_failures, checked, samples = check_goldens(source, validators)
    failures += golden_failures
    if len(samples) == len(KINDS):
        failures += check_strictness(validators, samples)
    live = 0
    if len(sys.argv) == 4:
        live = 1
        failures += check_live_status(sys.argv[2], sys.argv[3], validators["status"])
    print(f"{checked} golden files and {live} live output checked against "
          f"{len(schemas)} schemas: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
