"""Checks the deployment files offline, with the validators of the platforms' own tooling.

- AWS Batch: each JSON file against its API's input shape in botocore's service model
  (RegisterJobDefinition, SubmitJob), as the AWS CLI validates --cli-input-json; the IAM
  policy's grammar (version, effects, actions and resources).
- Kubernetes: each manifest against the Kubernetes OpenAPI schemas (kubernetes-validate).

Usage: python3 deploy/check.py   (pip install botocore kubernetes-validate)
"""

import json
import pathlib
import sys

import botocore.session
import botocore.validate
import kubernetes_validate
import yaml

HERE = pathlib.Path(__file__).resolve().parent
KUBERNETES_VERSION = "1.30.0"


def batch(problems):
    model = botocore.session.get_session().get_service_model("batch")
    for name, operation in [
        ("job-definition.json", "RegisterJobDefinition"),
        ("merge-job-definition.json", "RegisterJobDefinition"),
        ("submit-array-job.json", "SubmitJob"),
        ("submit-merge-job.json", "SubmitJob"),
    ]:
        params = json.loads((HERE / "aws-batch" / name).read_text())
        shape = model.operation_model(operation).input_shape
        report = botocore.validate.ParamValidator().validate(params, shape)
        if report.has_errors():
            problems.append(f"aws-batch/{name}: {report.generate_report()}")


def iam(problems):
    policy = json.loads((HERE / "aws-batch" / "iam-policy.json").read_text())
    if policy.get("Version") != "2012-10-17":
        problems.append("iam-policy.json: Version must be 2012-10-17")
    for i, statement in enumerate(policy.get("Statement", [])):
        where = f"iam-policy.json statement {i}"
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{where}: Effect")
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions
        if not actions or any(":" not in a for a in actions):
            problems.append(f"{where}: Action")
        if any(a.endswith(":*") or a == "*" for a in actions):
            problems.append(f"{where}: a wildcard action is not least privilege")
        if not statement.get("Resource"):
            problems.append(f"{where}: Resource")


def kubernetes(problems):
    for path in sorted((HERE / "kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            try:
                kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as e:
                problems.append(f"kubernetes/{path.name}: {e.message} at {list(e.path)}")


def main():
    problems = []
    batch(problems)
    iam(problems)
    kubernetes(problems)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("deploy files: valid")


if __name__ == "__main__":
    main()
