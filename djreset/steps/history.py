"""fake-zero, and the history helpers other steps share."""
from __future__ import annotations

from djreset import faults
from djreset.registry import step
from djreset.run import Run


def _delete_sql(queryset, alias: str) -> str:
    """The DELETE Django will send, compiled by Django itself (for plan and logs)."""
    from django.db.models.sql.subqueries import DeleteQuery

    query = queryset.query.chain(DeleteQuery)
    sql, params = query.get_compiler(alias).as_sql()
    return f"{sql}  params={list(params)}"


@step("fake-zero", destructive=True)
def fake_zero(run: Run) -> None:
    """Forget the listed apps' history in django_migrations, and nothing else."""
    from django.db import transaction
    from django.db.migrations.recorder import MigrationRecorder

    for alias in run.aliases:
        recorder = MigrationRecorder(run.django.connection(alias))
        if not recorder.has_table():
            run.actions.note(f"{alias}: no django_migrations table; nothing to forget")
            continue
        rows = recorder.migration_qs.filter(app__in=run.apps)
        count = rows.count()

        def delete(rows=rows, alias=alias) -> None:
            with transaction.atomic(using=alias):
                rows.delete()
                faults.point("inside:fake-zero")
            run.django.history_changed()

        run.actions.do(f"delete {count} rows on {alias}: {_delete_sql(rows, alias)}", delete)


def record_soft_applied_initials(run: Run, alias: str) -> list[str]:
    """Record the listed apps' unapplied initial migrations whose tables exist.

    Uses Django's own test (``MigrationExecutor.detect_soft_applied``, the one
    ``migrate --fake-initial`` uses), without the history consistency check
    that would stop on admin.0001 before anything is faked.
    """
    if run.dry:
        run.actions.do(f"record on {alias} the new initial migrations whose tables exist")
        return []
    executor = run.django.executor(alias)
    recorded = []
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    for migration, backwards in plan:
        if backwards or migration.app_label not in run.apps:
            continue
        soft_applied, _ = executor.detect_soft_applied(None, migration)
        if not soft_applied:
            continue
        key = f"{migration.app_label}.{migration.name}"
        run.actions.do(f"record {key} as applied on {alias} (its tables exist)", lambda m=migration: executor.recorder.record_applied(m.app_label, m.name))
        recorded.append(key)
    run.django.history_changed()
    return recorded
