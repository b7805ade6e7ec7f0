#!/usr/bin/env python3
"""Every file the design document and the folder maps name exists.

docs/architecture.md must stay true to the code (issue 18), and a folder map that
names a file which moved sends a newcomer nowhere. This reads README.md, docs/*.md
and every folder's README.md, takes each `backquoted` word that looks like a path
in this repository, and checks it against the tree:
  - "service/relay/flow.h", "provider/core/": from the repository's root;
  - "interpose.cpp", "win_pipe_server.*", "host/" in a folder's README: anywhere
    under that folder (maps name their rooms' files without the room's path).
Globs (*) must match something. Prints each missing name with its file and line;
exits 1 if there is any.
"""
import fnmatch
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
TOP = ("cmake", "common", "control", "docs", "net", "packaging", "provider", "schema",
       "scripts", "service", "tests")
EXTENSIONS = (".cpp", ".h", ".cmake", ".sh", ".py", ".sql", ".md", ".scd", ".mc", ".nsh",
              ".in", ".conf", ".service", ".json", ".txt")
TOKEN = re.compile(r"`([^`\s]+)`")
SHAPE = re.compile(r"^[A-Za-z0-9_.*{},/+-]+$")


def expand_braces(word):
    """service/relay/{a,b}.h -> both names (the docs write groups that way)."""
    m = re.search(r"\{([^{}]*)\}", word)
    if not m:
        return [word]
    return [n for part in m.group(1).split(",")
            for n in expand_braces(word[:m.start()] + part + word[m.end():])]


def looks_like_path(word):
    if not SHAPE.match(word) or "://" in word or word.startswith(("-", "/", ".")):
        return False
    if "/" in word.rstrip("/"):
        return word.split("/")[0] in TOP  # build/..., usr/...: not files of the tree
    # A bare file name with one of our extensions, or a folder name ending in "/".
    # ("win_pipe_server.*" is our files; "ConfigCheckTest.*" a GoogleTest filter.)
    if word.endswith(".*"):
        return word[:-2] == word[:-2].lower()
    return word.endswith(EXTENSIONS) or (word.endswith("/") and word.count("/") == 1)


def tree():
    """The tree's files and folders (tracked or new, never build output), as paths."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others",
                             "--exclude-standard"], check=True, capture_output=True,
                            text=True).stdout.split()
    paths = set(listed)
    for name in listed:
        parts = name.split("/")
        paths.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return paths


PATHS = tree()


def exists(word, base):
    word = word.rstrip("/")
    if "/" in word:
        return any(fnmatch.fnmatchcase(p, word) for p in PATHS)
    # A bare name: under the map's folder first (maps name their rooms' files without
    # the room's path), else anywhere in the tree (a map pointing at a neighbour).
    prefix = "" if base == ROOT else str(base.relative_to(ROOT)) + "/"
    names = [p for p in PATHS if p.startswith(prefix)] or PATHS
    return any(fnmatch.fnmatchcase(p.rsplit("/", 1)[-1], word) for p in names) or \
        any(fnmatch.fnmatchcase(p.rsplit("/", 1)[-1], word) for p in PATHS)


def documents():
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").glob("*.md"))
    for top in TOP:
        yield from sorted((ROOT / top).glob("**/README.md"))


missing = []
for doc in documents():
    if not doc.exists() or str(doc.relative_to(ROOT)) not in PATHS:
        continue
    base = ROOT if doc.parent == ROOT or doc.parent.name == "docs" else doc.parent
    in_code_block = False
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_code_block = not in_code_block
            continue
        if in_code_block:
            continue
        for token in TOKEN.findall(line):
            for word in expand_braces(token):
                if looks_like_path(word) and not exists(word, base):
                    missing.append(f"{doc.relative_to(ROOT)}:{number}: `{word}` names no file here")

for m in missing:
    print(m)
print(f"doc_paths: {len(missing)} missing name(s)")
sys.exit(1 if missing else 0)
