"""Validates EPCIS documents against GS1's EPCIS 2.0 JSON schema (draft-07, formats checked).

Usage: validate.py SCHEMA FILE...; prints each file's first errors and exits 1 if any is
invalid.
"""

import json
import sys

import jsonschema_rs


def main() -> int:
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    validator = jsonschema_rs.Draft7Validator(schema, validate_formats=True)
    invalid = 0
    for path in sys.argv[2:]:
        document = json.load(open(path, encoding="utf-8"))
        errors = list(validator.iter_errors(document))
        if errors:
            invalid += 1
            print(f"{path}: {len(errors)} errors")
            for error in errors[:5]:
                print(f"  {list(error.instance_path)}: {error.message[:300]}")
    return 1 if invalid else 0


sys.exit(main())
