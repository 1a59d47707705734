"""A keyboard-only user for browser tests: Tab to move (never a click, never ``focus()``), Space
to tick or choose, the arrow keys within a group of radios (as a screen-reader or switch user
does), typing into fields, Enter to submit or follow a link.

Each move Tabs forward from wherever the focus is until it reaches the target, so a test that
fills a form top to bottom presses about as many keys as a person would; a target the Tab key
never reaches fails the test (it is not keyboard-accessible)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

MAX_TABS = 150


class KeyboardUser:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.presses = 0

    def _focused(self, locator: Locator) -> bool:
        return bool(locator.evaluate("e => e === document.activeElement"))

    def _press(self, key: str) -> None:
        self.presses += 1
        self.page.keyboard.press(key)

    def tab_to(self, locator: Locator) -> None:
        """Press Tab until ``locator`` (exactly one element) has the focus."""
        expect(locator).to_have_count(1)
        for _ in range(MAX_TABS):
            if self._focused(locator):
                return
            self._press("Tab")
        raise AssertionError(f"Tab never reached {locator}")

    def type(self, locator: Locator, text: str) -> None:
        """Tab to a text field, clear what is there, and type."""
        self.tab_to(locator)
        if locator.input_value():
            self._press("Control+a")
            self._press("Backspace")
        self.page.keyboard.type(text)

    def fill(self, label: str, text: str, *, within: Page | Locator | None = None) -> None:
        self.type((within or self.page).get_by_label(label, exact=True), text)

    def date(self, group: str, day: int, month: int, year: int) -> None:
        """A GOV.UK date input, its boxes one after the other."""
        fieldset = self.page.get_by_role("group", name=group)
        for part, value in (("Day", day), ("Month", month), ("Year", year)):
            self.type(fieldset.get_by_label(part, exact=True), str(value))

    def choose(self, group: str, option: str) -> None:
        """The radio labelled ``option`` in the group whose legend is ``group``."""
        fieldset = self.page.get_by_role("group", name=group, exact=True)
        self.choose_radio(fieldset.get_by_role("radio", name=option, exact=True))

    def choose_radio(self, target: Locator) -> None:
        """Tab into the radio's group, then the arrow keys to it (each arrow selects), then
        Space (which selects it, if the Tab landed on it)."""
        expect(target).to_have_count(1)
        name = target.get_attribute("name")
        in_group = (
            "e => { const a = document.activeElement;"
            f" return a === e || (a && a.type === 'radio' && a.name === {name!r}); }}"
        )
        for _ in range(MAX_TABS):
            if target.evaluate(in_group):
                break
            self._press("Tab")
        else:
            raise AssertionError(f"Tab never reached the radios {name!r}")
        for _ in range(30):
            if self._focused(target):
                break
            self._press("ArrowDown")
        else:
            raise AssertionError(f"The arrow keys never reached {target}")
        self._press("Space")
        expect(target).to_be_checked()

    def pick(self, target: Locator) -> None:
        """A radio or a checkbox, whichever it is."""
        if target.get_attribute("type") == "radio":
            self.choose_radio(target)
        else:
            self.tick(target)

    def tick(self, checkbox: Locator) -> None:
        self.tab_to(checkbox)
        if not checkbox.is_checked():
            self._press("Space")
        expect(checkbox).to_be_checked()

    def select(self, label: str, option: str) -> None:
        """A drop-down: Tab to it and type the start of the option (the browser's type-ahead)."""
        select = self.page.get_by_label(label, exact=True)
        self.tab_to(select)
        self.page.keyboard.type(option)
        chosen = select.evaluate("e => e.options[e.selectedIndex].text")
        assert chosen.startswith(option), chosen

    def press_button(self, name: str) -> None:
        """Tab to the button and press Enter, then wait for the next page."""
        self.tab_to(self.page.get_by_role("button", name=name, exact=True))
        with self.page.expect_navigation():
            self._press("Enter")

    def follow_link(self, name: str) -> None:
        self.tab_to(self.page.get_by_role("link", name=name, exact=True))
        with self.page.expect_navigation():
            self._press("Enter")
