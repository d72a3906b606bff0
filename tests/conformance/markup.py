"""Markup compatibility (ECMA-376 Part 3, clause 9) as a consumer applies it before reading a part, as Excel does.

What is in a namespace the consumer does not understand and that the markup declares ignorable is dropped (or,
named by mc:ProcessContent, unwrapped); mc:AlternateContent gives way to its first mc:Choice whose Requires the
consumer understands, else to its mc:Fallback; a namespace it must understand but does not is a mismatch, which
makes Excel refuse the file. The content of an extension (ext in an extLst) is the application's own and is left
as it is (its schema type takes any content). Here the consumer understands the namespaces of the vendored
schemas: markup for later versions of Excel in an ignorable namespace is dropped, as Excel 2007 would drop it, and
the rest is validated.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_ALTERNATE, _CHOICE, _FALLBACK = (f"{{{MC}}}{name}" for name in ("AlternateContent", "Choice", "Fallback"))


@dataclass(frozen=True)
class _Scope:
    """What holds at an element: the namespaces understood, declared ignorable and whose content is kept."""

    understood: frozenset[str]
    ignorable: frozenset[str] = frozenset()
    process_content: frozenset[tuple[str, str]] = frozenset()

    def ignored(self, namespace: str | None) -> bool:
        """Whether markup in `namespace` is dropped here."""
        return namespace is not None and namespace in self.ignorable and namespace not in self.understood


def apply_markup_compatibility(part: str, root: etree._Element, understood: frozenset[str]) -> list[str]:
    """Process the markup compatibility of `root` in place; the mismatches and errors found, a line each."""
    problems: list[str] = []
    kept = _output(part, root, _Scope(understood), problems)
    if kept != [root]:
        problems.append(f"{part}: its root element {root.tag} is dropped by markup compatibility")
    return problems


def _where(part: str, el: etree._Element) -> str:
    return f"{part} line {el.sourceline}"


def _namespaces(part: str, el: etree._Element, attribute: str, problems: list[str]) -> list[str]:
    """The namespaces bound to the prefixes an attribute of `el` lists (an undeclared prefix is an error)."""
    found: list[str] = []
    for prefix in (el.get(attribute) or "").split():
        namespace = el.nsmap.get(prefix)
        if namespace is None or namespace == MC:
            name = etree.QName(attribute).localname
            problems.append(f"{_where(part, el)}: {name} names the prefix {prefix!r}, which is not bound to a "
                            "namespace it may name")
        else:
            found.append(namespace)
    return found


def _scope(part: str, el: etree._Element, outer: _Scope, problems: list[str]) -> _Scope:
    """The scope at `el`: the outer one and what `el`'s own mc:Ignorable and mc:ProcessContent declare."""
    ignorable = outer.ignorable.union(_namespaces(part, el, f"{{{MC}}}Ignorable", problems))
    pairs = set(outer.process_content)
    for token in (el.get(f"{{{MC}}}ProcessContent") or "").split():
        prefix, _, local = token.rpartition(":")
        namespace = el.nsmap.get(prefix)
        if namespace is None or namespace not in ignorable:
            problems.append(f"{_where(part, el)}: ProcessContent names {token}, whose namespace is not ignorable")
        else:
            pairs.add((namespace, local))
    return _Scope(outer.understood, frozenset(ignorable), frozenset(pairs))


def _must_understand(part: str, el: etree._Element, scope: _Scope, problems: list[str]) -> None:
    for namespace in _namespaces(part, el, f"{{{MC}}}MustUnderstand", problems):
        if namespace not in scope.understood:
            problems.append(f"{_where(part, el)}: MustUnderstand names {namespace}, which is not understood "
                            "(Excel refuses a file with markup it must understand and does not)")


def _is_extension(el: etree._Element) -> bool:
    """An ext of an extLst: application-defined, left to the application that wrote it."""
    parent = el.getparent()
    return (etree.QName(el).localname == "ext" and parent is not None
            and etree.QName(parent).localname == "extLst")


def _output(part: str, el: etree._Element, outer: _Scope, problems: list[str]) -> list[etree._Element]:
    """What stands in the output for `el`: itself (processed), its children (unwrapped, chosen) or nothing."""
    if _is_extension(el):
        return [el]
    scope = _scope(part, el, outer, problems)
    tag = etree.QName(el)
    if el.tag == _ALTERNATE:
        return _alternate(part, el, scope, problems)
    if scope.ignored(tag.namespace):
        if (tag.namespace, tag.localname) in scope.process_content or (tag.namespace, "*") in scope.process_content:
            _must_understand(part, el, scope, problems)
            return _children(part, el, scope, problems)
        return []
    if tag.namespace == MC:
        problems.append(f"{_where(part, el)}: mc:{tag.localname} outside an mc:AlternateContent")
    _keep(part, el, scope, problems)
    return [el]


def _keep(part: str, el: etree._Element, scope: _Scope, problems: list[str]) -> None:
    """Process an element that stays: its markup compatibility attributes and ignored attributes go, and each
    child gives way to its output."""
    _must_understand(part, el, scope, problems)
    for name in list(el.attrib):
        namespace = etree.QName(name).namespace
        if namespace == MC or scope.ignored(namespace):
            del el.attrib[name]
    for child in [c for c in el if isinstance(c.tag, str)]:
        replacement = _output(part, child, scope, problems)
        if replacement != [child]:
            at = el.index(child)
            el.remove(child)
            for offset, kept in enumerate(replacement):
                el.insert(at + offset, kept)


def _children(part: str, el: etree._Element, scope: _Scope, problems: list[str]) -> list[etree._Element]:
    """The output of each child element of `el`, in order."""
    return [kept for child in el if isinstance(child.tag, str) for kept in _output(part, child, scope, problems)]


def _alternate(part: str, el: etree._Element, scope: _Scope, problems: list[str]) -> list[etree._Element]:
    """The content of the first mc:Choice the consumer can take, else of the mc:Fallback, else nothing."""
    chosen: etree._Element | None = None
    for child in (c for c in el if isinstance(c.tag, str)):
        if child.tag == _CHOICE:
            if child.get("Requires") is None:
                problems.append(f"{_where(part, child)}: mc:Choice without Requires")
            needed = _namespaces(part, child, "Requires", problems)
            if chosen is None and all(n in scope.understood for n in needed):
                chosen = child
        elif child.tag == _FALLBACK:
            chosen = child if chosen is None else chosen
        elif not scope.ignored(etree.QName(child).namespace):
            problems.append(f"{_where(part, child)}: {child.tag} in an mc:AlternateContent, which holds only "
                            "mc:Choice and mc:Fallback")
    _must_understand(part, el, scope, problems)
    if chosen is None:
        return []
    _must_understand(part, chosen, scope, problems)
    return _children(part, chosen, scope, problems)
