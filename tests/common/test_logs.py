"""crossmodal.common.logs: what an error puts on the console and in the job's log."""

from __future__ import annotations

import logging

import pytest

from crossmodal.common.errors import InputError
from crossmodal.common.logs import exit_on_input_error, log_to


def test_an_input_error_shows_its_message_and_the_log_and_exits_without_a_traceback(tmp_path, capsys):
    log = tmp_path / "logs" / "job.log"
    with pytest.raises(SystemExit) as stop:
        with log_to(log):
            logging.getLogger("crossmodal.test").info("reading scan a")
            raise InputError("dataset 'd', scan 'a': modality 'm' is constant")
    assert stop.value.code == 1
    assert capsys.readouterr().err == f"InputError: dataset 'd', scan 'a': modality 'm' is constant\n(details in {log})\n"
    text = log.read_text()
    assert "INFO crossmodal.test: reading scan a" in text
    assert "Traceback (most recent call last)" in text and text.rstrip().endswith("modality 'm' is constant")


def test_an_unexpected_exception_keeps_its_traceback(tmp_path, capsys):
    log = tmp_path / "job.log"
    with pytest.raises(ZeroDivisionError):
        with log_to(log):
            1 / 0
    assert capsys.readouterr().err == f"ZeroDivisionError: division by zero\n(details in {log})\n"
    assert "Traceback (most recent call last)" in log.read_text()


def test_exit_on_input_error_stops_with_the_message_alone():
    with pytest.raises(SystemExit) as stop:
        with exit_on_input_error():
            raise InputError("config datasets.x.root is empty")
    assert stop.value.code == "InputError: config datasets.x.root is empty"
    with pytest.raises(KeyError):
        with exit_on_input_error():
            raise KeyError("a bug, not bad input")
