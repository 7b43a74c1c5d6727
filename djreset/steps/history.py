"""fake-zero: forget the listed apps' history, and nothing else."""
from __future__ import annotations

from djreset.bridge import history
from djreset.registry import step
from djreset.run import Run
from djreset.safety import faults


@step("fake-zero", destructive=True, changes_schema=False)
def fake_zero(run: Run) -> None:
    """Forget the listed apps' history in django_migrations, and nothing else."""
    labels = list(run.apps)
    for alias in run.aliases:
        if not history.recorder(run.django, alias).has_table():
            run.actions.note(f"{alias}: no django_migrations table; nothing to forget")
            continue
        count = history.count_rows(run.django, alias, labels)
        sql, params = history.forget_statement(run.django.connection(alias), labels)
        run.actions.do(
            f"delete {count} rows on {alias}: {sql}  params={params}",
            lambda alias=alias: history.forget(run.django, alias, labels, midway=lambda: faults.point("inside:fake-zero")),
        )
