"""The fleet's last poll is timed by when its open actions should end (EndForecast), learnt from how long its ended
actions took by the API's own timestamps, so it looks just after the last action ends instead of seconds later.

Pure logic, on the engine's clock: which poll comes when does not depend on the machine's speed here, while over
HTTP it would (benchmarks/fleet.py shows the gain at the real limits, scenario e)."""

import time

from ansible_collections.secops.defender.plugins.module_utils import _quarantine
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetEngine, FleetRequest, Row
from ansible_collections.secops.defender.plugins.module_utils._waiter import FORECAST_MARGIN, EndForecast

T0 = 1790000000  # an instant on the API's clock (2026-09-21)


def iso(seconds):
    whole = int(seconds)
    return "%s.%sZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)), ("%.3f" % (seconds - whole))[2:])


def action(n, created, status="Pending", ended=None, field="lastUpdateDateTimeUtc"):
    return {"id": "%08x-0000-4000-8000-000000000000" % n, "type": "StopAndQuarantineFile", "status": status,
            "machineId": "%040x" % n, "creationDateTimeUtc": iso(T0 + created),
            field: iso(T0 + (created if ended is None else ended))}


class Clock:
    def __init__(self, now):
        self.now = now

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_without_an_ended_action_there_is_no_forecast():
    forecast = EndForecast()
    assert forecast.expected_end([action(1, 0)]) is None
    forecast.note_created(action(1, 0), 100.0)
    assert forecast.expected_end([action(1, 0)]) is None   # how long an action takes is not known yet


def test_the_end_is_creation_plus_the_typical_duration_on_the_clients_clock():
    forecast = EndForecast()
    # The client's clock reads 100 when the API's reads T0 (the first POST's answer, read at once)...
    forecast.note_created(action(1, 0), 100.0)
    forecast.note_created(action(2, 0.5), 100.6)   # a slower answer does not move the offset
    # ...three actions ended after 5, 5 and 40 seconds: the median, not the slowest, is typical
    for n, ended in ((1, 5.0), (2, 5.5), (3, 40.5)):
        forecast.note_ended(action(n, ended - (40 if n == 3 else 5), "Succeeded", ended))
    end = forecast.expected_end([action(10, 60), action(11, 61.2)])
    assert abs(end - (100.0 + 61.2 + 5.0 + FORECAST_MARGIN)) < 1e-3


def test_the_list_examples_spelling_of_the_last_update_counts_too():
    forecast = EndForecast()
    forecast.note_created(action(1, 0), 0.0)
    forecast.note_ended(action(1, 0, "Succeeded", 7.0, field="lastUpdateTimeUtc"))
    assert abs(forecast.expected_end([action(2, 10)]) - (17.0 + FORECAST_MARGIN)) < 1e-3


def test_an_open_or_unreadable_action_teaches_nothing():
    forecast = EndForecast()
    forecast.note_created(action(1, 0), 0.0)
    forecast.note_ended(action(1, 0, "InProgress", 3.0))                     # not ended
    forecast.note_ended(dict(action(2, 5, "Succeeded", 1.0)))               # ends before it began
    forecast.note_ended({"status": "Succeeded", "creationDateTimeUtc": "yesterday"})
    assert forecast.expected_end([action(3, 10)]) is None


def engine_with(now, poll_interval=10):
    engine = FleetEngine(None, _quarantine.SPEC, {}, FleetRequest([], single=False, poll_interval=poll_interval))
    engine.clock = Clock(now)
    return engine


def submitted(n, created, adopted=False):
    row = Row("%040x" % n, machine_id="%040x" % n)
    row.action, row.adopted = action(n, created), adopted
    return row


def test_the_poll_after_the_last_submissions_comes_just_after_their_forecast_end():
    # 100 actions created at API time 0 ended 5 s later; the last one was created at 60 (the next rate window).
    # The back-off would sleep 4 s at 63.5 and look at 67.5; the forecast looks at 65.25.
    rows = [submitted(n, 0) for n in range(1, 4)] + [submitted(9, 60)]
    engine = engine_with(63.5)
    engine.forecast.note_created(rows[0].action, 0.0)
    for row in rows[:3]:
        row.action = action(int(row.machine_id, 16), 0, "Succeeded", 5.0)
        engine.forecast.note_ended(row.action)
        row.finished = True
    assert abs(engine._next_poll_in(rows, 4.0) - (65.0 + FORECAST_MARGIN - 63.5)) < 1e-3


def test_the_forecast_only_brings_a_poll_forward():
    rows = [submitted(1, 0), submitted(2, 60)]
    engine = engine_with(60.5)
    engine.forecast.note_created(rows[0].action, 0.0)
    rows[0].action, rows[0].finished = action(1, 0, "Succeeded", 5.0), True
    engine.forecast.note_ended(rows[0].action)
    assert engine._next_poll_in(rows, 1.0) == 1.0        # the end (65.25) is further than the step
    engine.clock.now = 66.0
    assert engine._next_poll_in(rows, 8.0) == 8.0        # the end has passed and the action is open: back-off
    assert engine._next_poll_in(rows, 20.0) == 10.0      # never longer than poll_interval


def test_an_adopted_action_neither_teaches_nor_is_forecast():
    # An equal action found from last week is open (a device offline): its age says nothing of this wait's pace.
    old = submitted(1, -7 * 86400, adopted=True)
    fresh = submitted(2, 60)
    engine = engine_with(61.0)
    engine.forecast.note_created(fresh.action, 60.0)
    assert engine._next_poll_in([old, fresh], 2.0) == 2.0


def test_a_one_device_task_that_learnt_from_other_tasks_first_polls_at_its_forecast_end():
    # A per-host play's task: its shared look-up's answer held other hosts' ended actions (5 s each).
    row = submitted(7, 100)
    engine = engine_with(100.0)
    engine.one_device = True
    engine.forecast.note_created(row.action, 100.0)
    engine._learn_durations({"actions": [action(n, 90, "Succeeded", 95.0) for n in (1, 2, 3)]
                             + [dict(action(4, 0, "Succeeded", 600.0), type="Isolate")]})   # another type: ignored
    assert abs(engine._next_poll_in([row], 1.0, first_poll=True) - (5.0 + FORECAST_MARGIN)) < 1e-3
    assert engine._next_poll_in([row], 1.0) == 1.0                      # later polls keep the back-off
    engine.request.poll_interval = 4
    assert engine._next_poll_in([row], 1.0, first_poll=True) == 1.0      # never waits past poll_interval
    fleet = engine_with(100.0)                                          # a task on several devices: looks at once
    fleet.forecast = engine.forecast
    assert fleet._next_poll_in([row, submitted(8, 100)], 0.5, first_poll=True) == 0.5


def test_actions_that_never_ran_teach_nothing_about_how_long_one_takes():
    """A TimeOut ends when the API gives up on an offline device (days later), a Cancelled one when someone cancels
    it: neither is a run time. A look-up shares 30 days of a device's actions, so a one-device task that learnt from
    those would wait its whole poll_interval before its first poll."""
    forecast = EndForecast()
    forecast.note_created(action(1, 0), 0.0)
    forecast.note_ended(action(1, 0, "Succeeded", 6.0))
    forecast.note_ended(action(2, -3 * 86400, "TimeOut", -86400))       # gave up on an offline device
    forecast.note_ended(action(3, -7200, "TimeOut", -7200 + 86400 - 1))
    forecast.note_ended(action(4, -600, "Cancelled", -300))               # cancelled by an analyst
    end = forecast.expected_end([action(10, 20)])
    assert abs(end - (20 + 6.0 + FORECAST_MARGIN)) < 1e-3
    forecast.note_ended(action(5, 30, "Failed", 38.0))                   # a device that ran it and failed: it ran
    assert abs(forecast.expected_end([action(10, 20)]) - (20 + 8.0 + FORECAST_MARGIN)) < 1e-3


def test_only_never_ran_actions_leave_no_forecast():
    forecast = EndForecast()
    forecast.note_created(action(1, 0), 0.0)
    forecast.note_ended(action(2, -86400, "TimeOut", 0))
    forecast.note_ended(action(3, -60, "Cancelled", 0))
    assert forecast.expected_end([action(10, 20)]) is None
