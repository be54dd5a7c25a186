"""The rebuild, on any sandbox: run the build, collect its outputs, say what happened.

The three sandbox operations (verifier/sandbox/interface.py) sequenced into one
``RebuildResult``. A build that succeeded but matched no output is NO_OUTPUTS.
"""

from __future__ import annotations

from dataclasses import replace

from verifier.sandbox.interface import CollectedOutputs, LineCallback, Sandbox
from verifier.sandbox.log import first_errors
from verifier.stages import BuildPreparation, BuildStatus, FetchedInputs, PreparedEnvironment, RebuildResult

NOTHING_COLLECTED = CollectedOutputs((), (), ())


def rebuild(sandbox: Sandbox, env: PreparedEnvironment, inputs: FetchedInputs,
            preparation: BuildPreparation | None = None, on_line: LineCallback | None = None) -> RebuildResult:
    globs = inputs.manifest.build.outputs
    with sandbox.run_build(env, inputs, preparation, on_line) as build:
        succeeded = build.status == BuildStatus.SUCCEEDED
        collected = sandbox.collect_outputs(build, globs) if succeeded else NOTHING_COLLECTED
    status, reason = build.status, build.reason
    if succeeded and not collected.outputs:
        status, reason = BuildStatus.NO_OUTPUTS, f"no output matched {', '.join(globs)}"
    record = replace(build.record, output_notes=collected.notes)
    return RebuildResult(status=status, exit_status=build.exit_status, outputs=collected.outputs,
                         unmatched_globs=collected.unmatched_globs, log_path=build.log_path, log_tail=build.log_tail,
                         sandbox=record, seconds=build.seconds, reason=reason,
                         installed_packages=build.installed_packages, started_at=build.started_at,
                         log_errors=() if succeeded else first_errors(build.log_path))
