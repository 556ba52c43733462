#!/usr/bin/env python3
"""Checks that docs/requirements.md and vectors/cases/requirements.json are the same catalogue.

Both files are read on their own first (ids well formed and numbered 1..N per side without gaps or
repeats, area, side, level and reactions from the catalogue's own vocabularies, links to
core.telegram.org), then compared field by field. Every problem is printed with the id it concerns;
the exit status is 1 if there is any, 0 otherwise, 2 for a usage error.

    scripts/check-requirements.py [--md FILE] [--json FILE]
    scripts/check-requirements.py --print-json [--md FILE]   # the Markdown as JSON, to regenerate the data file
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ID_RE = re.compile(r"^([CS])-(DH|HS|ENC|SES|TR|MIS)-([1-9][0-9]*)$")
AREA_OF_CODE = {"DH": "dh", "HS": "handshake", "ENC": "encrypted", "SES": "session", "TR": "transport",
                "MIS": "mismatch"}
SIDES_OF_PREFIX = {"C": ("client", "both"), "S": ("server", "both")}
HEADING_SIDE = {"Client": "C", "Server": "S"}
URL_PREFIX = "https://core.telegram.org/"

AREA_HEADING_RE = re.compile(r"^## (Client|Server) · (.+) \(`([a-z]+)`\)$")
REQ_HEADING_RE = re.compile(r"^#### (\S+) — (.+)$")
FIELD_RE = re.compile(r"^- \*\*([A-Za-z]+):\*\*\s*(.*)$")
LEVEL_RE = re.compile(r"^([A-Z]+)(?: — why: (.+))?$")
SPEC_RE = re.compile(r"^<(https://[^>]+)> · \*(.+)\*$")
QUOTE_RE = re.compile(r'^"(.*)"$')
PART_RE = re.compile(r'^\*\*([A-Z]+)\*\* · (.+?) · <(https://[^>]+)> · "(.*)"$')
LEVEL_ROW_RE = re.compile(r"^\| ([A-Z]+) \| (.*) \| (.*) \|$")
REACTION_ROW_RE = re.compile(r"^\| `([a-z0-9_-]+)` \| (.*) \|$")
FIELDS = ("Level", "Side", "Spec", "Quote", "Observe", "Allowed", "Note", "Also")


def norm(s):
    return " ".join(s.split()) if isinstance(s, str) else s


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, msg):
        self.items.append(f"{where}: {msg}")


# --- Markdown -------------------------------------------------------------------------------------

def parse_md(text, path, problems):
    lines = text.split("\n")
    cat = {"levels": [], "reactions": [], "areas": [], "requirements": []}
    table = None          # which vocabulary table the current "###" section holds
    area = None           # (side prefix, area id) of the current "##" section
    req = None            # requirement being read
    field = None          # its field being read (for continuation lines)
    area_titles = {}

    def finish():
        if req is not None:
            cat["requirements"].append(build_md_req(req, path, problems))

    for no, line in enumerate(lines, 1):
        where = f"{path}:{no}"
        if line.startswith("## "):
            finish()
            req, field, table = None, None, None
            m = AREA_HEADING_RE.match(line)
            if m:
                side, title, area_id = m.groups()
                area = (HEADING_SIDE[side], area_id)
                if area_id in area_titles:
                    if area_titles[area_id] != title:
                        problems.add(where, f"area `{area_id}` is titled \"{title}\" here and "
                                            f"\"{area_titles[area_id]}\" earlier")
                else:
                    area_titles[area_id] = title
                    cat["areas"].append({"id": area_id, "title": title})
            else:
                area = None
            continue
        if line.startswith("### "):
            finish()
            req, field = None, None
            title = line[4:].strip()
            table = {"Levels": "levels", "Reactions": "reactions"}.get(title)
            continue
        if line.startswith("#### "):
            finish()
            field = None
            m = REQ_HEADING_RE.match(line)
            if not m:
                problems.add(where, f"requirement heading not of the form '#### <ID> — <title>': {line}")
                req = None
                continue
            if area is None:
                problems.add(where, f"{m.group(1)} is not under a '## Client|Server · <area> (`id`)' heading")
            req = {"id": m.group(1), "title": m.group(2).strip(), "heading_side": area[0] if area else None,
                   "area": area[1] if area else None, "fields": {}, "parts": [], "where": where}
            continue
        if req is None:
            if table == "levels":
                m = LEVEL_ROW_RE.match(line)
                if m:
                    cat["levels"].append({"id": m.group(1), "page_says": m.group(2).strip(),
                                          "failing_case": m.group(3).strip()})
            elif table == "reactions":
                m = REACTION_ROW_RE.match(line)
                if m:
                    cat["reactions"].append({"id": m.group(1), "meaning": m.group(2).strip()})
            continue
        # Inside a requirement block.
        if not line.strip():
            continue
        m = FIELD_RE.match(line)
        if m:
            name, value = m.groups()
            if name not in FIELDS:
                problems.add(where, f"{req['id']}: unknown field '{name}'")
                field = None
                continue
            if name in req["fields"]:
                problems.add(where, f"{req['id']}: field '{name}' given twice")
            req["fields"][name] = value.strip()
            field = name
            continue
        if line.startswith("  - ") and field == "Also":
            req["parts"].append(line[4:].strip())
            continue
        if line.startswith("    ") and field == "Also" and req["parts"]:
            req["parts"][-1] += " " + line.strip()
            continue
        if line.startswith("  ") and field is not None and field != "Also":
            req["fields"][field] += " " + line.strip()
            continue
        problems.add(where, f"{req['id']}: unexpected line in a requirement: {line.strip()[:60]}")
    finish()
    return cat


def build_md_req(raw, path, problems):
    rid, f = raw["id"], raw["fields"]
    out = {"id": rid, "side": norm(f.get("Side", "")), "area": raw["area"], "title": norm(raw["title"])}
    for need in ("Level", "Side", "Spec", "Quote", "Observe"):
        if need not in f:
            problems.add(raw["where"], f"{rid}: no '{need}' field")
    m = LEVEL_RE.match(norm(f.get("Level", "")))
    if m:
        out["level"] = m.group(1)
        if m.group(2):
            out["why"] = norm(m.group(2))
    elif "Level" in f:
        problems.add(raw["where"], f"{rid}: Level not of the form 'LEVEL' or 'LEVEL — why: ...'")
    spec = {}
    m = SPEC_RE.match(norm(f.get("Spec", "")))
    if m:
        spec["url"], spec["section"] = m.group(1), norm(m.group(2))
    elif "Spec" in f:
        problems.add(raw["where"], f"{rid}: Spec not of the form '<url> · *section*'")
    m = QUOTE_RE.match(norm(f.get("Quote", "")))
    if m:
        spec["quote"] = m.group(1)
    elif "Quote" in f:
        problems.add(raw["where"], f"{rid}: Quote not in double quotes")
    out["spec"] = spec
    out["observe"] = norm(f.get("Observe", ""))
    if "Allowed" in f:
        out["allowed"] = [a.strip() for a in norm(f["Allowed"]).split(",")]
    if "Note" in f:
        out["note"] = norm(f["Note"])
    if raw["parts"]:
        parts = []
        for p in raw["parts"]:
            m = PART_RE.match(norm(p))
            if not m:
                problems.add(raw["where"], f"{rid}: Also item not of the form "
                                           f"'**LEVEL** · what · <url> · \"quote\"': {p[:60]}")
                continue
            parts.append({"level": m.group(1), "what": m.group(2), "url": m.group(3), "quote": m.group(4)})
        out["also"] = parts
    elif "Also" in f:
        problems.add(raw["where"], f"{rid}: 'Also' with no items")
    if raw["heading_side"] and not rid.startswith(raw["heading_side"] + "-"):
        problems.add(raw["where"], f"{rid}: listed under a {'Client' if raw['heading_side'] == 'C' else 'Server'}"
                                   f" heading")
    return out


# --- checks on one catalogue ----------------------------------------------------------------------

def check_one(cat, name, problems):
    levels = {lv.get("id") for lv in cat.get("levels", [])}
    reactions = {r.get("id") for r in cat.get("reactions", [])}
    areas = {a.get("id") for a in cat.get("areas", [])}
    if not levels:
        problems.add(name, "no levels defined")
    if not reactions:
        problems.add(name, "no reactions defined")
    seen = set()
    numbers = {"C": {}, "S": {}}
    for r in cat.get("requirements", []):
        rid = r.get("id")
        where = f"{name}: {rid}"
        if not isinstance(rid, str):
            problems.add(name, f"requirement without an id: {str(r)[:60]}")
            continue
        if rid in seen:
            problems.add(where, "duplicate id")
        seen.add(rid)
        m = ID_RE.match(rid)
        if not m:
            problems.add(where, "malformed id (expected C|S-DH|HS|ENC|SES|TR|MIS-<n>, n from 1, no leading zero)")
        else:
            prefix, code, n = m.group(1), m.group(2), int(m.group(3))
            if n in numbers[prefix] and numbers[prefix][n] != rid:
                problems.add(where, f"number {n} already used by {numbers[prefix][n]} (n counts through the "
                                    f"whole {'client' if prefix == 'C' else 'server'} list)")
            numbers[prefix].setdefault(n, rid)
            if r.get("area") != AREA_OF_CODE[code]:
                problems.add(where, f"area is '{r.get('area')}', the id says '{AREA_OF_CODE[code]}'")
            if r.get("side") not in SIDES_OF_PREFIX[prefix]:
                problems.add(where, f"side is '{r.get('side')}', a {prefix}- id binds "
                                    f"{' or '.join(SIDES_OF_PREFIX[prefix])}")
        if r.get("area") not in areas:
            problems.add(where, f"area '{r.get('area')}' is not among the catalogue's areas")
        if r.get("level") not in levels:
            problems.add(where, f"level '{r.get('level')}' is not one of {sorted(levels)}")
        spec = r.get("spec") or {}
        if not str(spec.get("url", "")).startswith(URL_PREFIX):
            problems.add(where, f"spec url '{spec.get('url')}' is not a {URL_PREFIX} page")
        for key in ("section", "quote"):
            if not spec.get(key):
                problems.add(where, f"spec {key} missing")
        for key in ("title", "observe"):
            if not r.get(key):
                problems.add(where, f"{key} missing")
        allowed = r.get("allowed", [])
        for a in allowed:
            if a not in reactions:
                problems.add(where, f"allowed reaction '{a}' is not in the reactions table")
        if len(set(allowed)) != len(allowed):
            problems.add(where, "an allowed reaction is listed twice")
        for i, p in enumerate(r.get("also", []), 1):
            if p.get("level") not in levels:
                problems.add(where, f"also item {i}: level '{p.get('level')}' is not one of {sorted(levels)}")
            if not str(p.get("url", "")).startswith(URL_PREFIX):
                problems.add(where, f"also item {i}: url '{p.get('url')}' is not a {URL_PREFIX} page")
            if not p.get("quote") or not p.get("what"):
                problems.add(where, f"also item {i}: what or quote missing")
    for prefix, used in numbers.items():
        if used:
            missing = sorted(set(range(1, max(used) + 1)) - set(used))
            if missing:
                problems.add(name, f"{prefix}- ids skip number(s) {', '.join(map(str, missing))}")


# --- comparison -----------------------------------------------------------------------------------

def flat(r):
    """The comparable fields of a requirement, whitespace-normalised."""
    spec = r.get("spec") or {}
    out = {k: norm(r.get(k)) for k in ("title", "side", "area", "level", "why", "observe", "note")}
    out.update({"spec.url": spec.get("url"), "spec.section": norm(spec.get("section")),
                "spec.quote": norm(spec.get("quote")), "allowed": r.get("allowed") or []})
    out["also"] = [(p.get("level"), norm(p.get("what")), p.get("url"), norm(p.get("quote")))
                   for p in r.get("also", [])]
    return out


def compare(md, js, problems):
    for key, fields in (("levels", ("page_says", "failing_case")), ("reactions", ("meaning",)),
                        ("areas", ("title",))):
        a = {x.get("id"): x for x in md.get(key, [])}
        b = {x.get("id"): x for x in js.get(key, [])}
        for k in sorted(set(a) - set(b)):
            problems.add(f"{key} {k}", "in the Markdown, not in the JSON")
        for k in sorted(set(b) - set(a)):
            problems.add(f"{key} {k}", "in the JSON, not in the Markdown")
        for k in sorted(set(a) & set(b)):
            for f in fields:
                if norm(a[k].get(f)) != norm(b[k].get(f)):
                    problems.add(f"{key} {k}", f"{f} differs")
    a = {r.get("id"): r for r in md.get("requirements", [])}
    b = {r.get("id"): r for r in js.get("requirements", [])}
    # A repeated id is already reported by check_one; comparing whichever copy won would only add noise.
    twice = set()
    for cat in (md, js):
        ids = [r.get("id") for r in cat.get("requirements", [])]
        twice |= {i for i in ids if ids.count(i) > 1}
    for rid in [r.get("id") for r in md.get("requirements", []) if r.get("id") not in b]:
        problems.add(str(rid), "in docs/requirements.md, not in requirements.json")
    for rid in [r.get("id") for r in js.get("requirements", []) if r.get("id") not in a]:
        problems.add(str(rid), "in requirements.json, not in docs/requirements.md")
    for rid in [r.get("id") for r in md.get("requirements", []) if r.get("id") in b and r.get("id") not in twice]:
        fa, fb = flat(a[rid]), flat(b[rid])
        for f in fa:
            if fa[f] != fb[f]:
                if f in ("level", "side", "area", "spec.url"):
                    problems.add(rid, f"{f} differs: Markdown {fa[f]!r}, JSON {fb[f]!r}")
                else:
                    problems.add(rid, f"{f} differs between the Markdown and the JSON")
    order_md = [r.get("id") for r in md.get("requirements", []) if r.get("id") in b]
    order_js = [r.get("id") for r in js.get("requirements", []) if r.get("id") in a]
    if order_md != order_js:
        first = next(i for i, (x, y) in enumerate(zip(order_md, order_js)) if x != y)
        problems.add(order_md[first], f"listed in a different order (JSON has {order_js[first]} here)")


def to_json(cat):
    reqs = []
    for r in cat["requirements"]:
        out = {"id": r["id"], "side": r["side"], "area": r["area"], "title": r["title"], "level": r.get("level")}
        if "why" in r:
            out["why"] = r["why"]
        out["spec"] = r["spec"]
        out["observe"] = r["observe"]
        for k in ("allowed", "note", "also"):
            if k in r:
                out[k] = r[k]
        reqs.append(out)
    return {"version": 1,
            "source": "docs/requirements.md, written from the core.telegram.org MTProto pages; "
                      "kept equal to it by scripts/check-requirements.py",
            "levels": cat["levels"], "reactions": cat["reactions"], "areas": cat["areas"],
            "requirements": reqs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--md", default=str(ROOT / "docs" / "requirements.md"))
    ap.add_argument("--json", default=str(ROOT / "vectors" / "cases" / "requirements.json"))
    ap.add_argument("--print-json", action="store_true", help="print the Markdown catalogue as JSON and exit")
    args = ap.parse_args()

    problems = Problems()
    try:
        md_text = Path(args.md).read_text(encoding="utf-8")
    except OSError as e:
        print(f"check-requirements: {e}", file=sys.stderr)
        return 1
    md = parse_md(md_text, args.md, problems)
    check_one(md, args.md, problems)
    if args.print_json:
        if problems.items:
            print("\n".join(problems.items), file=sys.stderr)
            return 1
        print(json.dumps(to_json(md), indent=2, ensure_ascii=False))
        return 0
    try:
        js = json.loads(Path(args.json).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"check-requirements: {args.json}: {e}", file=sys.stderr)
        return 1
    if not isinstance(js, dict) or js.get("version") != 1 or not isinstance(js.get("requirements"), list):
        problems.add(args.json, "not a version 1 catalogue (an object with \"version\": 1 and a \"requirements\" list)")
    else:
        check_one(js, args.json, problems)
        compare(md, js, problems)
    if problems.items:
        print("\n".join(problems.items))
        print(f"check-requirements: {len(problems.items)} problem(s)", file=sys.stderr)
        return 1
    n = {p: sum(1 for r in md["requirements"] if r["id"].startswith(p + "-")) for p in "CS"}
    print(f"check-requirements: {args.md} and {args.json} agree: {n['C']} client and {n['S']} server requirements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
