#!/usr/bin/env python3
"""Runs the job of the GitLab CI/CD component (templates/modelgate.yml) locally, as a
GitLab runner would: the spec's inputs and their defaults interpolated into `$[[ inputs.* ]]`,
the job's variables and GitLab's predefined ones (GITLAB_CI, CI, CI_PROJECT_DIR,
CI_JOB_NAME, CI_PIPELINE_SOURCE, CI_ENVIRONMENT_NAME) exported (variables named in their values expanded), the script's lines run in
one bash session with `set -eo pipefail`, and the artifacts the job declares checked: every
path must exist afterwards, the JUnit report must be JUnit.

    run_gitlab.py REPOSITORY PROJECT_DIR OUT.json [NAME=VALUE ...]

Writes what happened to OUT.json and exits with the script's status.
"""

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import yaml


def main():
    repository, project_dir, out_path = sys.argv[1:4]
    given = dict(argument.split("=", 1) for argument in sys.argv[4:])
    with open(os.path.join(repository, "templates", "modelgate.yml")) as handle:
        text = handle.read()
    header, body = list(yaml.safe_load_all(text))[0], text.split("\n---\n", 1)[1]
    declared = header["spec"]["inputs"]
    unknown = set(given) - set(declared)
    assert not unknown, f"inputs the component does not declare: {unknown}"
    inputs = {name: given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}

    def interpolate(match):
        name = match.group(1)
        assert name in inputs, f"$[[ inputs.{name} ]] is not a declared input"
        return inputs[name]

    body = re.sub(r"\$\[\[\s*inputs\.([a-z0-9_-]+)\s*\]\]", interpolate, body)
    assert "$[[" not in body, "an interpolation this runner does not know"
    jobs = yaml.safe_load(body)
    assert list(jobs) == [inputs["job-name"]], f"one job, named by the job-name input: {list(jobs)}"
    job = jobs[inputs["job-name"]]
    assert job["stage"] == inputs["stage"]
    environment = dict(os.environ)
    environment.update(
        {
            "GITLAB_CI": "true",
            "CI": "true",
            "CI_PROJECT_DIR": project_dir,
            "CI_JOB_NAME": inputs["job-name"],
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_ENVIRONMENT_NAME": "production",
        }
    )
    # GitLab expands variables named in a job variable's value ($CI_ENVIRONMENT_NAME).
    def expand(value):
        return re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda match: environment.get(match.group(1), match.group(0)), value
        )

    environment.update({key: expand(str(value)) for key, value in (job.get("variables") or {}).items()})
    script = "set -eo pipefail\n" + "\n".join(job["script"]) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=project_dir, env=environment, capture_output=True, text=True)
    artifacts = job.get("artifacts", {})
    assert artifacts.get("when") == "always", "the reports are kept when the gate fails the job"
    for path in artifacts.get("paths", []):
        assert os.path.exists(os.path.join(project_dir, path)), f"artifact path {path} does not exist"
    junit = artifacts.get("reports", {}).get("junit")
    if junit:
        root = ElementTree.parse(os.path.join(project_dir, junit)).getroot()
        assert root.tag in ("testsuites", "testsuite"), f"{junit} is not JUnit: <{root.tag}>"
    record = {"status": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "junit": junit}
    with open(out_path, "w") as handle:
        json.dump(record, handle, indent=2)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
