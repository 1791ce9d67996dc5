"""Every error code is stable, unique and documented in the exception tree's docstring."""

from __future__ import annotations

import archipel.errors as errors


def test_each_error_code_is_unique_and_documented() -> None:
    codes = [cls.code for cls in errors.ALL_ERRORS]
    assert len(codes) == len(set(codes)), codes
    doc = errors.__doc__ or ""
    for cls in errors.ALL_ERRORS:
        assert cls.__name__ in doc, f"{cls.__name__} is missing from the errors module docstring"
        if cls not in (errors.ArchipelError, errors.UserError, errors.RuntimeFailure):
            assert cls.code in doc, f"{cls.code} ({cls.__name__}) is not documented"


def test_spec_error_lists_every_issue_with_its_position() -> None:
    issues = [
        errors.Issue("f.yaml", 3, 5, "services[0].model", "unknown model 'x'", "did you mean 'y'?"),
        errors.Issue("f.yaml", 9, 1, "", "YAML syntax error"),
    ]
    text = str(errors.SpecError(issues))
    assert text.splitlines() == [
        "2 problems in the spec",
        "f.yaml:3:5: services[0].model: unknown model 'x' — did you mean 'y'?",
        "f.yaml:9:1: YAML syntax error",
    ]
