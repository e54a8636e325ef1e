"""Twilio's Python helper library (PyPI `twilio`) as an independent client of the sandbox.

Usage: helper_library.py BASE_URL CONFERENCE_NAME LABEL TO SECOND_TO

Credentials come from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, where the library itself reads
them. Creates a participant (conference by friendly name, with a label, a list of status
callback events and a timeout), fetches it by CallSid and by label, adds a second participant
and lists the conference one participant per page. Every answer must parse in the library;
the fields it parsed are checked here, then printed as one JSON object on stdout, with the
requests the library sent. Any failed check exits non-zero.
"""

import datetime
import json
import sys
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.conference.participant import ParticipantInstance

FROM = "+15017122661"
EVENTS = ["initiated", "ringing", "answered", "completed"]


class SandboxHttpClient(TwilioHttpClient):
    """The library's own HTTP client, sending every request to the sandbox instead.

    The library builds absolute `https://api.twilio.com/...` URLs, for next pages too (from
    the answer's `next_page_uri`); this keeps their path and query and swaps scheme and host.
    A custom `http_client` is the extension point the `Client` constructor documents.
    """

    def __init__(self, base_url):
        super().__init__(timeout=10)
        self.base = urlsplit(base_url)
        self.sent = []

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit(
            (self.base.scheme, self.base.netloc, parts.path, parts.query, "")
        )
        self.sent.append({"method": method, "url": url})
        return super().request(method, url, *args, **kwargs)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


# The library declares each status as an upper-case constant of this class.
STATUSES = {v for k, v in vars(ParticipantInstance.Status).items() if k.isupper()}
FLAGS = ("muted", "hold", "coaching", "end_conference_on_exit", "start_conference_on_enter")


def fields(p):
    """What the library parsed from one participant, checked against its declared types."""
    for date in ("date_created", "date_updated"):
        value = getattr(p, date)
        check(isinstance(value, datetime.datetime), f"{date} parsed: {value!r}")
    for flag in FLAGS:
        value = getattr(p, flag)
        check(isinstance(value, bool), f"{flag} is a bool: {value!r}")
    check(p.status in STATUSES, f"status is one of {sorted(STATUSES)}: {p.status!r}")
    return {
        "account_sid": p.account_sid,
        "call_sid": p.call_sid,
        "conference_sid": p.conference_sid,
        "label": p.label,
        "status": p.status,
        "queue_time": p.queue_time,
        "muted": p.muted,
        "hold": p.hold,
        "coaching": p.coaching,
        "date_created": p.date_created.isoformat(),
        "uri": p.uri,
    }


def main():
    base_url, conference_name, label, to, second_to = sys.argv[1:6]
    http = SandboxHttpClient(base_url)
    client = Client(http_client=http)
    check(client.account_sid, "TWILIO_ACCOUNT_SID is set")

    created = client.conferences(conference_name).participants.create(
        from_=FROM,
        to=to,
        label=label,
        status_callback_event=EVENTS,
        timeout=20,
    )
    check(created.call_sid.startswith("CA"), f"a CallSid: {created.call_sid}")
    check(created.conference_sid.startswith("CF"), f"a conference: {created.conference_sid}")
    check(created.label == label, f"the label: {created.label}")
    check(created.account_sid == client.account_sid, f"the account: {created.account_sid}")
    check(created.queue_time is not None, "a queue_time on create")

    conference = client.conferences(created.conference_sid)
    by_call_sid = conference.participants(created.call_sid).fetch()
    by_label = conference.participants(label).fetch()
    check(by_call_sid.call_sid == created.call_sid, "fetched by CallSid")
    check(by_label.call_sid == created.call_sid, "fetched by label")

    room = client.conferences(conference_name)
    second = room.participants.create(from_=FROM, to=second_to)
    check(second.conference_sid == created.conference_sid, "the same conference by name")
    listed = conference.participants.list(page_size=1)

    print(
        json.dumps(
            {
                "created": fields(created),
                "by_call_sid": fields(by_call_sid),
                "by_label": fields(by_label),
                "second": fields(second),
                "listed": [fields(p) for p in listed],
                "sent": http.sent,
            }
        )
    )


if __name__ == "__main__":
    main()
