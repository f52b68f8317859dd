"""Deployment-as-code checks that need neither terraform nor docker.

No terraform binary can be installed here, so every .tf file is parsed with HashiCorp's HCL
parser (npm @cdktf/hcl2json, a WebAssembly build of hcl2json) and the result is checked:

* what `terraform validate` would catch without provider schemas: every var./local./module./
  data./resource reference resolves, module calls pass exactly the modules' variables, tfvars
  set only declared variables, and every argument and block is one the AWS provider documents
  (the table below, taken from the provider's documentation);
* that the infrastructure says what the code expects: the DynamoDB key names, index names, sort
  key, TTL attribute and default table names are the #defines of src/aws/ddb_schema.h; the
  environment names the task sets are read by src/config.c or docker/entrypoint.sh; the IAM
  policy grants exactly the DynamoDB operations src/ issues; the SSM parameters are the seed's;
* the deploy workflow (PyYAML), the Dockerfile (paths, packages, install script) and
  docker/entrypoint.sh (run for real, with stub nginx/fileshare-fcgi, and the nginx.conf it
  renders checked by the real `nginx -t`).
"""

import http.server
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TF = ROOT / "terraform"
MODULES = ["dynamodb", "blobs", "service", "monitoring"]
ENVS = ["dev", "prod"]
HCL2JSON = ROOT / "tests" / "node" / "node_modules" / "@cdktf" / "hcl2json"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "deploy-backend.yml"

# The SSM parameters of the original deployment plan (shared/seed/dynamodb-deployment-plan.md,
# "Expected SSM Parameters"), plus the bucket of this product's S3 blob backend.
SEED_DYNAMODB_PARAMETERS = {
    "dynamodb_users_table_name": None,
    "dynamodb_urls_table_name": None,
    "dynamodb_users_table_arn": None,
    "dynamodb_urls_table_arn": None,
    "dynamodb_policy_arn": None,
    "use_dynamodb": "true",
}

# DynamoDB API operations -> the IAM actions that authorize them. Transactions have no IAM
# action of their own: each item action inside is authorized as PutItem, UpdateItem,
# DeleteItem, ConditionCheckItem (TransactWriteItems) or GetItem (TransactGetItems).
IAM_FOR_OPERATION = {
    "TransactWriteItems": {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"},
    "TransactGetItems": {"GetItem"},
}
DYNAMODB_ITEM_ACTIONS = {
    "BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem",
    "Query", "Scan", "UpdateItem", "DescribeTable",
}
ADMIN_ONLY_ACTIONS = {"CreateTable", "DeleteTable", "UpdateTable", "UpdateTimeToLive", "DescribeTimeToLive"}

# ---------------------------------------------------------------------------------------------
# Arguments and nested blocks each resource and data source accepts, from the AWS (and random)
# provider documentation (registry.terraform.io/providers/hashicorp/aws, website/docs/r and d).
# None = an argument (any value); a dict = a nested block with these contents.
# ---------------------------------------------------------------------------------------------
TAGS = {"tags": None}
POLICY_STATEMENT = {
    "sid": None, "effect": None, "actions": None, "not_actions": None, "resources": None,
    "not_resources": None,
    "principals": {"type": None, "identifiers": None},
    "not_principals": {"type": None, "identifiers": None},
    "condition": {"test": None, "variable": None, "values": None},
}
METRIC_QUERY = {
    "id": None, "expression": None, "label": None, "return_data": None, "period": None,
    "account_id": None,
    "metric": {"metric_name": None, "namespace": None, "period": None, "stat": None,
               "unit": None, "dimensions": None},
}
SCHEMA = {
    "resource": {
        "aws_dynamodb_table": {
            **TAGS, "name": None, "billing_mode": None, "hash_key": None, "range_key": None,
            "read_capacity": None, "write_capacity": None, "deletion_protection_enabled": None,
            "stream_enabled": None, "stream_view_type": None, "table_class": None,
            "attribute": {"name": None, "type": None},
            "global_secondary_index": {"name": None, "hash_key": None, "range_key": None,
                                       "projection_type": None, "non_key_attributes": None,
                                       "read_capacity": None, "write_capacity": None},
            "ttl": {"attribute_name": None, "enabled": None},
            "point_in_time_recovery": {"enabled": None},
            "server_side_encryption": {"enabled": None, "kms_key_arn": None},
        },
        "aws_iam_policy": {**TAGS, "name": None, "name_prefix": None, "path": None,
                           "description": None, "policy": None},
        "aws_iam_role": {**TAGS, "name": None, "name_prefix": None, "path": None,
                         "description": None, "assume_role_policy": None,
                         "max_session_duration": None, "permissions_boundary": None,
                         "force_detach_policies": None},
        "aws_iam_role_policy": {"name": None, "name_prefix": None, "role": None, "policy": None},
        "aws_iam_role_policy_attachment": {"role": None, "policy_arn": None},
        "aws_iam_openid_connect_provider": {**TAGS, "url": None, "client_id_list": None,
                                            "thumbprint_list": None},
        "aws_ssm_parameter": {**TAGS, "name": None, "type": None, "value": None,
                              "description": None, "tier": None, "key_id": None,
                              "allowed_pattern": None, "overwrite": None, "data_type": None},
        "aws_s3_bucket": {**TAGS, "bucket": None, "bucket_prefix": None, "force_destroy": None,
                          "object_lock_enabled": None},
        "aws_s3_bucket_ownership_controls": {"bucket": None, "rule": {"object_ownership": None}},
        "aws_s3_bucket_public_access_block": {"bucket": None, "block_public_acls": None,
                                              "block_public_policy": None,
                                              "ignore_public_acls": None,
                                              "restrict_public_buckets": None},
        "aws_s3_bucket_server_side_encryption_configuration": {
            "bucket": None, "expected_bucket_owner": None,
            "rule": {"bucket_key_enabled": None,
                     "apply_server_side_encryption_by_default": {"sse_algorithm": None,
                                                                 "kms_master_key_id": None}},
        },
        "aws_s3_bucket_lifecycle_configuration": {
            "bucket": None, "expected_bucket_owner": None,
            "rule": {"id": None, "status": None, "prefix": None,
                     "filter": {"prefix": None, "object_size_greater_than": None,
                                "object_size_less_than": None,
                                "tag": {"key": None, "value": None},
                                "and": {"prefix": None, "tags": None,
                                        "object_size_greater_than": None,
                                        "object_size_less_than": None}},
                     "abort_incomplete_multipart_upload": {"days_after_initiation": None},
                     "expiration": {"date": None, "days": None,
                                    "expired_object_delete_marker": None},
                     "noncurrent_version_expiration": {"noncurrent_days": None,
                                                       "newer_noncurrent_versions": None},
                     "transition": {"date": None, "days": None, "storage_class": None}},
        },
        "aws_s3_bucket_cors_configuration": {
            "bucket": None, "expected_bucket_owner": None,
            "cors_rule": {"id": None, "allowed_headers": None, "allowed_methods": None,
                          "allowed_origins": None, "expose_headers": None,
                          "max_age_seconds": None},
        },
        "aws_s3_bucket_policy": {"bucket": None, "policy": None},
        "aws_ecr_repository": {**TAGS, "name": None, "image_tag_mutability": None,
                               "force_delete": None,
                               "image_scanning_configuration": {"scan_on_push": None},
                               "encryption_configuration": {"encryption_type": None,
                                                            "kms_key": None}},
        "aws_ecr_lifecycle_policy": {"repository": None, "policy": None},
        "aws_ecs_cluster": {**TAGS, "name": None,
                            "setting": {"name": None, "value": None},
                            "configuration": {"execute_command_configuration": None}},
        "aws_cloudwatch_log_group": {**TAGS, "name": None, "name_prefix": None,
                                     "retention_in_days": None, "kms_key_id": None,
                                     "skip_destroy": None, "log_group_class": None},
        "aws_ecs_task_definition": {
            **TAGS, "family": None, "container_definitions": None, "task_role_arn": None,
            "execution_role_arn": None, "network_mode": None, "cpu": None, "memory": None,
            "requires_compatibilities": None, "ipc_mode": None, "pid_mode": None,
            "skip_destroy": None, "track_latest": None,
            "runtime_platform": {"operating_system_family": None, "cpu_architecture": None},
            "ephemeral_storage": {"size_in_gib": None},
            "volume": {"name": None, "host_path": None},
        },
        "aws_ecs_service": {
            **TAGS, "name": None, "cluster": None, "task_definition": None,
            "desired_count": None, "launch_type": None, "platform_version": None,
            "enable_execute_command": None, "health_check_grace_period_seconds": None,
            "deployment_minimum_healthy_percent": None, "deployment_maximum_percent": None,
            "enable_ecs_managed_tags": None, "propagate_tags": None, "force_new_deployment": None,
            "wait_for_steady_state": None, "scheduling_strategy": None, "triggers": None,
            "network_configuration": {"subnets": None, "security_groups": None,
                                      "assign_public_ip": None},
            "load_balancer": {"target_group_arn": None, "container_name": None,
                              "container_port": None, "elb_name": None},
            "deployment_circuit_breaker": {"enable": None, "rollback": None},
            "deployment_controller": {"type": None},
            "alarms": {"alarm_names": None, "enable": None, "rollback": None},
        },
        "aws_appautoscaling_target": {**TAGS, "max_capacity": None, "min_capacity": None,
                                      "resource_id": None, "scalable_dimension": None,
                                      "service_namespace": None, "role_arn": None},
        "aws_appautoscaling_policy": {
            "name": None, "policy_type": None, "resource_id": None, "scalable_dimension": None,
            "service_namespace": None,
            "target_tracking_scaling_policy_configuration": {
                "target_value": None, "disable_scale_in": None, "scale_in_cooldown": None,
                "scale_out_cooldown": None,
                "predefined_metric_specification": {"predefined_metric_type": None,
                                                    "resource_label": None},
            },
        },
        "aws_security_group": {**TAGS, "name": None, "name_prefix": None, "description": None,
                               "vpc_id": None, "revoke_rules_on_delete": None},
        "aws_vpc_security_group_ingress_rule": {
            **TAGS, "security_group_id": None, "description": None, "cidr_ipv4": None,
            "cidr_ipv6": None, "prefix_list_id": None, "referenced_security_group_id": None,
            "ip_protocol": None, "from_port": None, "to_port": None,
        },
        "aws_lb": {**TAGS, "name": None, "name_prefix": None, "internal": None,
                   "load_balancer_type": None, "security_groups": None, "subnets": None,
                   "idle_timeout": None, "drop_invalid_header_fields": None,
                   "enable_deletion_protection": None, "enable_http2": None,
                   "ip_address_type": None,
                   "access_logs": {"bucket": None, "prefix": None, "enabled": None}},
        "aws_lb_target_group": {
            **TAGS, "name": None, "name_prefix": None, "port": None, "protocol": None,
            "protocol_version": None, "target_type": None, "vpc_id": None,
            "deregistration_delay": None, "slow_start": None,
            "load_balancing_algorithm_type": None,
            "health_check": {"enabled": None, "path": None, "protocol": None, "port": None,
                             "matcher": None, "interval": None, "timeout": None,
                             "healthy_threshold": None, "unhealthy_threshold": None},
            "stickiness": {"type": None, "enabled": None, "cookie_duration": None,
                           "cookie_name": None},
        },
        "aws_lb_listener": {
            **TAGS, "load_balancer_arn": None, "port": None, "protocol": None,
            "ssl_policy": None, "certificate_arn": None, "alpn_policy": None,
            "default_action": {
                "type": None, "target_group_arn": None, "order": None,
                "redirect": {"host": None, "path": None, "port": None, "protocol": None,
                             "query": None, "status_code": None},
                "fixed_response": {"content_type": None, "message_body": None,
                                   "status_code": None},
            },
        },
        "aws_route53_record": {"zone_id": None, "name": None, "type": None, "ttl": None,
                               "records": None, "allow_overwrite": None,
                               "alias": {"name": None, "zone_id": None,
                                         "evaluate_target_health": None}},
        "aws_sns_topic": {**TAGS, "name": None, "name_prefix": None, "display_name": None,
                          "kms_master_key_id": None, "policy": None},
        "aws_sns_topic_subscription": {"topic_arn": None, "protocol": None, "endpoint": None,
                                       "filter_policy": None, "raw_message_delivery": None},
        "aws_cloudwatch_log_metric_filter": {
            "name": None, "pattern": None, "log_group_name": None,
            "metric_transformation": {"name": None, "namespace": None, "value": None,
                                      "default_value": None, "dimensions": None, "unit": None},
        },
        "aws_cloudwatch_metric_alarm": {
            **TAGS, "alarm_name": None, "comparison_operator": None, "evaluation_periods": None,
            "metric_name": None, "namespace": None, "period": None, "statistic": None,
            "threshold": None, "threshold_metric_id": None, "actions_enabled": None,
            "alarm_actions": None, "alarm_description": None, "datapoints_to_alarm": None,
            "dimensions": None, "insufficient_data_actions": None, "ok_actions": None,
            "unit": None, "extended_statistic": None, "treat_missing_data": None,
            "evaluate_low_sample_count_percentiles": None,
            "metric_query": METRIC_QUERY,
        },
        "aws_cloudwatch_dashboard": {"dashboard_name": None, "dashboard_body": None},
        "random_password": {"length": None, "special": None, "upper": None, "lower": None,
                            "numeric": None, "override_special": None, "min_lower": None,
                            "min_upper": None, "min_numeric": None, "min_special": None,
                            "keepers": None},
    },
    "data": {
        "aws_iam_policy_document": {"statement": POLICY_STATEMENT, "version": None,
                                    "policy_id": None, "source_policy_documents": None,
                                    "override_policy_documents": None},
        "aws_caller_identity": {},
        "aws_partition": {},
        "aws_vpc": {**TAGS, "id": None, "default": None, "cidr_block": None, "state": None,
                    "filter": {"name": None, "values": None}},
        "aws_subnets": {**TAGS, "filter": {"name": None, "values": None}},
        "aws_iam_openid_connect_provider": {**TAGS, "arn": None, "url": None},
    },
}
SCHEMA["resource"]["aws_vpc_security_group_egress_rule"] = SCHEMA["resource"]["aws_vpc_security_group_ingress_rule"]
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider"}
MODULE_META = {"source", "version", "providers", "count", "for_each", "depends_on"}


# --- parsing ---------------------------------------------------------------------------------

NODE_PARSER = r"""
const { parse } = require(process.argv[1]);
const fs = require("fs");
(async () => {
  const out = {};
  for (const f of process.argv.slice(2)) {
    try { out[f] = { ok: true, json: await parse(f, fs.readFileSync(f, "utf8")) }; }
    catch (e) { out[f] = { ok: false, error: String(e && e.message || e) }; }
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def hcl_files():
    return sorted(p for p in TF.rglob("*") if p.suffix in (".tf", ".tfvars") and ".terraform" not in p.parts)


@pytest.fixture(scope="session")
def parsed():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run @cdktf/hcl2json (scripts/install-deps test installs nodejs)")
    if not HCL2JSON.is_dir():
        pytest.fail(f"{HCL2JSON} is missing: run `npm ci` in tests/node")
    files = [str(p) for p in hcl_files()]
    assert files, "no Terraform files under terraform/"
    res = subprocess.run([node, "-e", NODE_PARSER, str(HCL2JSON), *files], capture_output=True,
                         text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    return {Path(k): v for k, v in json.loads(res.stdout).items()}


def merge_dir(parsed, d):
    """One directory's .tf files as one configuration, like terraform reads them."""
    cfg = {"resource": {}, "data": {}, "variable": {}, "output": {}, "module": {}, "locals": {},
           "terraform": [], "provider": {}}
    for path, r in parsed.items():
        if path.parent != d or path.suffix != ".tf":
            continue
        assert r["ok"], f"{path}: {r.get('error')}"
        j = r["json"]
        for kind in ("resource", "data"):
            for typ, named in j.get(kind, {}).items():
                for name, bodies in named.items():
                    key = (typ, name)
                    assert key not in cfg[kind], f"{path}: {kind} {typ}.{name} declared twice"
                    assert len(bodies) == 1
                    cfg[kind][key] = bodies[0]
        for kind in ("variable", "output", "module"):
            for name, bodies in j.get(kind, {}).items():
                assert name not in cfg[kind], f"{path}: {kind} {name} declared twice"
                cfg[kind][name] = bodies[0]
        for block in j.get("locals", []):
            for name, value in block.items():
                assert name not in cfg["locals"], f"{path}: local {name} declared twice"
                cfg["locals"][name] = value
        cfg["terraform"] += j.get("terraform", [])
        for name, bodies in j.get("provider", {}).items():
            cfg["provider"].setdefault(name, []).extend(bodies)
    return cfg


@pytest.fixture(scope="session")
def modules(parsed):
    return {m: merge_dir(parsed, TF / "modules" / m) for m in MODULES}


@pytest.fixture(scope="session")
def envs(parsed):
    out = {}
    for e in ENVS:
        cfg = merge_dir(parsed, TF / "environments" / e)
        tfvars = parsed[TF / "environments" / e / f"{e}.tfvars"]
        assert tfvars["ok"], tfvars.get("error")
        cfg["tfvars"] = tfvars["json"]
        out[e] = cfg
    return out


def resource(cfg, typ, name=None):
    found = {n: b for (t, n), b in cfg["resource"].items() if t == typ}
    assert found, f"no {typ} resource"
    if name is None:
        assert len(found) == 1, f"several {typ}: {sorted(found)}"
        return next(iter(found.values()))
    assert name in found, f"no {typ}.{name} (have {sorted(found)})"
    return found[name]


def block(body, name):
    """The single nested block `name` of a resource body."""
    blocks = body.get(name)
    assert isinstance(blocks, list) and len(blocks) == 1, f"expected one {name} block, got {blocks!r}"
    return blocks[0]


def expressions(value):
    """Every ${...} expression inside a parsed value."""
    if isinstance(value, str):
        i = 0
        while True:
            i = value.find("${", i)
            if i < 0:
                return
            depth, j = 0, i + 1
            while j < len(value):
                if value[j] == "{":
                    depth += 1
                elif value[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            yield value[i + 2:j]
            i = j
    elif isinstance(value, dict):
        for v in value.values():
            yield from expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from expressions(v)


REF = re.compile(r"(?<![\w.])(var|local|module|data)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?(?:\.([A-Za-z_][\w-]*))?")
RESOURCE_REF = re.compile(r"(?<![\w.])((?:aws|random)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")


class Scope:
    """Substitutes ${var.X} and ${local.X} in strings, for the values the checks compare."""

    def __init__(self, variables=None, locals_=None):
        self.variables = variables or {}
        self.locals = locals_ or {}

    def resolve(self, value, depth=0):
        assert depth < 20, f"cannot resolve {value!r}"
        if not isinstance(value, str):
            return value
        m = re.fullmatch(r"\$\{(var|local)\.(\w+)\}", value)
        if m:
            src = self.variables if m.group(1) == "var" else self.locals
            assert m.group(2) in src, f"{value}: unknown here"
            return self.resolve(src[m.group(2)], depth + 1)

        def sub(m):
            src = self.variables if m.group(1) == "var" else self.locals
            assert m.group(2) in src, f"{m.group(0)}: unknown here"
            v = self.resolve(src[m.group(2)], depth + 1)
            assert isinstance(v, (str, int, float)) and not isinstance(v, bool), f"{m.group(0)} = {v!r}"
            return str(v)
        out = re.sub(r"\$\{(var|local)\.(\w+)\}", sub, value)
        return out if out == value else self.resolve(out, depth + 1)


def module_scope(cfg, **variables):
    defaults = {k: v.get("default") for k, v in cfg["variable"].items()}
    defaults.update(variables)
    return Scope(defaults, cfg["locals"])


def env_scope(cfg):
    variables = {k: v.get("default") for k, v in cfg["variable"].items()}
    variables.update(cfg["tfvars"])
    return Scope(variables, cfg["locals"])


def ddb_schema():
    text = (ROOT / "src" / "aws" / "ddb_schema.h").read_text()
    defs = dict(re.findall(r'^#define\s+(DDB_\w+)\s+"([^"]*)"', text, re.M))
    assert len(defs) >= 10, defs
    return defs


def config_c_names():
    text = (ROOT / "src" / "config.c").read_text()
    names = set(re.findall(r'\b(?:get_str|get_bool|get_i64|get_size|val)\(\s*[^,()]+,\s*"([A-Z][A-Z0-9_]*)"', text))
    assert {"USE_DYNAMODB", "AWS_REGION", "SESSION_SECRET"} <= names, names
    return names


def entrypoint_names():
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)[:}]", ENTRYPOINT.read_text()))


def c_dynamodb_operations():
    ops = {}
    for path in sorted((ROOT / "src").rglob("*.c")):
        if path.parent == ROOT / "src" and path.name.startswith("admin_"):
            continue
        for op in re.findall(r'ddb_op\([^,]+,\s*"([A-Za-z]+)"', path.read_text(errors="replace")):
            ops.setdefault(op, set()).add(str(path.relative_to(ROOT)))
    return ops


# --- every file parses; references and arguments check out ----------------------------------

def test_every_module_and_environment_parses(parsed):
    bad = {str(p): r["error"] for p, r in parsed.items() if not r["ok"]}
    assert not bad, bad
    for d in [TF / "modules" / m for m in MODULES] + [TF / "environments" / e for e in ENVS]:
        tf = [p for p in parsed if p.parent == d and p.suffix == ".tf"]
        assert tf, f"{d} has no .tf files"
        cfg = merge_dir(parsed, d)
        assert cfg["resource"] or cfg["module"], f"{d} declares nothing"


def check_block(body, schema, where):
    for key, value in body.items():
        if key in META_ARGUMENTS:
            continue
        if key == "dynamic":
            for name, dyns in value.items():
                assert isinstance(schema.get(name), dict), f"{where}: dynamic \"{name}\" is not a documented block"
                for d in dyns:
                    assert "for_each" in d and "content" in d, f"{where}: dynamic {name} needs for_each and content"
                    for content in d["content"]:
                        check_block(content, schema[name], f"{where}.{name}")
            continue
        assert key in schema, f"{where}: \"{key}\" is not a documented argument or block"
        if isinstance(schema[key], dict):
            assert isinstance(value, list), f"{where}: {key} must be a block, not an argument"
            for b in value:
                check_block(b, schema[key], f"{where}.{key}")


@pytest.mark.parametrize("where", [f"modules/{m}" for m in MODULES] + [f"environments/{e}" for e in ENVS])
def test_only_documented_resource_arguments(parsed, where):
    cfg = merge_dir(parsed, TF / where)
    for kind in ("resource", "data"):
        for (typ, name), body in cfg[kind].items():
            assert typ in SCHEMA[kind], f"{where}: {kind} {typ} is not in this test's documented table"
            check_block(body, SCHEMA[kind][typ], f"{where}: {typ}.{name}")
            for lc in body.get("lifecycle", []):
                assert set(lc) <= {"ignore_changes", "create_before_destroy", "prevent_destroy",
                                   "replace_triggered_by", "precondition", "postcondition"}, lc


@pytest.mark.parametrize("where", [f"modules/{m}" for m in MODULES] + [f"environments/{e}" for e in ENVS])
def test_every_reference_resolves(parsed, where):
    d = TF / where
    cfg = merge_dir(parsed, d)
    declared_resources = set(cfg["resource"])
    declared_data = set(cfg["data"])
    everything = {k: v for k, v in cfg.items() if k != "terraform"}
    problems = []
    for expr in expressions(everything):
        for kind, a, b, c in REF.findall(expr):
            if kind == "var" and a not in cfg["variable"]:
                problems.append(f"var.{a}")
            elif kind == "local" and a not in cfg["locals"]:
                problems.append(f"local.{a}")
            elif kind == "data" and (a, b) not in declared_data:
                problems.append(f"data.{a}.{b}")
            elif kind == "module":
                if a not in cfg["module"]:
                    problems.append(f"module.{a}")
                    continue
                src = (d / cfg["module"][a]["source"]).resolve()
                outputs = merge_dir(parsed, src)["output"]
                if b not in outputs:
                    problems.append(f"module.{a}.{b} (no such output in {src.relative_to(ROOT)})")
        for typ, name in RESOURCE_REF.findall(expr):
            if (typ, name) not in declared_resources:
                problems.append(f"{typ}.{name}")
    assert not problems, f"{where}: undeclared: {sorted(set(problems))}"
    for name, out in cfg["output"].items():
        assert "value" in out, f"{where}: output {name} has no value"


@pytest.mark.parametrize("env", ENVS)
def test_module_calls_and_tfvars_match_variables(parsed, envs, env):
    d = TF / "environments" / env
    cfg = envs[env]
    assert set(cfg["module"]) == set(MODULES), sorted(cfg["module"])
    for name, call in cfg["module"].items():
        assert call["source"] == f"../../modules/{name}"
        variables = merge_dir(parsed, (d / call["source"]).resolve())["variable"]
        args = set(call) - MODULE_META
        assert args <= set(variables), f"module {name}: unknown arguments {sorted(args - set(variables))}"
        required = {v for v, body in variables.items() if "default" not in body}
        assert required <= args, f"module {name}: missing required {sorted(required - args)}"
    tfvars = cfg["tfvars"]
    assert set(tfvars) <= set(cfg["variable"]), f"{env}.tfvars sets undeclared {sorted(set(tfvars) - set(cfg['variable']))}"
    required = {v for v, body in cfg["variable"].items() if "default" not in body}
    assert required <= set(tfvars), f"{env}.tfvars lacks {sorted(required - set(tfvars))}"
    assert tfvars["environment"] == env


@pytest.mark.parametrize("env", ENVS)
def test_environment_providers_and_backend(envs, env):
    cfg = envs[env]
    tf = cfg["terraform"]
    assert len(tf) == 1
    providers = tf[0]["required_providers"][0]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert providers["random"]["source"] == "hashicorp/random"
    assert "required_version" in tf[0]
    # Partial configuration: bucket/key/region come from `terraform init -backend-config`.
    assert tf[0]["backend"] == {"s3": [{}]}, tf[0].get("backend")
    assert cfg["provider"]["aws"][0]["region"] == "${var.aws_region}"
    text = (TF / "environments" / env / "versions.tf").read_text()
    assert f"fileshare/{env}/terraform.tfstate" in text
    # Modules only constrain; the environments pin.
    for m in MODULES:
        assert "hashicorp/aws" in (TF / "modules" / m / "versions.tf").read_text()


# --- DynamoDB: the layout the C code relies on ---------------------------------------------

def test_dynamodb_tables_match_ddb_schema_h(modules):
    h = ddb_schema()
    cfg = modules["dynamodb"]
    scope = module_scope(cfg, name_prefix="PREFIX", environment="dev")
    users = resource(cfg, "aws_dynamodb_table", "users")
    urls = resource(cfg, "aws_dynamodb_table", "urls")

    def attrs(t):
        return {a["name"]: a["type"] for a in t["attribute"]}

    def gsi(t, name):
        idx = [g for g in t["global_secondary_index"] if g["name"] == name]
        assert len(idx) == 1, f"no GSI {name}"
        return idx[0]

    assert users["hash_key"] == h["DDB_USERS_HASH_KEY"]
    assert "range_key" not in users
    g = gsi(users, h["DDB_USERS_EMAIL_INDEX"])
    assert g["hash_key"] == h["DDB_USERS_EMAIL_ATTR"] and "range_key" not in g
    assert len(users["global_secondary_index"]) == 1
    # Only key attributes may be declared (others cause an endless plan diff).
    assert attrs(users) == {h["DDB_USERS_HASH_KEY"]: "S", h["DDB_USERS_EMAIL_ATTR"]: "S"}

    assert urls["hash_key"] == h["DDB_URLS_HASH_KEY"]
    assert "range_key" not in urls
    g = gsi(urls, h["DDB_URLS_USER_INDEX"])
    assert g["hash_key"] == h["DDB_URLS_USER_ATTR"]
    assert g["range_key"] == h["DDB_URLS_USER_INDEX_SORT"]
    assert len(urls["global_secondary_index"]) == 1
    assert attrs(urls) == {h["DDB_URLS_HASH_KEY"]: "S", h["DDB_URLS_USER_ATTR"]: "S",
                           h["DDB_URLS_USER_INDEX_SORT"]: "S"}
    ttl = block(urls, "ttl")
    assert ttl == {"attribute_name": h["DDB_URLS_TTL_ATTR"], "enabled": True}
    # the users table expires revoked-token items on the same attribute
    assert block(users, "ttl") == {"attribute_name": h["DDB_URLS_TTL_ATTR"], "enabled": True}

    for t in (users, urls):
        assert t["billing_mode"] == "PAY_PER_REQUEST"
        assert block(t, "server_side_encryption")["enabled"] is True
        assert block(t, "point_in_time_recovery")["enabled"] == "${var.point_in_time_recovery}"
        assert t["deletion_protection_enabled"] == "${var.deletion_protection}"
        assert "tags" in t
    assert scope.resolve(users["name"]) == "PREFIX-users"
    assert scope.resolve(urls["name"]) == "PREFIX-urls"


def test_default_table_names_match_ddb_schema_h(modules, envs):
    """The dev environment's tables are the names the code falls back to."""
    h = ddb_schema()
    dev = envs["dev"]
    prefix = env_scope(dev).resolve(dev["module"]["dynamodb"]["name_prefix"])
    cfg = modules["dynamodb"]
    scope = module_scope(cfg, name_prefix=prefix, environment="dev")
    assert scope.resolve(resource(cfg, "aws_dynamodb_table", "users")["name"]) == h["DDB_DEFAULT_USERS_TABLE"]
    assert scope.resolve(resource(cfg, "aws_dynamodb_table", "urls")["name"]) == h["DDB_DEFAULT_URLS_TABLE"]
    prod_prefix = env_scope(envs["prod"]).resolve(envs["prod"]["module"]["dynamodb"]["name_prefix"])
    assert prod_prefix == prefix.replace("-dev", "-prod")


def test_recovery_and_deletion_protection_per_environment(modules, envs):
    variables = modules["dynamodb"]["variable"]
    assert variables["point_in_time_recovery"]["default"] is True
    assert variables["deletion_protection"]["default"] is False
    for env, pitr, protect in (("dev", False, False), ("prod", True, True)):
        scope = env_scope(envs[env])
        call = envs[env]["module"]["dynamodb"]
        assert scope.resolve(call["point_in_time_recovery"]) is pitr, env
        assert scope.resolve(call["deletion_protection"]) is protect, env


def test_ssm_parameters_are_the_seeds(modules):
    cfg = modules["dynamodb"]
    scope = module_scope(cfg, name_prefix="p", environment="dev")
    params = {}
    for (typ, _), body in cfg["resource"].items():
        if typ == "aws_ssm_parameter":
            params[scope.resolve(body["name"])] = body
    expected = {f"/fileshare/dev/{n}" for n in SEED_DYNAMODB_PARAMETERS}
    assert set(params) == expected
    for name, value in SEED_DYNAMODB_PARAMETERS.items():
        p = params[f"/fileshare/dev/{name}"]
        assert p["type"] == "String"
        if value is not None:
            assert p["value"] == value
    blobs = modules["blobs"]
    bucket_param = resource(blobs, "aws_ssm_parameter", "s3_bucket")
    assert module_scope(blobs, environment="dev").resolve(bucket_param["name"]) == "/fileshare/dev/s3_bucket"


def dynamodb_policy(cfg):
    doc = cfg["data"][("aws_iam_policy_document", "app")]
    statements = doc["statement"]
    assert len(statements) == 1
    st = statements[0]
    assert st.get("effect", "Allow") == "Allow"
    actions = Scope({}, cfg["locals"]).resolve(st["actions"])
    assert isinstance(actions, list) and all(a.startswith("dynamodb:") for a in actions), actions
    assert resource(cfg, "aws_iam_policy", "app")["policy"] == "${data.aws_iam_policy_document.app.json}"
    return {a.split(":", 1)[1] for a in actions}, st["resources"]


def test_dynamodb_policy_resources_and_no_admin_actions(modules):
    actions, resources = dynamodb_policy(modules["dynamodb"])
    assert set(resources) == {
        "${aws_dynamodb_table.users.arn}", "${aws_dynamodb_table.users.arn}/index/*",
        "${aws_dynamodb_table.urls.arn}", "${aws_dynamodb_table.urls.arn}/index/*",
    }
    assert actions <= DYNAMODB_ITEM_ACTIONS, f"not item-level IAM actions: {actions - DYNAMODB_ITEM_ACTIONS}"
    assert not actions & ADMIN_ONLY_ACTIONS
    assert "*" not in "".join(actions)


def test_dynamodb_policy_grants_exactly_what_src_calls(modules):
    ops = c_dynamodb_operations()
    if not ops:
        pytest.skip("no ddb_op(h, \"Operation\", ...) call in src/ yet (the DynamoDB client is not "
                    "written): the policy holds the design's operations until then")
    needed = set()
    for op in ops:
        needed |= IAM_FOR_OPERATION.get(op, {op})
    granted, _ = dynamodb_policy(modules["dynamodb"])
    where = {op: sorted(files) for op, files in ops.items()}
    assert granted == needed, (
        f"the task's policy grants {sorted(granted)}; src/ calls {where}, which need {sorted(needed)} "
        "(terraform/modules/dynamodb/main.tf, local.app_actions)")


# --- S3 ------------------------------------------------------------------------------------

def test_blobs_bucket(modules):
    cfg = modules["blobs"]
    assert block(resource(cfg, "aws_s3_bucket_ownership_controls"), "rule")["object_ownership"] == "BucketOwnerEnforced"
    pab = resource(cfg, "aws_s3_bucket_public_access_block")
    for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert pab[k] is True, k
    sse = block(block(resource(cfg, "aws_s3_bucket_server_side_encryption_configuration"), "rule"),
                "apply_server_side_encryption_by_default")
    assert "AES256" in sse["sse_algorithm"] and "aws:kms" in sse["sse_algorithm"]
    rules = resource(cfg, "aws_s3_bucket_lifecycle_configuration")["rule"]
    abort = [r for r in rules if "abort_incomplete_multipart_upload" in r]
    assert len(abort) == 1 and abort[0]["status"] == "Enabled"
    assert block(abort[0], "abort_incomplete_multipart_upload")["days_after_initiation"] == 1
    assert abort[0]["filter"] == [{}], "the rule must cover the whole bucket"
    cors = block(resource(cfg, "aws_s3_bucket_cors_configuration"), "cors_rule")
    assert cors["allowed_methods"] == ["POST"]
    assert cors["allowed_origins"] == "${var.allowed_origins}"
    envs_origin = "https://${var.domain_name}"
    for e in ENVS:
        text = (TF / "environments" / e / "main.tf").read_text()
        assert f'allowed_origins = ["{envs_origin}"]' in text

    doc = cfg["data"][("aws_iam_policy_document", "app")]
    actions = set()
    for st in doc["statement"]:
        actions |= set(st["actions"])
    assert {"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket",
            "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"} <= actions
    assert not any(a.endswith("*") for a in actions)
    deny = cfg["data"][("aws_iam_policy_document", "bucket")]["statement"][0]
    assert deny["effect"] == "Deny" and deny["condition"][0]["variable"] == "aws:SecureTransport"


# --- the service -----------------------------------------------------------------------------

def service_scope(cfg):
    return module_scope(cfg, name_prefix="p", environment="dev", aws_region="us-east-2",
                        domain_name="files.example.com")


def test_containers(modules):
    cfg = modules["service"]
    scope = service_scope(cfg)
    loc = cfg["locals"]
    nginx, app = loc["nginx_container"], loc["app_container"]
    td = resource(cfg, "aws_ecs_task_definition")
    assert td["container_definitions"] == "${jsonencode([local.nginx_container, local.app_container])}"
    assert td["requires_compatibilities"] == ["FARGATE"] and td["network_mode"] == "awsvpc"
    assert td["task_role_arn"] == "${aws_iam_role.task.arn}"
    assert td["execution_role_arn"] == "${aws_iam_role.execution.arn}"

    assert nginx["name"] == "nginx" and nginx["essential"] is True and nginx["command"] == ["nginx"]
    ports = [scope.resolve(p["containerPort"]) for p in nginx["portMappings"]]
    assert ports == [8080]
    assert app["name"] == "app" and app["essential"] is True and app["command"] == ["app"]
    assert "portMappings" not in app, "the app is reached over localhost only"
    assert nginx["image"] == app["image"] == "${local.image}"
    assert nginx["dependsOn"] == [{"containerName": "app", "condition": "HEALTHY"}]
    assert app["environment"].count("local.app_environment") == 2
    assert nginx["environment"].count("local.nginx_environment") == 2
    assert loc["app_environment"] == "${merge(var.app_settings, local.app_env, local.app_entrypoint_env)}"
    assert app["secrets"] == [{"name": "SESSION_SECRET", "valueFrom": "${aws_ssm_parameter.session_secret.arn}"}]
    secret = resource(cfg, "aws_ssm_parameter", "session_secret")
    assert secret["type"] == "SecureString"
    assert scope.resolve(secret["name"]) == "/fileshare/dev/session_secret"
    for c in (nginx, app):
        assert c["logConfiguration"]["logDriver"] == "awslogs"
        assert c["healthCheck"]["command"] == ["CMD", "docker-entrypoint", "healthcheck"]

    fcgi = scope.resolve(loc["app_entrypoint_env"]["FCGI_LISTEN"])
    assert fcgi == "127.0.0.1:9000"
    assert scope.resolve(loc["nginx_entrypoint_env"]["FCGI_ADDR"]) == fcgi
    assert scope.resolve(loc["nginx_entrypoint_env"]["NGINX_LISTEN"]) == "0.0.0.0:8080"

    lb = block(resource(cfg, "aws_ecs_service"), "load_balancer")
    assert lb["container_name"] == "nginx" and scope.resolve(lb["container_port"]) == 8080


def test_container_environment_names_are_read_by_the_code(modules, envs):
    cfg = modules["service"]
    loc = cfg["locals"]
    config_names = config_c_names()
    app_env = set(loc["app_env"])
    assert app_env <= config_names, f"not read by src/config.c: {sorted(app_env - config_names)}"
    assert {"USE_DYNAMODB", "AWS_REGION", "DYNAMODB_USERS_TABLE_NAME", "DYNAMODB_URLS_TABLE_NAME",
            "BLOB_BACKEND", "S3_BUCKET", "PUBLIC_BASE_URL"} <= app_env
    assert loc["app_env"]["BLOB_BACKEND"] == "s3"
    assert "SESSION_SECRET" in config_names
    ep = entrypoint_names()
    for name in ("app_entrypoint_env", "nginx_entrypoint_env"):
        assert set(loc[name]) <= ep, f"{name}: not read by docker/entrypoint.sh: {sorted(set(loc[name]) - ep)}"
    for env in ENVS:
        extra = envs[env]["tfvars"].get("app_settings", {})
        assert set(extra) <= config_names, f"{env}.tfvars app_settings: {sorted(set(extra) - config_names)}"


def test_names_as_in_the_seed(modules, envs):
    cfg = modules["service"]
    scope = env_scope(envs["dev"])
    prefix = scope.resolve(envs["dev"]["module"]["service"]["name_prefix"])
    s = module_scope(cfg, name_prefix=prefix, environment="dev")
    assert s.resolve(cfg["locals"]["cluster_name"]) == "file-sharing-app-dev-cluster"
    assert s.resolve(cfg["locals"]["service_name"]) == "file-sharing-app-dev-service"
    assert resource(cfg, "aws_ecs_cluster")["name"] == "${local.cluster_name}"
    assert resource(cfg, "aws_ecs_service")["name"] == "${local.service_name}"
    insights = block(resource(cfg, "aws_ecs_cluster"), "setting")
    assert insights == {"name": "containerInsights", "value": "enabled"}


def test_roles(modules):
    cfg = modules["service"]
    task = {b["policy_arn"] for (t, _), b in cfg["resource"].items()
            if t == "aws_iam_role_policy_attachment" and b["role"] == "${aws_iam_role.task.name}"}
    assert task == {"${var.dynamodb_policy_arn}", "${var.s3_policy_arn}"}
    execution = resource(cfg, "aws_iam_role_policy_attachment", "execution")
    assert execution["policy_arn"].endswith(":iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
    secrets = cfg["data"][("aws_iam_policy_document", "execution_secrets")]["statement"][0]
    assert secrets["actions"] == ["ssm:GetParameters"]
    assert secrets["resources"] == ["${aws_ssm_parameter.session_secret.arn}"]
    assume = cfg["data"][("aws_iam_policy_document", "ecs_tasks_assume")]["statement"][0]
    assert assume["principals"][0]["identifiers"] == ["ecs-tasks.amazonaws.com"]
    exec_channels = cfg["data"][("aws_iam_policy_document", "task_exec")]["statement"][0]
    assert all(a.startswith("ssmmessages:") for a in exec_channels["actions"])


def test_load_balancer(modules):
    cfg = modules["service"]
    tg = resource(cfg, "aws_lb_target_group")
    hc = block(tg, "health_check")
    assert hc["path"] == "/readyz" and hc["matcher"] == "200"
    assert tg["target_type"] == "ip" and tg["protocol"] == "HTTP"
    https = resource(cfg, "aws_lb_listener", "https")
    assert https["port"] == 443 and https["protocol"] == "HTTPS"
    assert https["certificate_arn"] == "${var.certificate_arn}"
    assert block(https, "default_action")["target_group_arn"] == "${aws_lb_target_group.app.arn}"
    http = resource(cfg, "aws_lb_listener", "http")
    action = block(http, "default_action")
    assert http["port"] == 80 and action["type"] == "redirect"
    assert block(action, "redirect") == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
    assert "certificate_arn" in cfg["variable"] and "default" not in cfg["variable"]["certificate_arn"]


def test_security_groups(modules):
    cfg = modules["service"]
    rules = {n: b for (t, n), b in cfg["resource"].items() if t == "aws_vpc_security_group_ingress_rule"}
    tasks_in = [b for b in rules.values() if b["security_group_id"] == "${aws_security_group.tasks.id}"]
    assert len(tasks_in) == 1
    assert tasks_in[0]["referenced_security_group_id"] == "${aws_security_group.alb.id}"
    assert "cidr_ipv4" not in tasks_in[0]
    alb_ports = sorted(b["from_port"] for b in rules.values() if b["security_group_id"] == "${aws_security_group.alb.id}")
    assert alb_ports == [80, 443]
    assert all(b.get("cidr_ipv4") == "${each.value}" for b in rules.values()
               if b["security_group_id"] == "${aws_security_group.alb.id}")


def test_autoscaling(modules):
    cfg = modules["service"]
    target = resource(cfg, "aws_appautoscaling_target")
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    assert target["service_namespace"] == "ecs"
    assert target["resource_id"] == "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.app.name}"
    policy = resource(cfg, "aws_appautoscaling_policy")
    assert policy["policy_type"] == "TargetTrackingScaling"
    tt = block(policy, "target_tracking_scaling_policy_configuration")
    assert block(tt, "predefined_metric_specification")["predefined_metric_type"] == "ECSServiceAverageCPUUtilization"
    svc = resource(cfg, "aws_ecs_service")
    assert svc["lifecycle"][0]["ignore_changes"] == ["${task_definition}", "${desired_count}"]
    assert block(svc, "deployment_circuit_breaker") == {"enable": True, "rollback": True}


# --- monitoring ------------------------------------------------------------------------------

def filter_matches(pattern, event):
    """A small evaluator of CloudWatch Logs JSON filter patterns: { ($.a = "x") && ($.b >= 5) }."""
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    terms = [t.strip().strip("()").strip() for t in body[1:-1].split("&&")]
    for t in terms:
        m = re.fullmatch(r'\$\.(\w+)\s*(=|!=|>=|<=|>|<)\s*("(?:[^"]*)"|-?\d+)', t)
        assert m, f"unsupported term {t!r}"
        field, op, lit = m.groups()
        if field not in event:
            return False
        have = event[field]
        want = json.loads(lit)
        if isinstance(want, str):
            ok = {"=": have == want, "!=": have != want}.get(op)
            assert ok is not None, f"{op} on a string"
        else:
            if not isinstance(have, (int, float)):
                return False
            ok = {"=": have == want, "!=": have != want, ">=": have >= want, "<=": have <= want,
                  ">": have > want, "<": have < want}[op]
        if not ok:
            return False
    return True


def test_log_metric_filters_match_the_apps_log_lines(modules):
    # The app's own format (src/log.c), so the filters follow it.
    log_c = (ROOT / "src" / "log.c").read_text()
    assert '\\"type\\":\\"access\\"' in log_c and '\\"status\\":' in log_c and '\\"level\\":\\"' in log_c
    cfg = modules["monitoring"]
    loc = cfg["locals"]
    filters = {n: b for (t, n), b in cfg["resource"].items() if t == "aws_cloudwatch_log_metric_filter"}
    assert set(filters) == {"requests", "server_errors", "error_lines"}
    for b in filters.values():
        assert b["log_group_name"] == "${var.app_log_group_name}"
        assert block(b, "metric_transformation")["namespace"] == "${local.app_namespace}"
    pattern = {n: Scope({}, loc).resolve(b["pattern"]) for n, b in filters.items()}
    ok = {"ts": "2026-01-01T00:00:00.000Z", "level": "info", "pid": 7, "type": "access",
          "method": "GET", "path": "/x", "status": 200, "us": 120}
    unavailable = dict(ok, status=503)
    not_found = dict(ok, status=404)
    error = {"ts": "2026-01-01T00:00:00.000Z", "level": "error", "pid": 7, "func": "f", "msg": "boom"}
    assert [filter_matches(pattern["requests"], e) for e in (ok, unavailable, error)] == [True, True, False]
    assert [filter_matches(pattern["server_errors"], e) for e in (ok, not_found, unavailable, error)] == [False, False, True, False]
    assert [filter_matches(pattern["error_lines"], e) for e in (ok, unavailable, error)] == [False, False, True]


def alarm_metrics(body):
    """(namespace, metric name, dimension names) of every metric an alarm reads."""
    out = []
    if "metric_name" in body:
        out.append((body["namespace"], body["metric_name"], tuple(sorted(body.get("dimensions", {})))))
    for q in body.get("metric_query", []):
        for m in q.get("metric", []):
            out.append((m["namespace"], m["metric_name"], tuple(sorted(m.get("dimensions", {})))))
    for d in body.get("dynamic", {}).get("metric_query", []):
        for c in d["content"]:
            for m in c.get("metric", []):
                out.append((m["namespace"], m["metric_name"], tuple(sorted(m.get("dimensions", {})))))
    return out


def test_alarms(modules):
    cfg = modules["monitoring"]
    alarms = {n: b for (t, n), b in cfg["resource"].items() if t == "aws_cloudwatch_metric_alarm"}
    seen = {}
    for name, body in alarms.items():
        assert body["alarm_actions"] == "${local.alarm_actions}", name
        assert cfg["locals"]["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"]
        for m in alarm_metrics(body):
            seen.setdefault(m, name)
    expect = {
        ("AWS/DynamoDB", "ThrottledRequests", ("Operation", "TableName")),
        ("AWS/DynamoDB", "SystemErrors", ("Operation", "TableName")),
        ("ECS/ContainerInsights", "RunningTaskCount", ("ClusterName", "ServiceName")),
        ("ECS/ContainerInsights", "DesiredTaskCount", ("ClusterName", "ServiceName")),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ("LoadBalancer", "TargetGroup")),
        ("${local.app_namespace}", "Requests", ()),
        ("${local.app_namespace}", "ServerErrors", ()),
        ("${local.app_namespace}", "ErrorLogLines", ()),
    }
    assert expect <= set(seen), f"missing alarms on {expect - set(seen)}"
    for n in ("dynamodb_throttled_requests", "dynamodb_system_errors"):
        assert alarms[n]["for_each"] == "${toset(var.table_names)}", "one alarm per table"
    for name, body in alarms.items():
        queries = body.get("metric_query", [])
        if queries or "dynamic" in body:
            returned = [q for q in queries if q.get("return_data") is True]
            assert len(returned) == 1, f"{name}: exactly one metric_query must return data"
    ops = cfg["variable"]["dynamodb_operations"]["default"]
    assert 0 < len(ops) <= 10, "an alarm reads at most 10 metrics"
    assert resource(cfg, "aws_sns_topic_subscription")["count"] == '${var.alarm_email == "" ? 0 : 1}'
    assert resource(cfg, "aws_cloudwatch_dashboard")["dashboard_body"] == "${jsonencode({ widgets = local.dashboard_widgets })}"
    widgets = cfg["locals"]["dashboard_widgets"]
    text = json.dumps(widgets)
    for metric in ("ThrottledRequests", "SystemErrors", "RunningTaskCount", "HTTPCode_Target_5XX_Count", "ServerErrors"):
        assert metric in text, f"dashboard lacks {metric}"


def test_environments_wire_the_modules(envs):
    for env in ENVS:
        mods = envs[env]["module"]
        svc = mods["service"]
        assert svc["dynamodb_policy_arn"] == "${module.dynamodb.policy_arn}"
        assert svc["s3_policy_arn"] == "${module.blobs.policy_arn}"
        assert svc["users_table_name"] == "${module.dynamodb.users_table_name}"
        assert svc["s3_bucket_name"] == "${module.blobs.bucket_name}"
        mon = mods["monitoring"]
        assert mon["table_names"] == "${module.dynamodb.table_names}"
        assert mon["app_log_group_name"] == "${module.service.app_log_group_name}"


# --- deploy workflow -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def all_ssm_parameter_names(modules):
    names = set()
    for m in ("dynamodb", "blobs"):
        scope = module_scope(modules[m], name_prefix="p", environment="ENV")
        for (t, _), b in modules[m]["resource"].items():
            if t == "aws_ssm_parameter":
                names.add(scope.resolve(b["name"]).rsplit("/", 1)[1])
    names |= set(modules["service"]["locals"]["deploy_parameters"])
    return names


def test_workflow_trigger_and_permissions(workflow):
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"workflow_dispatch"}
    inputs = on["workflow_dispatch"]["inputs"]
    assert {"branch", "environment"} <= set(inputs)
    assert inputs["environment"]["type"] == "choice" and set(inputs["environment"]["options"]) == set(ENVS)
    perms = dict(workflow.get("permissions", {}))
    for job in workflow["jobs"].values():
        perms.update(job.get("permissions", {}))
    assert perms.get("id-token") == "write"


def test_workflow_steps(workflow, modules):
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    runs = [s.get("run", "") for s in steps]

    def index(pred, what):
        hits = [i for i, s in enumerate(steps) if pred(s)]
        assert hits, f"no step that {what}"
        return hits[0]

    creds = index(lambda s: s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"), "assumes a role by OIDC")
    assert "role-to-assume" in steps[creds]["with"] and "aws-access-key-id" not in steps[creds]["with"]
    ssm = index(lambda s: "aws ssm get-parameter" in s.get("run", ""), "reads SSM")
    assert "/fileshare/" in job["env"]["SSM_PREFIX"]
    ecr = index(lambda s: s.get("uses", "").startswith("aws-actions/amazon-ecr-login@"), "logs in to ECR")
    push = index(lambda s: "docker push" in s.get("run", "") and "docker build" in s.get("run", ""), "builds and pushes")
    register = index(lambda s: "aws ecs register-task-definition" in s.get("run", ""), "registers a task definition")
    update = index(lambda s: "aws ecs update-service" in s.get("run", ""), "updates the service")
    wait = index(lambda s: "aws ecs wait services-stable" in s.get("run", ""), "waits for stability")
    smoke = index(lambda s: "/readyz" in s.get("run", ""), "smoke-tests /readyz")
    trial = index(lambda s: "fileshare-admin trial-status" in s.get("run", ""), "checks a test user's trial")
    assert creds < ssm < ecr < push < register < update < wait < smoke < trial

    reg = steps[register]
    for name in ("USE_DYNAMODB", "AWS_REGION", "DYNAMODB_USERS_TABLE_NAME", "DYNAMODB_URLS_TABLE_NAME"):
        assert name in reg["run"], name
    for name in ("USE_DYNAMODB", "DYNAMODB_USERS_TABLE_NAME", "DYNAMODB_URLS_TABLE_NAME"):
        assert "steps.ssm.outputs." in reg["env"][name], f"{name} must come from SSM"
    assert "steps.ecr.outputs.registry" in json.dumps(steps[push])
    assert "execute-command" in steps[trial]["run"]

    # Every parameter the workflow reads is one Terraform writes.
    read = re.search(r"names=\(([^)]*)\)", steps[ssm]["run"]).group(1).split()
    written = all_ssm_parameter_names(modules)
    assert set(read) <= written, f"the workflow reads parameters Terraform does not write: {set(read) - written}"
    assert {"use_dynamodb", "dynamodb_users_table_name", "dynamodb_urls_table_name"} <= set(read)
    used = set(re.findall(r"steps\.ssm\.outputs\.(\w+)", WORKFLOW.read_text()))
    assert used <= set(read), used - set(read)

    # The run scripts are valid bash once the ${{ }} expressions are substituted.
    for i, script in enumerate(runs):
        if not script:
            continue
        plain = re.sub(r"\$\{\{[^}]*\}\}", "X", script)
        r = subprocess.run(["bash", "-n"], input=plain, capture_output=True, text=True, check=False)
        assert r.returncode == 0, f"step {steps[i].get('name')}: {r.stderr}"
    assert all(u.count("@") == 1 for u in uses if u), "pin every action to a version"


def test_workflow_task_definition_rendering(workflow, tmp_path):
    """Runs the registration step's jq program on a task definition like ECS returns."""
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq not installed")
    (job,) = workflow["jobs"].values()
    script = next(s["run"] for s in job["steps"] if "register-task-definition" in s.get("run", ""))
    command = script[script.index("jq --arg image"):script.index("current.json > taskdef.json")]
    args = shlex.split(command.replace("\\\n", " "))
    assert args[0] == "jq"
    current = {
        "taskDefinitionArn": "arn:aws:ecs:us-east-2:1:task-definition/f:3", "family": "f",
        "revision": 3, "status": "ACTIVE", "compatibilities": ["EC2", "FARGATE"],
        "requiresAttributes": [], "registeredAt": "2026-01-01", "registeredBy": "arn:x",
        "cpu": "512", "memory": "1024",
        "containerDefinitions": [
            {"name": "nginx", "image": "old", "environment": [{"name": "NGINX_LISTEN", "value": "0.0.0.0:8080"}]},
            {"name": "app", "image": "old", "environment": [
                {"name": "USE_DYNAMODB", "value": "true"}, {"name": "LOG_LEVEL", "value": "info"},
                {"name": "S3_BUCKET", "value": "old"}]},
        ],
    }
    (tmp_path / "current.json").write_text(json.dumps(current))
    env = dict(os.environ, IMAGE="repo:abc", USE_DYNAMODB="false", AWS_REGION="us-east-2",
               DYNAMODB_USERS_TABLE_NAME="t-users", DYNAMODB_URLS_TABLE_NAME="t-urls",
               S3_BUCKET="bucket", PUBLIC_BASE_URL="https://files.example.com")
    args = [env[a[1:]] if re.fullmatch(r"\$[A-Z_0-9]+", a) else a for a in args]
    r = subprocess.run([jq, *args[1:], "current.json"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stderr
    td = json.loads(r.stdout)
    assert not {"taskDefinitionArn", "revision", "status", "compatibilities", "requiresAttributes",
                "registeredAt", "registeredBy"} & set(td)
    assert [c["image"] for c in td["containerDefinitions"]] == ["repo:abc", "repo:abc"]
    app = {e["name"]: e["value"] for e in td["containerDefinitions"][1]["environment"]}
    assert app == {"LOG_LEVEL": "info", "USE_DYNAMODB": "false", "AWS_REGION": "us-east-2",
                   "DYNAMODB_USERS_TABLE_NAME": "t-users", "DYNAMODB_URLS_TABLE_NAME": "t-urls",
                   "BLOB_BACKEND": "s3", "S3_BUCKET": "bucket", "PUBLIC_BASE_URL": "https://files.example.com"}
    assert len(td["containerDefinitions"][1]["environment"]) == len(app), "no duplicate names"
    assert td["containerDefinitions"][0]["environment"] == current["containerDefinitions"][0]["environment"]


def test_workflow_trial_status_step(workflow, tmp_path):
    """Runs the trial-status step against a stub aws CLI that answers like ECS Exec does."""
    if not (shutil.which("jq") and shutil.which("script")):
        pytest.skip("needs jq and script (util-linux)")
    (job,) = workflow["jobs"].values()
    script = next(s["run"] for s in job["steps"] if "fileshare-admin trial-status" in s.get("run", ""))
    stub = tmp_path / "aws"
    stub.write_text("""#!/bin/sh
case "$2" in
list-tasks) echo arn:aws:ecs:us-east-2:1:task/c/abc ;;
execute-command)
  printf '%s\\n' "$*" >> "$STUB_LOG"
  printf 'Starting session with SessionId: ecs-execute-command-1\\r\\n'
  [ -n "$STUB_ANSWER" ] && printf '%s\\r\\n' "$STUB_ANSWER"
  printf 'Exiting session with sessionId: ecs-execute-command-1.\\r\\n'
  exit 1 ;;
esac
""")
    stub.chmod(0o755)
    account = {"user_id": "u1", "email": "a@example.com", "tier": "trial",
               "trial": {"used": True, "active": True, "started_at": "2026-01-01T00:00:00Z",
                         "expires_at": "2026-01-31T00:00:00Z", "days_left": 30, "can_start": False}}
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}", CLUSTER="c", SERVICE="s",
               TEST_USER_EMAIL="a@example.com", STUB_LOG=str(tmp_path / "log"),
               STUB_ANSWER=json.dumps(account))
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"tier": "trial"' in r.stdout
    call = (tmp_path / "log").read_text()
    assert "--container app" in call and "--command fileshare-admin trial-status a@example.com" in call
    env["STUB_ANSWER"] = "fileshare-admin: no account with email a@example.com"
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode != 0 and "printed no account" in r.stdout
    env["TEST_USER_EMAIL"] = "a@example.com; rm -rf /"
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode != 0 and "odd characters" in r.stdout


# --- Dockerfile ------------------------------------------------------------------------------

def dockerfile_instructions():
    lines, cur = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        word, _, rest = cur.partition(" ")
        lines.append((word.upper(), rest.strip()))
        cur = ""
    return lines


def dockerignore_patterns():
    pats = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pats.append(line.rstrip("/"))
    return pats


def ignored(path, patterns):
    """Whether docker's .dockerignore matching excludes path (or a directory above it)."""
    def regex(p):
        out, i = "", 0
        while i < len(p):
            if p.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif p.startswith("**", i):
                out, i = out + ".*", i + 2
            elif p[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif p[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(p[i]), i + 1
        return re.compile(out)
    parts = Path(path).parts
    compiled = [regex(p) for p in patterns if not p.startswith("!")]
    return any(r.fullmatch("/".join(parts[:i + 1])) for r in compiled for i in range(len(parts)))


def test_dockerfile_copies_existing_paths():
    patterns = dockerignore_patterns()
    copies = 0
    for word, rest in dockerfile_instructions():
        if word not in ("COPY", "ADD") or "--from=" in rest:
            continue
        args = [a for a in shlex.split(rest) if not a.startswith("--")]
        for src in args[:-1]:
            copies += 1
            if src == ".":
                continue
            assert (ROOT / src).exists(), f"COPY {src}: no such path in the repository"
            assert not ignored(src.rstrip("/"), patterns), f"COPY {src} is excluded by .dockerignore"
    assert copies >= 5
    # What the build needs must survive .dockerignore; what it regenerates must not.
    for needed in ("configure.ac", "Makefile.am", "src/config.c", "fcgi/main.c", "scripts/build",
                   "scripts/install-deps", "conf/nginx.conf.in", "web/index.html", "docker/entrypoint.sh"):
        assert (ROOT / needed).exists() and not ignored(needed, patterns), needed
    for generated in ("configure", "Makefile.in", "build", "tests/node/node_modules", ".git"):
        assert ignored(generated, patterns), generated


def test_dockerfile_build_and_runtime_stages():
    ins = dockerfile_instructions()
    text = (ROOT / "Dockerfile").read_text()
    froms = [rest for w, rest in ins if w == "FROM"]
    assert len(froms) == 2
    assert re.search(r"ARG DEBIAN_IMAGE=debian:bookworm-slim", text)
    assert all(f.startswith("${DEBIAN_IMAGE}") for f in froms)
    stages = text.split("\nFROM ")
    build, runtime = stages[1], stages[2]
    assert "scripts/install-deps build" in build and "scripts/build" in build
    assert "install DESTDIR=/out" in build or "build/fileshare-fcgi" in build
    m = re.search(r"apt-get install -y --no-install-recommends\s*\\?\s*([^&]+)&&", runtime.replace("\\\n", " "))
    pkgs = set(m.group(1).split())
    assert {"nginx-light", "libfcgi0ldbl", "libcurl4", "libjson-c5", "libsqlite3-0", "libssl3",
            "ca-certificates", "curl"} <= pkgs, pkgs
    assert not [p for p in pkgs if p.endswith("-dev") or p in ("build-essential", "check")], pkgs
    user = [rest for w, rest in ins if w == "USER"][-1]
    assert user.split(":")[0] not in ("0", "root")
    assert any(w == "HEALTHCHECK" and "healthcheck" in rest for w, rest in ins)
    assert [rest for w, rest in ins if w == "ENTRYPOINT"] == ['["docker-entrypoint"]']
    assert "COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint" in runtime
    assert "COPY scripts/render-conf /opt/fileshare/scripts/render-conf" in runtime
    assert "FILESHARE_HOME=/opt/fileshare" in runtime


def test_runtime_packages_cover_the_programs_libraries():
    """Each library the built programs link directly comes from a package the image installs."""
    progs = [ROOT / "build" / p for p in ("fileshare-fcgi", "fileshare-admin")]
    if not all(p.exists() for p in progs) or not shutil.which("readelf") or not shutil.which("dpkg"):
        pytest.skip("needs build/fileshare-fcgi and fileshare-admin (scripts/build), readelf and dpkg")
    text = (ROOT / "Dockerfile").read_text().split("\nFROM ")[2]
    runtime_pkgs = set(re.search(r"--no-install-recommends\s*\\?\s*([^&]+)&&", text.replace("\\\n", " ")).group(1).split())
    for prog in progs:
        needed = re.findall(r"Shared library: \[([^\]]+)\]",
                            subprocess.run(["readelf", "-d", str(prog)], capture_output=True, text=True, check=True).stdout)
        ldd = subprocess.run(["ldd", str(prog)], capture_output=True, text=True, check=False).stdout
        for soname in needed:
            if re.fullmatch(r"lib(c|m|dl|pthread|rt)\.so\.\d+|ld-linux.*", soname):
                continue  # libc6, in every Debian image
            if re.match(r"lib(asan|ubsan)\.", soname):
                continue  # a sanitizer build
            m = re.search(rf"^\s*{re.escape(soname)} => (\S+)", ldd, re.M)
            assert m, f"{prog.name}: {soname} not found by ldd"
            owner = subprocess.run(["dpkg", "-S", m.group(1)], capture_output=True, text=True, check=False)
            if owner.returncode != 0:
                owner = subprocess.run(["dpkg", "-S", f"*/{soname}"], capture_output=True, text=True, check=False)
            pkgs = {line.split(":")[0] for line in owner.stdout.splitlines() if line}
            assert pkgs & runtime_pkgs, f"{prog.name} needs {soname} from {pkgs}, not installed by the Dockerfile"


# --- docker/entrypoint.sh --------------------------------------------------------------------

STUB = """#!/bin/sh
printf '%s\\n' "$(basename "$0")"
for a in "$@"; do printf '%s\\n' "$a"; done
"""


@pytest.fixture
def ep(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ("nginx", "fileshare-fcgi", "fileshare-admin"):
        p = stubs / name
        p.write_text(STUB)
        p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    state = tmp_path / "state"
    role = tmp_path / "role"

    def run(*args, **env):
        e = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path), "FILESHARE_HOME": str(ROOT),
             "NGINX_STATE_DIR": str(state), "FILESHARE_ROLE_FILE": str(role)}
        e.update(env)
        return subprocess.run(["bash", str(ENTRYPOINT), *args], env=e, capture_output=True, text=True,
                              timeout=20, check=False)
    run.state, run.role = state, role
    return run


def nginx_t(conf):
    nginx = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert nginx, "nginx is needed (nginx-light, scripts/install-deps)"
    r = subprocess.run([nginx, "-t", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr"],
                       capture_output=True, text=True, timeout=20, check=False)
    assert r.returncode == 0, r.stderr
    return r


def test_entrypoint_is_executable_and_clean():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert subprocess.run(["bash", "-n", str(ENTRYPOINT)], check=False).returncode == 0
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", "-s", "bash", str(ENTRYPOINT)], capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout


def test_entrypoint_app(ep):
    r = ep("app")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == ["fileshare-fcgi", "--listen", "127.0.0.1:9000", "--workers", "2"]
    assert ep.role.read_text().split() == ["app", "127.0.0.1:9000"]
    r = ep("app", FCGI_LISTEN="unix:/tmp/x.sock", WORKERS="8")
    assert r.stdout.split("\n")[:-1] == ["fileshare-fcgi", "--listen", "unix:/tmp/x.sock", "--workers", "8"]
    r = ep("app", FCGI_LISTEN="unix:/tmp/x.sock", LINKS_LISTEN="unix:/tmp/links.sock")
    assert r.stdout.split("\n")[:-1] == ["fileshare-fcgi", "--listen", "unix:/tmp/x.sock",
                                         "--links-listen", "unix:/tmp/links.sock", "--workers", "2"]
    r = ep("app", WORKERS="many")
    assert r.returncode == 2 and "WORKERS" in r.stderr and r.stdout == ""


def test_entrypoint_nginx_renders_a_config_nginx_accepts(ep):
    r = ep("nginx")
    assert r.returncode == 0, r.stderr
    conf = ep.state / "nginx.conf"
    assert r.stdout.split("\n")[:-1] == ["nginx", "-p", str(ep.state), "-c", str(conf), "-e", "stderr"]
    text = conf.read_text()
    assert "listen 0.0.0.0:8080;" in text
    assert "server 127.0.0.1:9000;" in text
    assert f"root {ROOT / 'web'};" in text
    assert f"uwsgi_temp_path {ep.state}/uwsgi_temp;" in text
    assert "set_real_ip_from" not in text
    assert (ep.state / "fastcgi.conf").exists()
    assert ep.role.read_text().split() == ["nginx", "0.0.0.0:8080"]
    nginx_t(conf)


def test_entrypoint_nginx_behind_a_load_balancer(ep):
    r = ep("nginx", REAL_IP_FROM="10.0.0.0/16, 172.31.0.0/16", NGINX_LISTEN="127.0.0.1:18080",
           FCGI_ADDR="127.0.0.1:19000")
    assert r.returncode == 0, r.stderr
    conf = ep.state / "nginx.conf"
    text = conf.read_text()
    assert "set_real_ip_from 10.0.0.0/16;" in text and "set_real_ip_from 172.31.0.0/16;" in text
    assert "real_ip_header X-Forwarded-For;" in text
    assert "listen 127.0.0.1:18080;" in text and "server 127.0.0.1:19000;" in text
    # Link opens go where the app listens unless it has a socket of its own for them.
    links = text.split("upstream fileshare_links {", 1)[1].split("}", 1)[0]
    assert "server 127.0.0.1:19000;" in links
    nginx_t(conf)
    r = ep("nginx", FCGI_ADDR="127.0.0.1:19000", LINKS_ADDR="127.0.0.1:19001")
    assert r.returncode == 0, r.stderr
    text = conf.read_text()
    links = text.split("upstream fileshare_links {", 1)[1].split("}", 1)[0]
    assert "server 127.0.0.1:19001;" in links and "server 127.0.0.1:19000;" in text
    nginx_t(conf)
    r = ep("nginx", REAL_IP_FROM="10.0.0.0/8;evil")
    assert r.returncode != 0 and "REAL_IP_FROM" in r.stderr and r.stdout == ""


def test_entrypoint_admin_and_other_commands(ep):
    r = ep("fileshare-admin", "trial-status", "someone@example.com")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == ["fileshare-admin", "trial-status", "someone@example.com"]
    r = ep("admin", "set-tier", "a@b.c", "premium")
    assert r.stdout.split("\n")[:-1] == ["fileshare-admin", "set-tier", "a@b.c", "premium"]
    r = ep()
    assert r.returncode == 2 and "usage" in r.stderr
    r = ep("no-such-role")
    assert r.returncode == 2 and "no-such-role" in r.stderr
    r = ep("printf", "%s-%s", "a", "b")
    assert r.returncode == 0 and r.stdout == "a-b"
    assert not ep.role.exists()


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_entrypoint_healthcheck(ep):
    assert ep("healthcheck").returncode == 0, "no role yet (admin command): healthy"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    ep.role.write_text(f"app 127.0.0.1:{port}\n")
    assert ep("healthcheck").returncode == 0
    srv.close()
    assert ep("healthcheck").returncode != 0, "nothing listening"

    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        ep.role.write_text(f"nginx 0.0.0.0:{httpd.server_port}\n")
        assert ep("healthcheck").returncode == 0
        _Health.status = 502
        assert ep("healthcheck").returncode != 0
    finally:
        _Health.status = 200
        httpd.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=10):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}")


def test_entrypoint_runs_the_real_programs(tmp_path):
    """Both roles for real, as in the ECS task (minus Docker): app, then nginx in front of it."""
    fcgi = ROOT / "build" / "fileshare-fcgi"
    if not fcgi.exists():
        pytest.skip("needs build/fileshare-fcgi (scripts/build)")
    app_port, web_port = free_port(), free_port()
    base = {"PATH": f"{ROOT / 'build'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(tmp_path), "FILESHARE_HOME": str(ROOT), "DATA_DIR": str(tmp_path / "data"),
            "SESSION_SECRET": "x" * 40, "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
            "FCGI_LISTEN": f"127.0.0.1:{app_port}", "FCGI_ADDR": f"127.0.0.1:{app_port}",
            "NGINX_LISTEN": f"127.0.0.1:{web_port}", "NGINX_STATE_DIR": str(tmp_path / "nginx"),
            "WORKERS": "2", "REAL_IP_FROM": "127.0.0.0/8"}
    app_env = dict(base, FILESHARE_ROLE_FILE=str(tmp_path / "app-role"))
    web_env = dict(base, FILESHARE_ROLE_FILE=str(tmp_path / "nginx-role"))
    log = open(tmp_path / "log", "w")
    procs = []
    try:
        app = subprocess.Popen(["bash", str(ENTRYPOINT), "app"], env=app_env, stdout=log, stderr=log)
        procs.append(app)
        wait_port(app_port, app)
        hc = subprocess.run(["bash", str(ENTRYPOINT), "healthcheck"], env=app_env, check=False)
        assert hc.returncode == 0
        web = subprocess.Popen(["bash", str(ENTRYPOINT), "nginx"], env=web_env, stdout=log, stderr=log)
        procs.append(web)
        wait_port(web_port, web)
        hc = subprocess.run(["bash", str(ENTRYPOINT), "healthcheck"], env=web_env, check=False)
        assert hc.returncode == 0
        for path, want in (("/healthz", "ok"), ("/readyz", "ready")):
            r = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://127.0.0.1:{web_port}{path}"],
                               capture_output=True, text=True, check=False)
            assert r.returncode == 0, r.stderr
            assert json.loads(r.stdout)["status"] == want, r.stdout
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                            f"http://127.0.0.1:{web_port}/"], capture_output=True, text=True, check=False)
        assert r.stdout == "200", "the static UI"
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
    assert app.returncode in (0, -15), (tmp_path / "log").read_text()


# --- the operator's guide --------------------------------------------------------------------

def test_deployment_guide(modules):
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for needed in ("terraform apply -var-file=dev.tfvars", "terraform apply -var-file=prod.tfvars",
                   "aws ssm get-parameters-by-path", "deploy-backend", "aws ecs wait services-stable",
                   "fileshare-admin export --from dynamodb --to sqlite:", "fileshare-admin trial-status",
                   "create-tables", "/readyz", "file-sharing-app-dev-cluster"):
        assert needed in doc, needed
    for name in all_ssm_parameter_names(modules):
        assert name in doc, f"docs/deployment.md does not mention the SSM parameter {name}"
