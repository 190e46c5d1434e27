"""Comparing a reference's sample response with portal's."""

from __future__ import annotations

from bench.parity import Sample, compare_samples, normalise_html

TODO = b'{"id":3,"name":"three","finished":true,"url":"/api/todos/3"}'


def json_sample(body: bytes, status: int = 200) -> Sample:
    return Sample(status=status, media_type="application/json", body=body)


def test_the_same_json_in_another_layout_is_the_same() -> None:
    spaced = b'{"id": 3, "name": "three", "finished": true, "url": "/api/todos/3"}'

    assert compare_samples("todo", json_sample(TODO), json_sample(spaced)) == []


def test_a_different_value_is_named_with_its_key() -> None:
    other = TODO.replace(b"/api/todos/3", b"/todos/3")

    (problem,) = compare_samples("todo", json_sample(TODO), json_sample(other))

    assert "todo" in problem
    assert "'url'" in problem


def test_missing_keys_status_and_media_type_are_reported() -> None:
    reference = Sample(status=404, media_type="text/plain", body=b'{"id":3}')

    problems = compare_samples("todo", json_sample(TODO), reference)

    assert any("status 404" in p for p in problems)
    assert any("Content-Type" in p for p in problems)
    assert any("keys" in p for p in problems)


def test_volatile_keys_are_ignored_at_any_depth() -> None:
    ours = json_sample(b'{"id":1,"choices":[{"id":1,"votes":0}],"votes":0}')
    theirs = json_sample(b'{"id":1,"choices":[{"id":1,"votes":7}],"votes":9}')

    assert compare_samples("question", ours, theirs, volatile=("votes",)) == []
    assert compare_samples("question", ours, theirs) != []


def test_html_is_compared_without_its_csrf_tokens_and_nonces() -> None:
    page = '<input type="hidden" name="csrf_token" value="{}"><script nonce="{}"></script>'
    ours = Sample(200, "text/html", page.format("a1", "n1").encode())
    theirs = Sample(200, "text/html", page.format("b2", "n2").encode())

    assert compare_samples("page", ours, theirs) == []
    assert normalise_html(page.format("a1", "n1")) == normalise_html(page.format("b2", "n2"))


def test_different_html_comes_with_a_diff() -> None:
    ours = Sample(200, "text/html", b"<p>one</p>\n<p>two</p>")
    theirs = Sample(200, "text/html", b"<p>one</p>\n<p>three</p>")

    (problem,) = compare_samples("page", ours, theirs)

    assert "-<p>two</p>" in problem
    assert "+<p>three</p>" in problem


def test_other_bodies_are_compared_byte_for_byte() -> None:
    css = Sample(200, "text/css", b"body { margin: 0 }")

    assert compare_samples("css", css, css) == []
    assert compare_samples("css", css, Sample(200, "text/css", b"body{}")) != []
