import io

from django.core.management.base import OutputWrapper

from digest.core.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_is_drawn_on_a_terminal_and_reaches_the_total():
    screen = Terminal()
    bar = ProgressBar(OutputWrapper(screen), 3, unit="source")
    bar._bar.mininterval = 0  # draw every step, as a slow run would
    bar.advance("first")
    bar.advance("second")
    bar.update_to(3, "done")
    assert "3/3" in screen.getvalue()
    assert "source" in screen.getvalue()
    bar.finish()


def test_no_bar_when_output_is_not_a_terminal():
    captured = io.StringIO()
    bar = ProgressBar(OutputWrapper(captured), 5)
    for _ in range(5):
        bar.advance("x")
    bar.finish()
    assert captured.getvalue() == ""
