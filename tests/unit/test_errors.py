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


def test_a_spec_error_message_lists_at_most_200_issues_but_keeps_them_all() -> None:
    issues = [errors.Issue("f.yaml", n, 1, "", "bad") for n in range(1, 1002)]
    err = errors.SpecError(issues)
    lines = str(err).splitlines()
    assert lines[0] == "1001 problems in the spec"
    assert len(lines) == 202
    assert lines[-1] == "… and 801 more (`archipel validate --json` lists all)"
    assert len(err.issues) == 1001


def test_output_path_errors_are_user_errors() -> None:
    assert issubclass(errors.OutputPathError, errors.UserError)
    assert errors.OutputPathError.code == "ARC-OUTPUT"
