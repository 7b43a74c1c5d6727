"""retire: once every environment has recorded the new migrations, the old history goes.

The new migrations lose their ``replaces`` lists and the listed apps' old rows
leave django_migrations (what ``migrate --prune`` does once ``replaces`` is
gone), in one step after the automatic backup.  Run it in every environment
(``djreset status`` says which are ready); the files change once, the rows in
each.  It refuses where this environment has not recorded the new migrations,
and while a migration of another app still names an old one (Django could no
longer load it).  Where it would remove the replaces lists, it reads every
database of every environment of reset.yaml first and refuses while any has
not recorded the new migrations or cannot be read: once the files no longer
replace, plain migrate fails on a database still on the old history.
"""
from __future__ import annotations

from djreset import state
from djreset.bridge import history, replacing, survey
from djreset.errors import Refused, StepFailed
from djreset.registry import step
from djreset.run import Run


def refusals(run: Run) -> None:
    """Refuse before anything changes: nothing to retire, a database not ready, a stale reference."""
    found = history.resets(run.django, run.apps)
    if not found:
        raise Refused(f"nothing to retire: the migrations of {', '.join(run.apps)} replace nothing and {state.RESET_HISTORY} records no reset")
    problems = []
    for alias in run.aliases:
        transactional = run.engine(alias).history_problem(history.table_name())
        if transactional:
            problems.append(f"{alias}: {transactional}")
        for label, value in history.standings(run.django, alias, found).items():
            if value.standing.name not in ("RECORDED", "RETIRED"):
                problems.append(f"{alias}: {value.describe(label)}: this environment has not recorded the new migrations "
                                f"(run migrate here first; `djreset status` shows every environment)")
    loader = run.django.loader()
    problems += replacing.stale_references(loader, replacing.replaced_by(loader, run.apps))
    if any(reset.groups for reset in found.values()):  # the files still replace: every environment must be past the old history
        problems += survey.survey(run.django, run.project, list(run.project.environment_blocks)).not_ready_to_retire()
    if problems:
        raise Refused("retire refused, nothing was changed:\n" + "\n".join(f"  {problem}" for problem in problems))


@step("retire", destructive=True, changes_schema=False, precheck=refusals)
def retire(run: Run) -> None:
    """Remove replaces from the new migrations and the listed apps' old rows (migrate --prune), once this environment recorded them."""
    refusals(run)
    found = history.resets(run.django, run.apps)
    edited = replacing.retired_files(run.django.loader(), run.apps)
    for path, source in edited:
        run.actions.do(f"remove replaces from {run.relative(path)}", lambda p=path, s=source: p.write_text(s, encoding="utf-8"))
    run.django.forget_migration_modules(run.apps)
    for alias in run.aliases:
        rows = history.prunable(run.django, alias, run.apps)
        if not rows:
            run.out.info(f"{alias}: no old rows left")
            continue
        lock = run.engine(alias).history_lock()
        done = run.actions.do(f"{alias}: delete {len(rows)} old rows of {', '.join(sorted({app for app, _ in rows}))} (one transaction)",
                              lambda a=alias, held=lock: history.prune(run.django, a, list(run.apps), found, held))
        if done is not None:
            run.django.forget_migration_modules(run.apps)
            problem, later = history.history_state(run.django, alias)
            if problem:
                raise StepFailed(f"{alias}: after retire, {problem}")
            run.out.info(f"{alias}: consistent" + (f"; migrate will apply {len(later)} newer migration(s)" if later else "; migrate --check passes"))
