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
    """Whether ``table`` fits the console's width without wrapping any cell."""
    from rich.measure import Measurement

    unbounded = console.options.update(width=10_000, max_width=10_000)  # the natural width, not the clamped one
    return Measurement.get(console, unbounded, table).maximum <= console.width


def print_table(console: Console, table: Table) -> None:
    """``console.print(table)``, or the list layout when the table does not fit (see the module docstring)."""
    if not table.show_header or fits(console, table):
        console.print(table)
        return
    from rich.text import Text

    if table.title:
        title = table.title if isinstance(table.title, str) else str(table.title)
        console.print(f"[bold]{title}[/bold]" if isinstance(table.title, str) else Text(title, style="bold"))
    headers = [_plain(column.header) for column in table.columns]
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


def _plain(header: RenderableType) -> str:
    text = header.plain if hasattr(header, "plain") else str(header)
    return " ".join(text.split())


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
