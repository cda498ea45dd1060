"""The cycle collector is paused for a run and put back as it was, errors included."""

import gc

import pytest

from potentiel import gcpause


def test_the_collector_is_off_inside_and_back_after():
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_puts_the_collector_back():
    with pytest.raises(ValueError):
        with gcpause.paused():
            raise ValueError("run failed")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_entry_point_is_wrapped_with_its_name_and_doc():
    from potentiel.headless import score_file
    seen = []

    @gcpause.during
    def run():
        """Doc."""
        seen.append(gc.isenabled())
        return 7
    assert run() == 7 and seen == [False] and run.__doc__ == "Doc." and gc.isenabled()
    assert score_file.__name__ == "score_file" and "Recompute a workbook" in score_file.__doc__
