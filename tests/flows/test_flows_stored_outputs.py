"""Outputs handed on by address (StoredOutput): the address survives serialisation, is not
taken for a reference, and a job with the store exposed reads the output it points to."""

from __future__ import annotations

import pytest
from jobflow import JobConfig, job, run_locally
from jobflow.core.reference import find_and_get_references
from monty.json import MontyDecoder, jsanitize

from litcl_flows.makers.stored import StoredOutput, detach, fetch


@job
def _make_output() -> dict:
    return {"frames": [[1.0, 2.0], [3.0, 4.0]], "name": "run"}


@job(config=JobConfig(expose_store=True))
def _read(addresses: list) -> list:
    return fetch(addresses)


def test_a_detached_output_is_read_by_the_job_that_needs_it(memory_job_store) -> None:
    producer = _make_output()
    addresses = detach([producer.output["frames"][1], {"all": producer.output}])
    assert addresses == [
        StoredOutput(producer.uuid, (("i", "frames"), ("i", 1))),
        {"all": StoredOutput(producer.uuid)},
    ]
    # no reference left for jobflow to resolve or for FireWorks to link
    assert not find_and_get_references(addresses)
    sent = MontyDecoder().process_decoded(jsanitize(addresses, strict=True))
    # an address is no dependency: the output must exist before its reader runs
    run_locally(producer, store=memory_job_store, ensure_success=True)
    reader = _read(sent)
    run_locally(reader, store=memory_job_store, ensure_success=True)
    assert memory_job_store.get_output(reader.uuid) == [
        [3.0, 4.0],
        {"all": {"frames": [[1.0, 2.0], [3.0, 4.0]], "name": "run"}},
    ]


def test_fetching_outside_a_job_needs_a_store() -> None:
    with pytest.raises(RuntimeError, match="expose_store"):
        fetch([StoredOutput("no-such-job")])
