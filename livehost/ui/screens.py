"""Modal screens: add a node, type a value, save as, load, confirm, help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class SearchScreen(ModalScreen[str | None]):
    """A searchable list of ``(id, description)`` items under ``title``; dismisses with the chosen id
    (or None; with ``free_text``, the typed text when nothing matches). ``width``: the id column's width
    in characters."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, items: list[tuple[str, str]], width: int = 12, free_text: bool = False):
        super().__init__()
        self.title_text = title
        self.items = items
        self.width = width
        self.free_text = free_text  # enter with nothing matching dismisses with the typed text

    def _options(self, q: str = "") -> list[Option]:
        return [Option(f"{n:<{self.width}} {d}", id=n) for n, d in self.items if q in n.lower() or q in d.lower()]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text)
            yield Input(placeholder="search", id="search")
            yield OptionList(*self._options(), id="types")

    def on_input_changed(self, event: Input.Changed) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options(self._options(event.value.lower()))
        if ol.option_count:
            ol.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        ol = self.query_one(OptionList)
        if ol.option_count:
            self.dismiss(ol.get_option_at_index(ol.highlighted or 0).id)
        elif self.free_text and event.value:
            self.dismiss(event.value)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AddNodeScreen(SearchScreen):
    """A searchable list of node types; dismisses with the chosen type name (or None)."""

    def __init__(self, types: list[tuple[str, str]]):
        super().__init__("Add a node: type to search, enter to add, escape to cancel", types)


class AskScreen(ModalScreen[str | None]):
    """One line of text (a value, a file name); dismisses with it or None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, prompt: str, placeholder: str = ""):
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.prompt)
            yield Input(placeholder=self.placeholder, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(ModalScreen[str | None]):
    """Pick one of ``choices`` (e.g. patch files); dismisses with it or None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, prompt: str, choices: list[str]):
        super().__init__()
        self.prompt = prompt
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.prompt)
            yield OptionList(*[Option(c, id=c) for c in self.choices], id="choices")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no question: ``y`` confirms, ``n``/escape declines."""

    BINDINGS = [Binding("y", "yes", "yes"), Binding("n", "no", "no"), Binding("escape", "no", "no")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            yield Label("y = yes, n = no")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class HelpScreen(ModalScreen[None]):
    """Every key, from the app's bindings."""

    BINDINGS = [Binding("escape", "close", "close"), Binding("question_mark", "close", "close"),
                Binding("q", "close", "close")]

    def __init__(self, rows: list[tuple[str, str]]):
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        text = "\n".join(f"{k:>14}  {d}" for k, d in self.rows)
        with Vertical(id="dialog"):
            yield Label("livehost keys (escape closes)")
            yield Static(text, id="helptext")

    def action_close(self) -> None:
        self.dismiss(None)
