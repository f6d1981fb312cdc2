"""Hostile submissions: each a copy of a good one (:func:`leaderboard_corpus.good_submission`) made to
hold up, crash, inject into, or cheat the board.

* :data:`HOSTILE`: must be rejected, each with (part of) the reason it must give;
* :data:`INERT`: must be accepted and ranked, their text shown inert (no Markdown/HTML structure,
  no hidden characters, no mathtext) and their claims only noted.

The copies (``copy-*``) repeat the predictions of the good submission ``original``, which the board
must have seen first (a board built before these are added).
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Callable

from leaderboard_corpus import CLASS_FILE, MANIFEST, REGRESSION_TASK, RESULTS_FILE, _edit, _edit_text, _json, _set, _task

Defect = Callable[[Path], None]
_LIMIT = 8 * 2**20


def _manifest(field_path: tuple, value) -> Defect:
    return _edit(MANIFEST, _set(value, *field_path))


def _name(value: str) -> Defect:
    """Set the metanet name in the manifest and in every results file (so that they agree)."""
    def apply(folder: Path) -> None:
        for path in folder.glob("*.json"):
            doc = _json(path)
            doc["metanet"]["name"] = value
            path.write_text(json.dumps(doc))
    return apply


def _raw_results(build: Callable[[dict], str], name: str = RESULTS_FILE) -> Defect:
    """Replace a results file by text built from its parsed content (for files json.dumps cannot make)."""
    def apply(folder: Path) -> None:
        (folder / name).write_text(build(_json(folder / name)))
    return apply


def _predictions_text(doc: dict, body: str) -> str:
    """The results file with the first seed's predictions replaced by the raw JSON object text ``body``."""
    marker = "@@PREDICTIONS@@"
    doc["per_seed"][0]["predictions"] = marker
    return json.dumps(doc).replace(f'"{marker}"', body)


def _many_keys(doc: dict) -> str:
    ids = list(doc["per_seed"][0]["predictions"])
    extra = ", ".join(f'"x{i:06d}": 0.5' for i in range(520_000))
    return _predictions_text(doc, "{" + ", ".join(f'"{m}": 0.5' for m in ids) + ", " + extra + "}")


def _same_key_repeated(doc: dict) -> str:
    return _predictions_text(doc, "{" + ", ".join(['"a": 0'] * 600_000) + "}")


def _many_seeds(doc: dict) -> str:
    doc["per_seed"] = [{"seed": i, "metrics": {}, "predictions": {"a": 0}} for i in range(24_000)]
    doc["seeds"] = list(range(24_000))
    text = json.dumps(doc, separators=(",", ":"))
    assert len(text) < _LIMIT, "the many-seeds file must stay under the size limit to test the count limit"
    return text


def _deep(depth: int) -> Callable[[dict], str]:
    def build(doc: dict) -> str:
        doc["metanet"]["config"] = "@@DEEP@@"
        return json.dumps(doc).replace('"@@DEEP@@"', '{"a": ' * depth + "1" + "}" * depth)
    return build


def _text_replace(old: str, new: str, name: str = RESULTS_FILE) -> Defect:
    def change(text: str) -> str:
        assert old in text, f"{old!r} not in {name}"
        return text.replace(old, new, 1)
    return _edit_text(name, change)


def _first_prediction_raw(raw: str) -> Callable[[dict], str]:
    """Set the first prediction of the first seed to the raw JSON number text ``raw``."""
    def build(doc: dict) -> str:
        model_id = next(iter(doc["per_seed"][0]["predictions"]))
        doc["per_seed"][0]["predictions"][model_id] = "@@NUMBER@@"
        return json.dumps(doc).replace('"@@NUMBER@@"', raw)
    return build


def _all_predictions(value) -> Callable[[dict], None]:
    def change(doc):
        for seed in doc["per_seed"]:
            seed["predictions"] = {m: value for m in seed["predictions"]}
    return change


def _write_bytes(name: str, content: bytes) -> Defect:
    return lambda folder: (folder / name).write_bytes(content)


def _extra_files(count: int) -> Defect:
    def apply(folder: Path) -> None:
        for i in range(count):
            (folder / f"extra-{i}.json").write_text("{}")
    return apply


def _fifo(folder: Path) -> None:
    (folder / RESULTS_FILE).unlink()
    os.mkfifo(folder / RESULTS_FILE)


def _directory_named_json(folder: Path) -> None:
    (folder / CLASS_FILE).unlink()
    (folder / CLASS_FILE).mkdir()


def _copy_of(original: Path, files: tuple[str, ...], edit: Callable[[dict], None] | None = None,
             name: str = "copycat") -> Defect:
    """Take the predictions of ``original`` for the results ``files`` (edited by ``edit``), under another name."""
    def apply(folder: Path) -> None:
        for file in files:
            doc = _json(original / file)
            if edit is not None:
                edit(doc)
            (folder / file).write_text(json.dumps(doc))
        _name(name)(folder)
        _manifest(("submitted",), "2020-01-01T00:00:00Z")(folder)  # claims to be older than the original
        _manifest(("authors",), ["Mallory"])(folder)
    return apply


def _shuffle_and_respell(doc: dict) -> None:
    for seed in doc["per_seed"]:
        items = list(seed["predictions"].items())
        random.Random(0).shuffle(items)
        seed["predictions"] = {m: (v + 1e-9 if isinstance(v, float) else v) for m, v in items}


def _every_seed_is_seed_zero(doc: dict) -> None:
    for seed in doc["per_seed"][1:]:
        seed["predictions"] = dict(doc["per_seed"][0]["predictions"])


def _jitter(scale: float, seed: int = 1) -> Callable[[dict], None]:
    """Add noise of relative size ``scale`` to every regression prediction (a copy dressed up as new)."""
    def change(doc: dict) -> None:
        rng = random.Random(seed)
        for entry in doc["per_seed"]:
            entry["predictions"] = {m: v * (1 + rng.uniform(-scale, scale)) for m, v in entry["predictions"].items()}
    return change


def _monotone(doc: dict) -> None:
    """The same ranking of the networks, on another scale: ``3 v + 0.25``."""
    for entry in doc["per_seed"]:
        entry["predictions"] = {m: 3 * v + 0.25 for m, v in entry["predictions"].items()}


def _first_seed_only(doc: dict) -> None:
    doc["per_seed"], doc["seeds"] = doc["per_seed"][:1], doc["seeds"][:1]
    _jitter(1e-6)(doc)


def _backwards(doc: dict) -> None:
    """Predictions ranking the test networks exactly backwards (Kendall tau -1 on every resample)."""
    truth = _task(REGRESSION_TASK).targets("test")
    for entry in doc["per_seed"]:
        entry["predictions"] = {m: -truth[m] for m in entry["predictions"]}


def hostile(original: Path) -> dict[str, tuple[Defect, str]]:
    """kind -> (defect applied to a copy of a good submission, part of the reason it must be rejected with);
    ``original``: the good submission the ``copy-*`` cases copy."""
    return {
        # sizes, counts and time
        "many-keys": (_raw_results(_many_keys), "520009 predictions in one seed, more than the 50000 allowed"),
        "one-key-600k-times": (_raw_results(_same_key_repeated), "duplicate JSON keys"),
        "many-seeds": (_raw_results(_many_seeds), "24000 seeds, more than the 20 allowed"),
        "21-seeds": (_edit(RESULTS_FILE, lambda d: (d.update(seeds=list(range(21))), d.update(
            per_seed=[{**d["per_seed"][0], "seed": i} for i in range(21)]))), "21 seeds, more than the 20 allowed"),
        "many-files": (_extra_files(20), "more than 16 entries in the folder"),
        "oversize-manifest": (_write_bytes(MANIFEST, b"{" + b" " * _LIMIT + b"}"), "over the 8388608-byte limit"),
        "deep-nesting-100k": (_raw_results(_deep(100_000)), "not a JSON text (RecursionError"),
        "deep-nesting-500": (_raw_results(_deep(500)), "JSON nested deeper than 16 levels"),
        "deep-nesting-17": (_raw_results(_deep(15)), "JSON nested deeper than 16 levels"),
        "long-key": (_raw_results(lambda d: _predictions_text(d, '{"' + "k" * 10_000 + '": 1}')),
                     "a JSON key is longer than 200 characters"),
        # numbers
        "huge-int-prediction": (_raw_results(_first_prediction_raw("1" + "0" * 400)), "is beyond the 2**53"),
        "huge-int-5000-digits": (_raw_results(_first_prediction_raw("9" * 5000)), "is beyond the 2**53"),
        "huge-int-claimed-metric": (_text_replace('"kendall_tau": {"mean": ', '"kendall_tau": {"mean": 1' + "0" * 400
                                                  + ', "x": '), "is beyond the 2**53"),
        "huge-int-seed": (_text_replace('"seeds": [0', '"seeds": [' + "7" * 30), "is beyond the 2**53"),
        "huge-int-n-params": (_text_replace('"n_params": 1234', '"n_params": ' + "1" * 20, MANIFEST),
                              "is beyond the 2**53"),
        "float-overflow-claimed": (_text_replace('"kendall_tau": {"mean": ', '"kendall_tau": {"mean": 1e999, "x": '),
                                   "a number overflows to infinity"),
        "prediction-1e308": (_edit(RESULTS_FILE, _all_predictions(1e308)), "re-scored metrics are not finite"),
        "prediction-minus-1e308": (_edit(RESULTS_FILE, _all_predictions(-1e308)), "re-scored metrics are not finite"),
        "prediction-1e200": (_edit(RESULTS_FILE, _all_predictions(1e200)), "re-scored metrics are not finite"),
        "claimed-infinity": (_text_replace('"kendall_tau": {"mean": ', '"kendall_tau": {"mean": Infinity, "x": '),
                             "non-finite number Infinity"),
        "prediction-null": (_edit(RESULTS_FILE, _all_predictions(None)), "is not of type 'number', 'string'"),
        "classification-number": (_edit(CLASS_FILE, _all_predictions(1)), "must be one of"),
        "label-trailing-newline": (_edit(CLASS_FILE, _all_predictions("adam\n")), "must be one of"),
        # not JSON, or not the JSON expected
        "empty-file": (_write_bytes(RESULTS_FILE, b""), "not a JSON text"),
        "utf16": (lambda f: (f / RESULTS_FILE).write_bytes((f / RESULTS_FILE).read_text().encode("utf-16")),
                  "not a JSON text (UnicodeDecodeError"),
        "utf8-bom": (lambda f: (f / RESULTS_FILE).write_bytes(b"\xef\xbb\xbf" + (f / RESULTS_FILE).read_bytes()),
                     "not a JSON text"),
        "raw-nul": (_write_bytes(RESULTS_FILE, b'{"schema": "\x00"}'), "not a JSON text"),
        "manifest-a-list": (_write_bytes(MANIFEST, b"[]"), "submission.json: schema violation at top level"),
        "manifest-null": (_write_bytes(MANIFEST, b"null"), "submission.json: schema violation at top level"),
        "results-a-string": (_write_bytes(RESULTS_FILE, b'"results"'), f"{RESULTS_FILE}: schema violation at top level"),
        "empty-predictions": (_edit(RESULTS_FILE, lambda d: d["per_seed"][0].update(predictions={})),
                              "schema violation at per_seed/0/predictions"),
        "predictions-a-list": (_edit(RESULTS_FILE, lambda d: d["per_seed"][0].update(predictions=[0.5])),
                               "schema violation at per_seed/0/predictions"),
        "duplicate-seeds": (_edit(RESULTS_FILE, lambda d: d.update(seeds=[0, 0, 0])), "schema violation at seeds"),
        "no-seeds": (_edit(RESULTS_FILE, lambda d: d.update(seeds=[], per_seed=[])), "schema violation at"),
        # injection through text
        "name-newline-row": (_name("x\n| 1 | pwned | 1.0 |"), "schema violation at metanet/name"),
        "name-nul": (_name("gmn\x00"), "schema violation at metanet/name"),
        "name-bidi-override": (_name("gmn\u202etxt.exe"), "schema violation at metanet/name"),
        "name-zero-width": (_name("g\u200bmn"), "schema violation at metanet/name"),
        "name-line-separator": (_name("gmn\u2028x"), "schema violation at metanet/name"),
        "name-escape-sequence": (_name("gmn\x1b[31mred"), "schema violation at metanet/name"),
        "name-too-long": (_name("n" * 201), "schema violation at metanet/name"),
        "author-newline": (_manifest(("authors",), ["Eve\n## Owned"]), "schema violation at authors/0"),
        "author-empty": (_manifest(("authors",), [""]), "schema violation at authors/0"),
        "authors-51": (_manifest(("authors",), ["A"] * 51), "schema violation at authors"),
        "id-trailing-newline": (_manifest(("id",), "hostile-id-trailing-newline\n"), "schema violation at id"),
        "date-trailing-newline": (_manifest(("submitted",), "2026-11-23T07:00:00Z\n"), "schema violation at submitted"),
        "date-impossible": (_manifest(("submitted",), "2026-13-45T25:61:61Z"), "is not a date and time"),
        "url-trailing-newline": (_manifest(("metanet", "code"), "https://example.org/x\n"),
                                 "schema violation at metanet/code"),
        "url-data-scheme": (_manifest(("metanet", "paper"), "data:text/html,<script>alert(1)</script>"),
                            "schema violation at metanet/paper"),
        "url-quote-attribute": (_manifest(("metanet", "code"), 'https://x.org/"onmouseover="alert(1)'),
                                "schema violation at metanet/code"),
        "url-bidi": (_manifest(("metanet", "code"), "https://x.org/\u202egnp.exe"), "schema violation at metanet/code"),
        "revision-newline": (_manifest(("zoo", "revision"), "v1\n"), "schema violation at zoo/revision"),
        "task-name-newline": (_manifest(("tasks",), [REGRESSION_TASK + "\n"]), "schema violation at tasks/0"),
        "fingerprint-upper-case": (_manifest(("zoo", "fingerprint"), "SHA256:" + "A" * 64),
                                   "schema violation at zoo/fingerprint"),
        "zoo-extra-field": (_manifest(("zoo", "labels"), {"a": 1}), "schema violation at zoo"),
        "file-name-newline": (_write_bytes(RESULTS_FILE + "\n", b"{}"), "is not accepted"),
        # trust
        "self-declared-reference": (_manifest(("reference",), True), "('reference' was unexpected)"),
        "self-declared-first-seen": (_manifest(("first_seen",), "2000-01-01T00:00:00Z"), "('first_seen' was unexpected)"),
        "copy-earlier-date": (_copy_of(original, (RESULTS_FILE, CLASS_FILE)), f"repeat those of {original.name}"),
        "copy-one-task": (_copy_of(original, (RESULTS_FILE,)), f"accuracy-prediction predictions repeat those of "
                                                               f"{original.name}"),
        "copy-respelled": (_copy_of(original, (RESULTS_FILE,), _shuffle_and_respell), f"repeat those of {original.name}"),
        "copy-one-seed-thrice": (_copy_of(original, (RESULTS_FILE,), _every_seed_is_seed_zero),
                                 f"repeat those of {original.name}"),
        "copy-noise-below-rounding": (_copy_of(original, (RESULTS_FILE,), _jitter(1e-7)),
                                      f"repeat those of {original.name}"),
        "copy-noise-1e-5": (_copy_of(original, (RESULTS_FILE,), _jitter(1e-5, seed=7)), f"repeat those of {original.name}"),
        "copy-same-ranking-rescaled": (_copy_of(original, (RESULTS_FILE,), _monotone), f"repeat those of {original.name}"),
        "copy-one-seed-of-three": (_copy_of(original, (RESULTS_FILE,), _first_seed_only),
                                   f"repeat those of {original.name}"),
        # blank names: nothing on the board would show whose entry it is (round 3)
        "name-hangul-fillers": (_name("\u3164\u3164"), "metanet name"),
        "name-halfwidth-hangul-filler": (_name("\uffa0"), "is blank"),
        "name-choseong-jungseong-fillers": (_name("\u115f\u1160"), "is blank"),
        "name-braille-blank": (_name("\u2800\u2800\u2800"), "is blank"),
        "name-ideographic-space": (_name("\u3000"), "is blank"),
        "name-ascii-spaces": (_name("   "), "is blank"),
        "name-no-break-spaces": (_name("\u00a0\u2007\u202f"), "is blank"),
        "name-combining-marks-only": (_name("\u0301\u0308\u20dd"), "is blank"),
        "name-variation-selectors": (_name("\ufe0f\U000e0100"), "is blank"),
        "name-mixed-blanks": (_name(" \u3164\u2800\u2003\uffa0 "), "is blank"),
        "author-blank": (_manifest(("authors",), ["Ada Lovelace", "\u3164"]), "author 2"),
        # files
        "fifo": (_fifo, f"'{RESULTS_FILE}' is not a plain file"),
        "directory-named-json": (_directory_named_json, f"'{CLASS_FILE}' is not a plain file"),
    }


INERT: dict[str, Defect] = {
    "name-mathtext": _name(r"$\frac{1}{0}$"),
    "name-broken-mathtext": _name(r"$\undefinedcommand{$ ^_ %"),
    "name-markdown": _name("**bold** [link](javascript:alert(1)) `code` <b>x</b> | 1 |"),
    "name-autolink": _name("https://evil.example/phish"),
    "author-pipe": _manifest(("authors",), ["Eve | 1.0000 | 1", "![img](https://x.org/i.png)"]),
    "url-parentheses": _manifest(("metanet", "code"), "https://x.org/a)(javascript:alert(1)"),
    "name-long-unicode": _name("метасеть 网络 " + "ß" * 150),
    "claimed-1e308": _text_replace('"kendall_tau": {"mean": ', '"kendall_tau": {"mean": 1e308, "x": '),
    "tiny-float-prediction": _raw_results(_first_prediction_raw("1e-400")),
    "nesting-16-levels": _raw_results(_deep(14)),  # the deepest nesting allowed
    # round 3: text GitHub would turn into links, numbers at the edges, a ranking exactly backwards
    "name-www-domain": _name("www.example.org"),
    "name-upper-case-www": _name("WWW.EXAMPLE.ORG/promo"),
    "name-email": _name("someone@example.org"),
    "author-email": _manifest(("authors",), ["mallory@evil.example", "Eve (eve+board@evil.example)"]),
    "name-ftp-url": _name("ftp://files.example.org/weights"),
    "name-mailto": _name("mailto:someone@example.org"),
    "name-xmpp": _name("xmpp:bot@chat.example.org"),
    "name-url-in-parentheses": _name("gmn (see http://evil.example/x)"),
    "name-pipe-and-email": _name("a|b@c.org`x`"),
    "name-visible-with-filler": _name("gmn\u3164v2"),
    "backwards-ranking": _edit(RESULTS_FILE, _backwards),
    "prediction-negative-zero": _raw_results(_first_prediction_raw("-0.0")),
    "prediction-tiny-exponent": _raw_results(_first_prediction_raw("5e-324")),
    "prediction-exact-large-int": _raw_results(_first_prediction_raw(str(2**53))),
}
"""kind -> defect a board must accept and show inert."""
