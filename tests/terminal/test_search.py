"""Search in the screen and scrollback: smart case, cell columns, stepping, dropped history."""

from __future__ import annotations

from heimdall.terminal import Terminal
from heimdall.terminal.search import SearchState, find, rescan, scan


def term_with(*lines: str, cols: int = 30, rows: int = 3, scrollback: int = 100) -> Terminal:
    term = Terminal(cols, rows, scrollback_lines=scrollback)
    term.feed("\r\n".join(lines).encode())
    return term


def matched_text(term: Terminal, match: tuple[int, int, int]) -> str:
    index, start, end = match
    return term.text_line(index)[start:end]


def test_scan_finds_every_match_in_history_and_screen_oldest_first() -> None:
    term = term_with("one apple", "two", "apple apple", "three", "four", "apple pie")
    assert term.scrollback_len > 0  # some matches are in the history
    matches = scan(term, "apple")
    assert [index for index, _, _ in matches] == [0, 2, 2, 5]
    assert all(matched_text(term, m) == "apple" for m in matches)
    assert matches[1][1:] == (0, 5) and matches[2][1:] == (6, 11)


def test_smart_case_and_literal_queries() -> None:
    term = term_with("Error here", "error there", "a.b axb")
    assert len(scan(term, "error")) == 2  # all lower case: case-insensitive
    assert [m[0] for m in scan(term, "Error")] == [0]  # a capital: case-sensitive
    assert [(m[1], m[2]) for m in scan(term, "a.b")] == [(0, 3)]  # not a regex
    assert scan(term, "absent") == []


def test_columns_are_cells_wide_characters_count_two() -> None:
    term = term_with("日本 foo")
    [(index, start, end)] = scan(term, "foo")
    assert (start, end) == (5, 8)
    [(_, start, end)] = scan(term, "本")
    assert (start, end) == (2, 4)
    assert index == term.line_index_of_view_row(0)


def test_find_starts_at_the_newest_match_and_steps_older_or_newer_wrapping() -> None:
    term = term_with("hit 1", "hit 2", "hit 3")
    state = find(term, None, "hit")
    assert len(state.matches) == 3 and state.current == 2
    assert find(term, state, "hit") is state and state.current == 1  # older
    find(term, state, "hit")
    find(term, state, "hit")
    assert state.current == 2  # wrapped past the oldest
    find(term, state, "hit", older=False)
    assert state.current == 0  # wrapped past the newest
    other = find(term, state, "hit 2")
    assert other is not state and matched_text(term, other.matches[other.current]) == "hit 2"


def test_find_without_a_match_leaves_no_current() -> None:
    state = find(term_with("nothing here"), None, "absent")
    assert state.matches == [] and state.current == -1


def test_matches_follow_their_text_when_old_history_is_dropped() -> None:
    term = term_with(*(f"line {n}" for n in range(8)), "target", rows=2, scrollback=10)
    state = find(term, None, "line 5")
    [(index, _, _)] = state.matches
    row = state.on_line(index, term.lines_dropped)
    assert row == [(0, 0, 6)]
    term.feed(b"\r\n" + b"\r\n".join(f"more {n}".encode() for n in range(4)))
    dropped = term.lines_dropped - state.dropped
    assert dropped > 0
    # Drawing: the same text is now `dropped` lines earlier, and still highlighted there.
    assert state.on_line(index - dropped, term.lines_dropped) == row
    assert state.on_line(index, term.lines_dropped) == []
    # Stepping again rescans and lands on the same text.
    state = find(term, state, "line 5", older=False)
    assert state.dropped == term.lines_dropped
    assert matched_text(term, state.matches[state.current]) == "line 5"


def test_rescan_steps_on_from_where_a_dropped_match_was() -> None:
    term = term_with(*(f"x{n}" for n in range(10)), rows=2, scrollback=10)
    state = find(term, None, "x")
    state.current = 0  # on the oldest match, x0
    term.feed(b"\r\nx10\r\nx11\r\nx12\r\nx13")  # x0 and x1 leave the history
    assert term.lines_dropped == 2
    new = rescan(term, state, older=True)
    assert term.text_line(new.matches[new.current][0]) == "x2"  # the one after where it was
    new = rescan(term, state, older=False)
    assert term.text_line(new.matches[new.current][0]) == "x13"  # wraps to the newest


def test_search_state_indexes_matches_by_line() -> None:
    state = SearchState("a", [(3, 0, 1), (3, 4, 5), (7, 2, 3)])
    assert state.on_line(3, 0) == [(0, 0, 1), (1, 4, 5)]
    assert state.on_line(7, 0) == [(2, 2, 3)]
    assert state.on_line(5, 0) == []
