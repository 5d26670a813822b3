"""Two opinions on what a page's article text is, and their agreement.

trafilatura is run twice on a page: in precision mode (its stricter link-density and
section pruning: fewer menus, teasers and newsletter boxes, but now and then a real
paragraph lost) and in its balanced mode. The precision body is the answer; a block only
the balanced body has is *disputed*, and is put back where it sat when

- it sits between blocks both opinions agree on (inside the article, where a dropped
  paragraph is a lost paragraph, not an edge of page furniture), or
- it sits at an edge but inside the element the publisher itself marks as the article
  body (schema.org ``itemprop="articleBody"``),

and it is not a table (precision mode drops link-heavy tables on purpose). Where
precision mode kept a paragraph but dropped words from it (the text of a link), the
balanced version of that paragraph is taken instead.

Page furniture (``articles.cleaning.furniture``) is removed afterwards from the merged
body either way.
"""

from __future__ import annotations

import difflib
import re

from lxml import etree

from articles.cleaning.furniture import block_text

_WORD = re.compile(r"\w+")
# Blocks precision mode drops on purpose (tables of links, stats boxes) stay dropped.
NEVER_RESTORED = frozenset({"table"})
# A block whose words all appear, in order, in a balanced block at most twice as long
# is that paragraph with words lost (link text precision mode dropped).
SAME_SHARE = 0.5


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _raw_text(block: etree._Element) -> str:
    # Whitespace as the page has it: the key keeps only the words.
    return "".join(block.itertext())


def marked_body_text(tree: etree._Element) -> str:
    """The normalised text of the elements the page marks as its article body ("" if
    none). Read before extraction, which prunes the tree."""
    marked = tree.xpath('//*[@itemprop="articleBody"]')
    return _key(" ".join(" ".join(element.itertext()) for element in marked))


def _blocks(container: etree._Element) -> list[etree._Element]:
    return [child for child in container if isinstance(child.tag, str)]


def _swap_fuller(
    ours: list,
    their_keys: list[str],
    theirs: list,
    start: int,
    end: int,
    other_start: int,
    our_keys: list[str],
) -> int:
    """Where a replaced block of ours is the same paragraph as the balanced one but with
    words missing (precision mode drops link text inside a paragraph), take the balanced
    block in its place. Returns the first balanced block not used so."""
    while start < end and other_start < len(theirs):
        mine, fuller = our_keys[start].split(), their_keys[other_start].split()
        matcher = difflib.SequenceMatcher(a=mine, b=fuller, autojunk=False)
        shared = sum(size for _a, _b, size in matcher.get_matching_blocks())
        # Ours is the fuller one with words left out, and most of it.
        if len(fuller) <= len(mine) or shared < len(mine) or len(mine) < SAME_SHARE * len(fuller):
            break
        block = theirs[other_start]
        block.tail = ours[start].tail
        ours[start].addprevious(block)
        ours[start].getparent().remove(ours[start])
        ours[start] = block
        start, other_start = start + 1, other_start + 1
    return other_start


def merge_opinions(
    precise: etree._Element, balanced: etree._Element, *, marked_text: str = ""
) -> list[str]:
    """Put the balanced body's disputed blocks back into ``precise`` (in place) where the
    rules in this module's docstring say so; return the text of each block put back."""
    ours, theirs = _blocks(precise), _blocks(balanced)
    our_texts = [_raw_text(block) for block in ours]
    their_texts = [_raw_text(block) for block in theirs]
    if our_texts == their_texts:
        # The two opinions agree block for block: nothing is disputed.
        return []
    our_keys = [_key(text) for text in our_texts]
    their_keys = [_key(text) for text in their_texts]
    matcher = difflib.SequenceMatcher(a=our_keys, b=their_keys, autojunk=False)
    operations = matcher.get_opcodes()
    restored: list[str] = []
    for position, (operation, start, end, other_start, other_end) in enumerate(operations):
        if operation not in ("insert", "replace"):
            continue
        if operation == "replace":
            other_start = _swap_fuller(ours, their_keys, theirs, start, end, other_start, our_keys)
        inner = 0 < position < len(operations) - 1
        candidates = theirs[other_start:other_end]
        keep = [
            block
            for block, key in zip(candidates, their_keys[other_start:other_end], strict=True)
            if key
            and block.tag not in NEVER_RESTORED
            and (inner or (marked_text and key in marked_text))
        ]
        if not keep:
            continue
        # Before the block that follows in our body (after any we replaced), else at the end.
        anchor = ours[end] if end < len(ours) else None
        for block in keep:
            block.tail = None
            if anchor is not None:
                anchor.addprevious(block)
            else:
                precise.append(block)
            restored.append(block_text(block))
    return restored
