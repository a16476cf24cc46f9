"""Strict JSON: size limit first, UTF-8 (BOM allowed), line/column, duplicate keys, NaN/Infinity, depth."""

from __future__ import annotations

from dnne.workflow.parse import MAX_DEPTH, parse_json


def codes(data, **kw) -> list[str]:
    return [d.code for d in parse_json(data, **kw)[1]]


def test_valid_json_with_bom():
    value, problems = parse_json(b'\xef\xbb\xbf{"a": [1, 2.5, "x"]}')
    assert value == {"a": [1, 2.5, "x"]} and problems == []


def test_parse_error_has_line_and_column():
    _, [problem] = parse_json('{\n  "a": 1,\n  "b": }')
    assert problem.code == "E_PARSE" and problem.path == "3:8"


def test_bad_utf8_names_the_position():
    _, [problem] = parse_json(b'{"a":\n "\xff"}')
    assert problem.code == "E_PARSE" and problem.path == "2:3" and "0xff" in problem.message


def test_size_limit_is_checked_before_parsing():
    assert codes(b"{" * 20, max_bytes=10) == ["E_TOO_LARGE"]  # not E_PARSE: never parsed


def test_duplicate_keys_and_nonfinite_constants():
    assert codes('{"a": 1, "a": 2}') == ["E_DUP_KEY"]
    for constant in ("NaN", "Infinity", "-Infinity"):
        _, [problem] = parse_json('{"nodes": [{"w": [1, ' + constant + "]}]}")
        assert problem.code == "E_NONFINITE" and problem.path == "$.nodes[0].w[1]" and problem.got == constant


def test_depth_limit_and_recursion():
    assert codes("[" * MAX_DEPTH + "]" * MAX_DEPTH) == []
    assert codes("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == ["E_TOO_LARGE"]
    assert codes("[" * 100_000) in (["E_TOO_LARGE"], ["E_PARSE"])


def test_huge_integer_is_a_coded_range_error_not_a_crash():
    assert codes("[" + "9" * 5000 + "]") == ["E_NUMBER_RANGE"]
