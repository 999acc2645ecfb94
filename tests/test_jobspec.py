"""The job a worker receives: a typed value that pickles whole and carries no resolved secret."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from weir.build.jobspec import WorkerJob
from weir.build.runner import Runner
from weir.flow.plan import Action, BuildPlan, Job
from weir.model.project import ColumnSpec, Interface, RecipeKind
from weir.storage.backends import backend_for
from weir.workspace import DataStatus, Workspace

SECRET = "pg-s3cr3t-value"


@pytest.fixture
def runner(make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("WEIR_TEST_JOB_PASSWORD", SECRET)
    root = make_project({
        "weir.yaml": "name: jobs\nvariables:\n  low: 2\n",
        "connections.yaml": """
            connections:
              warehouse:
                type: postgresql
                host: db.invalid
                database: shop
                user: weir
                password: ${env:WEIR_TEST_JOB_PASSWORD}
            """,
        "datasets/orders.yaml": """
            connection: warehouse
            table: orders
            schema:
              - {name: id, type: int64, nullable: false}
            """,
        "datasets/big.yaml": "schema:\n  - {name: id, type: int64}\n",
        "recipes/big.py": """
            import pyarrow as pa
            from weir import recipe

            @recipe
            def big(orders: pa.Table) -> pa.Table:
                return orders
            """,
    })
    ws = Workspace.open(root)
    # No database is reached: a job is made from the project's files alone.
    status = DataStatus(expected={"orders": "fp-orders"}, components={}, statuses={},
                        records={}, restorable=frozenset())
    plan = BuildPlan((Job("recipes/big.py:big", ("big",), {"big": ("never built",)}, Action.RUN, ()),),
                     ("big",), ())
    return Runner(ws, plan, status, jobs=1)


def test_a_worker_job_says_everything_the_worker_needs_as_typed_values(runner: Runner) -> None:
    job = runner.worker_job(runner.plan.jobs[0])
    assert (job.recipe, job.kind, job.rel_file, job.line) == ("big", RecipeKind.PYTHON,
                                                              "recipes/big.py", 5)
    assert job.variables == {"low": 2} and job.sql_variables == ()
    [inp] = job.inputs
    assert (inp.name, inp.loc, inp.interface) == ("orders", "orders", Interface.ARROW)
    assert inp.schema == (ColumnSpec("id", "int64", False),)  # a source's schema is applied
    [out] = job.outputs
    assert (out.name, out.format, out.schema, out.schema_file) == (
        "big", "parquet", (ColumnSpec("id", "int64", True),), "datasets/big.yaml")
    assert out.token.startswith(runner.run_id) and job.output_names == ("big",)
    assert job.log_path.endswith(f"logs/big/{runner.run_id}.log")


def test_secret_references_travel_unresolved_and_resolve_in_the_process_that_connects(
        runner: Runner) -> None:
    job = runner.worker_job(runner.plan.jobs[0])
    sent = pickle.dumps(job)  # what goes down the pipe to the worker
    assert SECRET.encode() not in sent
    received = pickle.loads(sent)
    assert isinstance(received, WorkerJob) and received == job
    conn = received.inputs[0].connection
    assert conn.params["password"] == "${env:WEIR_TEST_JOB_PASSWORD}"
    backend = backend_for(Path(received.project_root), conn.name, conn.type, conn.params)
    assert backend.params["password"] == SECRET
