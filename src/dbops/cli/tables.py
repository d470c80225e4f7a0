"""Tables that stay readable at 80 columns and in CI logs.

``print_table(console, table)`` prints a rich Table as it is when its natural
width fits the console; otherwise it folds it into a list, one block per row
(the first column as the heading, then ``header  value`` lines), so that no
name is cut, no column shrinks to nothing and no cell wraps word by word
down a narrow column. Key-value tables (no header) are printed as they are:
they already read as a list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` reads well at the console's width.

    Yes when its natural width fits; also when every column can keep its
    longest word whole and no cell would wrap onto more than three lines with
    the room left shared out the way rich does (in proportion to what each
    column would like beyond its longest word).
    """
    from rich.measure import Measurement

    unbounded = console.options.update(width=10_000, max_width=10_000)  # the natural width, not the clamped one
    natural = Measurement.get(console, unbounded, table).maximum
    if natural <= console.width:
        return True
    cells = [[_plain(column.header), *(_plain(cell) for cell in column._cells)] for column in table.columns]
    widest = [max((len(line) for cell in column for line in cell.split("\n")), default=0) for column in cells]
    longest_word = [max((len(word) for cell in column for word in cell.split()), default=0) for column in cells]
    overhead = natural - sum(widest)
    room = console.width - overhead - sum(longest_word)
    if room < 0:
        return False
    wants = [w - m for w, m in zip(widest, longest_word, strict=True)]
    total_wants = sum(wants) or 1
    for column, minimum, want in zip(cells, longest_word, wants, strict=True):
        width = max(1, minimum + room * want // total_wants)
        for cell in column:
            if sum(-(-max(len(line), 1) // width) for line in cell.split("\n")) > 3:
                return False
    return True


def print_table(console: Console, table: Table) -> None:
    """``console.print(table)``, or the list layout when the table does not fit (see the module docstring)."""
    if not table.show_header or fits(console, table):
        console.print(table)
        return
    from rich.text import Text

    if table.title:
        title = table.title if isinstance(table.title, str) else str(table.title)
        console.print(f"[bold]{title}[/bold]" if isinstance(table.title, str) else Text(title, style="bold"))
    headers = [" ".join(_plain(column.header).split()) for column in table.columns]
    label_width = max((len(h) for h in headers[1:]), default=0)
    room = max(20, console.width - label_width - 4)  # what is left for a value beside its label
    for row in zip(*(column._cells for column in table.columns), strict=False):
        key, *rest = row
        console.print(_line(key), style="bold", soft_wrap=True)
        for header, cell in zip(headers[1:], rest, strict=False):
            label = header.ljust(label_width)
            for line in _lines(cell):
                for part in line.wrap(console, room, overflow="fold"):
                    part.rstrip()
                    console.print(Text.assemble("  ", (label, "dim"), "  ", part), soft_wrap=True)
                    label = " " * label_width


def _plain(cell: RenderableType) -> str:
    """A header or cell as plain text (markup rendered away), lines kept."""
    from rich.text import Text  # here, not at the top: the CLI imports this module at start-up

    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return cell.plain if isinstance(cell, Text) else str(cell)


def _line(cell: RenderableType) -> RenderableType:
    from rich.text import Text

    if isinstance(cell, str):
        return Text.from_markup(" ".join(cell.split("\n")))
    return cell


def _lines(cell: RenderableType) -> list[Text]:
    """A cell as lines of text (markup kept); empty cells and "-" placeholders give nothing."""
    from rich.text import Text

    if isinstance(cell, str):
        text = Text.from_markup(cell)
    elif isinstance(cell, Text):
        text = cell
    else:
        text = Text(str(cell))
    if not text.plain.strip() or text.plain.strip() == "-":
        return []
    return list(text.split("\n"))
