"""The student's side of the class hub without a hub: the provider when the class's service cannot be used.

The real IBM client against the loopback emulator for the student's own key; the service's address is a loopback
port nobody listens on (a hub whose service is down). The full picture, with a real hub, is tests/test_hub.py.
"""

from __future__ import annotations

import socket

import pytest

from qiskit_connector_lab import connect
from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.providers import provider_for
from qiskit_connector_lab.providers.hub_service import HubServiceProvider, ServiceUnusable, listing_from_answer

BACKENDS = "/api/v1/backends"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_with_the_service_down_the_students_own_key_lists_and_says_so_once(emulator, ibm_dotenv, monkeypatch):
    ibm_dotenv()
    monkeypatch.setenv("QCONNECTOR_HUB_SERVICE_URL", f"http://127.0.0.1:{closed_port()}/services/qiskit-connector-lab")
    provider = provider_for(load_settings())
    assert isinstance(provider, HubServiceProvider)
    listing = provider.listing(0)
    assert sorted(listing.names()) == sorted(emulator.backend_names)
    notes = [note for note in listing.notes if note.startswith("The class's QPU service could not be used")]
    assert notes == [
        "The class's QPU service could not be used (it could not be reached); listing with your own credentials."
    ]
    again = provider.listing(0)  # within the retry delay: the service is not asked again, the note stays one
    assert [note for note in again.notes if "class's QPU service" in note] == notes
    assert provider.service_answers == 0 and provider.fallbacks == 2
    summary = connect()  # the summary of %qconnect says it once
    assert [note for note in summary.notes if "class's QPU service" in note] == notes


def test_without_the_variable_the_provider_is_the_students_own(emulator, ibm_dotenv):
    ibm_dotenv()
    assert not isinstance(provider_for(load_settings()), HubServiceProvider)


@pytest.mark.parametrize(
    "answer, reason",
    [
        ([], "its listing is not a listing"),
        ({"qpus": "x"}, "its listing is not a listing"),
        ({"qpus": [], "fetched_at": "yesterday"}, "its listing has no time"),
        (
            {"qpus": [{"status": "online"}], "fetched_at": "2026-01-01T00:00:00+00:00"},
            "a QPU in its listing has no name",
        ),
        (
            {"qpus": [{"name": "ibm_x"}], "fetched_at": "2026-01-01T00:00:00+00:00"},
            "a QPU in its listing lacks a field",
        ),
    ],
)
def test_a_listing_the_service_did_not_make_is_refused_in_one_line(answer, reason):
    with pytest.raises(ServiceUnusable, match=f"^{reason}$"):
        listing_from_answer(answer)
