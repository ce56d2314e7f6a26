#!/usr/bin/env python3
"""Runs the steps of the composite GitHub Action (action.yml) locally, as the Actions
runner would: the inputs and their defaults, `${{ inputs.* }}`, `${{ steps.*.outputs.* }}`
and `${{ github.* }}` substituted, each `run:` step in bash with its `env:`, the Actions
variables set (GITHUB_ACTIONS, GITHUB_OUTPUT per step, GITHUB_STEP_SUMMARY,
GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_WORKSPACE), `if:` conditions evaluated, and the
`uses:` steps (code scanning, artifact upload) checked for what they would be given: the
files must exist.

    run_action.py ACTION_DIR WORKSPACE OUT.json [NAME=VALUE ...]

Writes what happened to OUT.json ({"steps": [...], "outputs": {...}, "status": N}) and
exits with the gate step's status.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import yaml


def main():
    action_dir, workspace, out_path = sys.argv[1:4]
    given = dict(argument.split("=", 1) for argument in sys.argv[4:])
    with open(os.path.join(action_dir, "action.yml")) as handle:
        action = yaml.safe_load(handle)
    assert action["runs"]["using"] == "composite", "a composite action"
    declared = action["inputs"]
    unknown = set(given) - set(declared)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    inputs = {name: given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
    temp = tempfile.mkdtemp(prefix="runner-temp-")
    summary = os.path.join(temp, "step-summary.md")
    open(summary, "w").close()
    github = {"job": "gate", "run_attempt": "1", "action_path": action_dir, "workspace": workspace}
    steps = {}
    record = {"steps": [], "outputs": {}, "status": None, "summary": summary}
    failed = False

    def expression(text):
        def value(match):
            path = match.group(1).strip()
            parts = path.split(".")
            if parts[0] == "inputs":
                return inputs[parts[1]]
            if parts[0] == "steps":
                return steps.get(parts[1], {}).get(parts[3], "")
            if parts[0] == "github":
                return github[parts[1]]
            raise AssertionError(f"an expression this runner does not know: {path}")

        return re.sub(r"\$\{\{\s*([^}]*?)\s*\}\}", value, str(text))

    def condition(text):
        # always() && a == 'x' && b != '' — the forms action.yml uses.
        clauses = [clause.strip() for clause in str(text).split("&&")]
        result = True
        for clause in clauses:
            if clause == "always()":
                continue
            if clause == "success()":
                result = result and not failed
                continue
            match = re.fullmatch(r"(.+?)\s*(==|!=)\s*'([^']*)'", clause)
            assert match, f"a condition this runner does not know: {clause}"
            left = expression("${{ " + match.group(1) + " }}")
            equal = left == match.group(3)
            result = result and (equal if match.group(2) == "==" else not equal)
        return result

    for step in action["runs"]["steps"]:
        name = step.get("name", step.get("id", "?"))
        if "if" in step:
            if not condition(step["if"]):
                record["steps"].append({"name": name, "skipped": True})
                continue
        elif failed:
            record["steps"].append({"name": name, "skipped": True})
            continue
        if "uses" in step:
            given_with = {key: expression(value) for key, value in (step.get("with") or {}).items()}
            for key in ("sarif_file", "path"):
                if key in given_with:
                    target = os.path.join(workspace, given_with[key])
                    assert os.path.exists(target), f"{name}: {key} {given_with[key]} does not exist"
            record["steps"].append({"name": name, "uses": step["uses"], "with": given_with})
            continue
        output = os.path.join(temp, f"output-{len(record['steps'])}")
        open(output, "w").close()
        environment = dict(os.environ)
        environment.update(
            {
                "GITHUB_ACTIONS": "true",
                "CI": "true",
                "GITHUB_OUTPUT": output,
                "GITHUB_STEP_SUMMARY": summary,
                "GITHUB_ACTION_PATH": action_dir,
                "GITHUB_WORKSPACE": workspace,
                "RUNNER_TEMP": temp,
            }
        )
        environment.update({key: expression(value) for key, value in (step.get("env") or {}).items()})
        assert step.get("shell") == "bash", f"{name}: composite run steps name their shell"
        done = subprocess.run(
            ["bash", "-e", "-c", expression(step["run"])],
            cwd=workspace,
            env=environment,
            capture_output=True,
            text=True,
        )
        outputs = {}
        with open(output) as handle:
            for line in handle:
                if "=" in line:
                    key, value = line.rstrip("\n").split("=", 1)
                    outputs[key] = value
        if "id" in step:
            steps[step["id"]] = outputs
        record["steps"].append(
            {"name": name, "status": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "outputs": outputs}
        )
        if step.get("id") == "gate":
            record["status"] = done.returncode
        if done.returncode != 0:
            failed = True
    record["outputs"] = {name: expression(spec["value"]) for name, spec in action.get("outputs", {}).items()}
    with open(out_path, "w") as handle:
        json.dump(record, handle, indent=2)
    sys.exit(record["status"] if record["status"] is not None else 2)


if __name__ == "__main__":
    main()
