"""A griffe extension that turns the reStructuredText bits of churnsurv's numpydoc docstrings into Markdown.

churnsurv's docstrings follow numpydoc, so they use Sphinx markup that mkdocstrings (which renders docstrings as
Markdown) would show raw. Loaded by ``mkdocs.yml`` (``extensions: [docs/griffe_rst.py:RstToMarkdown]``), it
rewrites, before rendering and without touching the package:

* ``.. math::`` blocks into ``$$ ... $$`` and ``:math:`x``` into ``\\(x\\)`` (pymdownx.arithmatex);
* ``:class:`~churnsurv.LifeTable```, ``:func:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:exc:`` into
  cross-references to the API pages (optional ones: a target that is not documented stays plain code);
* the entries of *See Also* sections into a list of cross-references;
* ``.. [1] ...`` reference lists into numbered lists and ``[1]_`` citations into ``[1]``;
* a literal block introduced by ``::`` into an ordinary Markdown code block.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(class|func|meth|attr|data|mod|exc|obj):`([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::\s*(?P<rest>.*)$")
_REF_DEF = re.compile(r"^(?P<indent>\s*)\.\. \[(?P<num>\d+)\]\s+(?P<text>.*)$")
_CITATION = re.compile(r"\[(\d+)\]_")
_SECTION_RULE = re.compile(r"^\s*-{3,}\s*$")


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        collection = loader.modules_collection
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = convert(obj.docstring.value, obj, collection)


def _walk(obj):
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _walk(member)


def resolve(target: str, obj, collection) -> str | None:
    """The canonical path of the object a Sphinx role names from inside ``obj``'s docstring, or None."""
    target = target.lstrip("~.").removesuffix("()")
    scopes = [obj.path]
    parent = obj.parent
    while parent is not None:
        scopes.append(parent.path)
        parent = parent.parent
    candidates = [target] + [f"{scope}.{target}" for scope in scopes] + [f"churnsurv.{target}"]
    for path in candidates:
        try:
            found = collection[path]
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        try:
            return found.canonical_path
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
    return None


def _xref(text: str, target: str, obj, collection) -> str:
    path = resolve(target, obj, collection)
    shown = f"<code>{_html_escape(text)}</code>"
    if path is None:
        return shown
    return f'<autoref identifier="{path}" optional>{shown}</autoref>'


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _role(match, obj, collection) -> str:
    target = match.group(2).strip()
    if "<" in target and target.endswith(">"):  # :func:`title <target>`
        title, target = target[:-1].split("<", 1)
        title = title.strip()
    else:
        title = target.split(".")[-1] if target.startswith("~") else target
    return _xref(title.lstrip("~"), target, obj, collection)


def _math_blocks(lines: list[str]) -> list[str]:
    """``.. math::`` directives (block or one-line form) to ``$$`` blocks, one per equation."""
    out, i = [], 0
    while i < len(lines):
        m = _MATH_DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group("indent")
        equations = [[m.group("rest")]] if m.group("rest").strip() else [[]]
        i += 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                equations.append([])
                i += 1
                continue
            if len(line) - len(line.lstrip()) <= len(indent):
                break
            equations[-1].append(line.strip())
            i += 1
        out.append("")
        for eq in (e for e in equations if e):
            out.extend([f"{indent}$$", *(f"{indent}{x}" for x in eq), f"{indent}$$", ""])
    return out


def _references(lines: list[str]) -> list[str]:
    """``.. [n] text`` (with indented continuation lines) to Markdown list items ``n. text``."""
    out, i = [], 0
    while i < len(lines):
        m = _REF_DEF.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent, text = m.group("indent"), [m.group("text").strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and (len(lines[i]) - len(lines[i].lstrip())) > len(indent) \
                and not _REF_DEF.match(lines[i]):
            text.append(lines[i].strip())
            i += 1
        out.append(f"{indent}{m.group('num')}. {' '.join(text)}")
    return out


def _see_also(lines: list[str], obj, collection) -> list[str]:
    """Entries of a *See Also* section (``name : text`` or ``name, name``) to a list of cross-references."""
    out, i = [], 0
    while i < len(lines):
        out.append(lines[i])
        is_header = (lines[i].strip().lower() == "see also" and i + 1 < len(lines)
                     and _SECTION_RULE.match(lines[i + 1]))
        i += 1
        if not is_header:
            continue
        out.append(lines[i])  # the rule
        i += 1
        base = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                if i + 2 < len(lines) and _SECTION_RULE.match(lines[i + 2]):
                    break  # the next section starts
                out.append(line)
                i += 1
                continue
            if i + 1 < len(lines) and _SECTION_RULE.match(lines[i + 1]):
                break
            indent = len(line) - len(line.lstrip())
            if base is None:
                base = indent
            if indent > base:  # continuation of the previous entry's text
                out[-1] = f"{out[-1]} {line.strip()}"
            else:
                names, _, text = line.strip().partition(" : ")
                names = names.strip().rstrip(":")
                if text == "" and names.endswith(" :"):
                    names = names[:-2]
                refs = ", ".join(_xref(n.strip().split(".")[-1] if n.strip().startswith("~") else n.strip().lstrip("~"),
                                       n.strip(), obj, collection)
                                 for n in names.split(",") if n.strip())
                out.append(f"- {refs}" + (f": {text.strip()}" if text.strip() else ""))
            i += 1
    return out


def convert(text: str, obj=None, collection=None) -> str:
    """Convert the reStructuredText constructs of one docstring to Markdown."""
    lines = text.splitlines()
    lines = _math_blocks(lines)
    lines = _references(lines)
    if obj is not None:
        lines = _see_also(lines, obj, collection)
    text = "\n".join(lines)
    # A literal block: "text::" then an indented block is "text:" then a Markdown code block.
    text = re.sub(r"(\S)::\n\n", r"\1:\n\n", text)
    text = re.sub(r"\s+::\n\n", "\n\n", text)
    text = _MATH_ROLE.sub(lambda m: "\\(" + m.group(1) + "\\)", text)
    text = _ROLE.sub(lambda m: _role(m, obj, collection), text)
    text = _CITATION.sub(r"\\[\1\\]", text)  # escaped: "[1] [2]" would read as a reference-style link
    return text
