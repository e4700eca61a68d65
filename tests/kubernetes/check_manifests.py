#!/usr/bin/env python3
"""Checks of the GitOps tree kubernetes/, for tests/kubernetes/check.sh (PyYAML, from the
virtualenv that check.sh makes for kubernetes-validate).

  check_manifests.py to-json RENDERED_DIR OUT.json
      every object of the rendered kustomizations (RENDERED_DIR/<folder>.yaml, the folder's
      path under kubernetes/ with `/` written `__`) as a JSON list for validate_custom.mjs.
  check_manifests.py native KUBERNETES_VALIDATE RENDERED_DIR
      kubernetes-validate --strict -k 1.37.0 on every rendered file: every object of
      Kubernetes' own API groups validates, unknown fields included. Custom resources are
      left to validate_custom.mjs, but an object of a Kubernetes group that it has no schema
      for (a misspelt apiVersion such as autoscaling/v3) fails here instead of being skipped.
      A Rollout's pod template is validated too, as the template of a core PodTemplate (the
      custom resource's own validator would let an unknown field through).
  check_manifests.py serve-env RENDERED_DIR
      the environment the manifests give each `serve` container, one NAME=VALUE a line (its
      ConfigMaps' keys and literal env; not Secrets, which are sealed), so check.sh can start
      the binary with it and see it accept every value.
  check_manifests.py cross --kubernetes DIR --source-root ROOT --images-root DIR
                     --rendered RENDERED_DIR [--metrics FILE] [--help-dir DIR]
                     [--promtool PROMTOOL] --work DIR
      the cross-reference checks: what kubectl and the schemas cannot see (names that must
      agree between objects, files, the binary and the Rust source). Without --metrics and
      --help-dir (no binary) the checks that need the binary say SKIPPED.

Every check prints one line, `PASS name` or `FAIL name: why` (a FAIL line per problem); the
exit status is 1 when one failed.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

FAILURES = []


def report(name, problems, detail=""):
    if problems:
        for problem in problems:
            FAILURES.append(problem)
            print(f"FAIL {name}: {problem}", flush=True)
    else:
        print(f"PASS {name}{' (' + detail + ')' if detail else ''}", flush=True)


def done():
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)", flush=True)
        sys.exit(1)


# ------------------------------------------------------------------ loading


def renders(rendered_dir):
    """{folder under kubernetes/: [objects]} of every rendered kustomization."""
    out = {}
    for path in sorted(Path(rendered_dir).glob("*.yaml")):
        source = path.stem.replace("__", "/")
        out[source] = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def to_json(rendered_dir, out):
    documents = [
        {"source": source, "doc": doc}
        for source, docs in renders(rendered_dir).items()
        for doc in docs
    ]
    Path(out).write_text(json.dumps(documents))


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def builtin(group):
    return group == "" or "." not in group or group.endswith(".k8s.io")


def native(validator, rendered_dir):
    problems = []
    files = sorted(Path(rendered_dir).glob("*.yaml"))
    templates = [
        {"apiVersion": "v1", "kind": "PodTemplate",
         "metadata": {"name": f"rollout-{doc['metadata']['name']}"}, "template": doc["spec"]["template"]}
        for docs in renders(rendered_dir).values()
        for doc in docs
        if doc.get("kind") == "Rollout" and doc.get("spec", {}).get("template")
    ]
    if templates:
        extra = Path(rendered_dir).parent / "rollout-pod-templates.yaml"
        extra.write_text(yaml.safe_dump_all(templates))
        files.append(extra)
    result = subprocess.run(
        [validator, "--strict", "-k", "1.37.0", *map(str, files)],
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    passed = 0
    for line in output.splitlines():
        if line.startswith("INFO") and " passed " in line:
            passed += 1
        elif line.startswith("ERROR"):
            problems.append(line)
        elif line.startswith("WARN"):
            found = re.search(r"kind (\S+) with api version (\S+)", line)
            if not found or builtin(group_of(found.group(2))):
                problems.append(f"{line} (a Kubernetes API group: it must have a schema)")
    if result.returncode != 0 and not problems:
        problems.append(f"kubernetes-validate exited {result.returncode}: {output.strip()[-2000:]}")
    if not passed and not problems:
        problems.append("kubernetes-validate validated no object at all")
    report("kubernetes-validate --strict -k 1.37.0 on every native object", problems,
           f"{passed} objects")


# ------------------------------------------------------------------ the tree


class Tree:
    def __init__(self, kubernetes, source_root, rendered_dir):
        self.root = Path(source_root)  # the repository: server/src/... is read from here
        self.kubernetes = Path(kubernetes)
        self.renders = renders(rendered_dir)
        self.applications = [
            doc
            for docs in self.renders.values()
            for doc in docs
            if doc.get("kind") == "Application"
        ]
        # Folder under kubernetes/ -> destination namespace of the Application deploying it.
        self.app_namespace = {}
        for app in self.applications:
            for source in sources(app):
                if source.get("path"):
                    folder = source["path"].removeprefix("kubernetes/").strip("/")
                    self.app_namespace[folder] = app["spec"]["destination"].get("namespace")
        self.objects = {}  # (namespace, kind, name) -> object
        self.secret_keys = {}  # (namespace, name) -> keys of a Secret (sealed or not)
        for source, docs in self.renders.items():
            for doc in docs:
                namespace = self.namespace(doc, source)
                meta = doc.get("metadata", {})
                self.objects[(namespace, doc.get("kind"), meta.get("name"))] = doc
                if doc.get("kind") == "SealedSecret":
                    template = doc.get("spec", {}).get("template", {}).get("metadata", {})
                    name = template.get("name", meta.get("name"))
                    keys = set(doc.get("spec", {}).get("encryptedData", {}) or {})
                    self.secret_keys[(namespace, name)] = keys
                    self.objects[(namespace, "Secret", name)] = {"kind": "Secret", "sealed": doc}
                elif doc.get("kind") == "Secret":
                    keys = set(doc.get("data", {}) or {}) | set(doc.get("stringData", {}) or {})
                    self.secret_keys[(namespace, meta.get("name"))] = keys

    def namespace(self, doc, source):
        explicit = doc.get("metadata", {}).get("namespace")
        if explicit:
            return explicit
        folder = source
        while folder and folder not in self.app_namespace:
            folder = folder.rpartition("/")[0]
        return self.app_namespace.get(folder) or "default"

    def all(self, kind=None):
        """(namespace, object) of every distinct object, of one kind if given."""
        for (namespace, doc_kind, _), doc in self.objects.items():
            if "sealed" in doc:
                continue
            if kind is None or doc_kind == kind:
                yield namespace, doc

    def get(self, namespace, kind, name):
        return self.objects.get((namespace, kind, name))


def sources(app):
    spec = app.get("spec", {})
    return spec.get("sources") or ([spec["source"]] if spec.get("source") else [])


WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"}


def pod_template(doc):
    spec = doc.get("spec", {})
    if doc.get("kind") == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template")
    if doc.get("kind") in WORKLOADS:
        return spec.get("template")
    return None


def workloads(tree):
    for namespace, doc in tree.all():
        template = pod_template(doc)
        if template:
            yield namespace, doc, template


def containers(template):
    spec = template.get("spec", {})
    return list(spec.get("initContainers", []) or []) + list(spec.get("containers", []) or [])


def label_of(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def matches(selector, labels):
    if not selector:
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        for key, value in (selector.get("matchLabels") or {}).items():
            if labels.get(key) != value:
                return False
        for expression in selector.get("matchExpressions") or []:
            key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
            if operator == "In" and labels.get(key) not in values:
                return False
            if operator == "NotIn" and labels.get(key) in values:
                return False
            if operator == "Exists" and key not in labels:
                return False
            if operator == "DoesNotExist" and key in labels:
                return False
        return True
    return all(labels.get(key) == value for key, value in selector.items())


# ------------------------------------------------------------------ kustomization files


REFERENCE_LISTS = ("resources", "components", "patchesStrategicMerge", "configurations", "crds",
                   "generators", "transformers", "validators")


def kustomization_references(folder, kustomization):
    refs = set()

    def add(entry):
        if not isinstance(entry, str) or "://" in entry or entry.startswith("github.com/"):
            return
        refs.add((folder / entry.split("=", 1)[-1]).resolve())

    for key in REFERENCE_LISTS:
        for entry in kustomization.get(key) or []:
            add(entry)
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in kustomization.get(key) or []:
            if isinstance(entry, dict):
                add(entry.get("path"))
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(key) or []:
            for entry in (generator.get("files") or []) + (generator.get("envs") or []):
                add(entry)
            add(generator.get("env"))
    for chart in kustomization.get("helmCharts") or []:
        add(chart.get("valuesFile"))
    add((kustomization.get("openapi") or {}).get("path"))
    return refs


def kustomization_dirs(tree):
    return sorted(path.parent for path in tree.kubernetes.rglob("kustomization.yaml"))


def check_kustomizations(tree):
    problems = []
    folders = kustomization_dirs(tree)
    referenced_folders = set()
    for folder in folders:
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text()) or {}
        refs = kustomization_references(folder, kustomization)
        referenced_folders |= {ref for ref in refs if ref.is_dir()}
        for ref in sorted(refs):
            if not ref.exists():
                problems.append(f"{rel(tree, folder)}/kustomization.yaml names {rel(tree, ref)}, which does not exist")

        def walk(directory):
            for path in sorted(directory.iterdir()):
                if path.is_dir():
                    if (path / "kustomization.yaml").exists():
                        if path.resolve() not in refs and rel(tree, path) not in tree.app_namespace:
                            problems.append(f"{rel(tree, path)} (a kustomization) is neither in "
                                            f"{rel(tree, folder)}/kustomization.yaml nor an Application's path")
                    else:
                        walk(path)
                elif path.name not in ("kustomization.yaml", "README.md") and path.resolve() not in refs:
                    problems.append(f"{rel(tree, path)} is not listed in {rel(tree, folder)}/kustomization.yaml")

        walk(folder)
    # Every top-level kustomization is deployed by an Application, and every Application's
    # path is a kustomization.
    for folder in folders:
        name = rel(tree, folder)
        if folder.resolve() not in referenced_folders and name not in tree.app_namespace:
            problems.append(f"{name} is deployed by no Argo CD Application")
    for name in tree.app_namespace:
        if not (tree.kubernetes / name / "kustomization.yaml").exists():
            problems.append(f"an Application deploys kubernetes/{name}, which has no kustomization.yaml")
    report("every file of a folder is in its kustomization, every kustomization is deployed", problems,
           f"{len(folders)} kustomizations")


def check_comments(tree):
    problems = []
    count = 0
    for path in sorted(tree.kubernetes.rglob("*")):
        if not path.is_file() or path.suffix in (".json", ".md"):
            continue  # JSON has no comments; README files are prose
        count += 1
        first = path.read_text().lstrip("\n").split("\n", 1)[0]
        if not first.startswith("#"):
            problems.append(f"{rel(tree, path)} does not start with a comment saying what it is for")
    report("every manifest starts with a comment", problems, f"{count} files")


def rel(tree, path):
    path = Path(path).resolve()
    try:
        return str(path.relative_to(tree.kubernetes.resolve()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ images


def check_images(tree, images_root):
    problems = []
    config_path = Path(images_root) / "imageConfig.yaml"
    config = {}
    if config_path.exists():
        config = yaml.safe_load(config_path.read_text()) or {}
    else:
        problems.append(f"{config_path} is missing")
    seen = {}
    set_names = set()
    for folder in kustomization_dirs(tree):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text()) or {}
        for image in kustomization.get("images") or []:
            name = image.get("name")
            where = f"{rel(tree, folder)}/kustomization.yaml"
            set_names.add(image.get("newName", name))
            if name not in config:
                problems.append(f"{where}: image {name} is not a key of imageConfig.yaml")
            if not (Path(images_root) / f"{name}.Dockerfile").exists():
                problems.append(f"{where}: image {name} has no {name}.Dockerfile at the repository's root")
            if not image.get("newTag") and not image.get("digest"):
                problems.append(f"{where}: image {name} has no newTag")
            if str(image.get("newTag")) == "latest":
                problems.append(f"{where}: image {name} is tagged latest")
            pin = (image.get("newName"), str(image.get("newTag")), image.get("digest"))
            if name in seen and seen[name][1] != pin:
                problems.append(f"{where} sets {name} to {pin}, {seen[name][0]} to {seen[name][1]}: they must agree")
            seen.setdefault(name, (where, pin))
    for namespace, doc, template in workloads(tree):
        for container in containers(template):
            image = container.get("image", "")
            repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
            if "@sha256:" in image:
                continue
            if "/" not in image and not tag:
                problems.append(f"{label_of(doc)} container {container.get('name')}: image {image!r} is a bare "
                                "name no kustomization `images:` replaced")
            elif not tag or tag == "latest":
                problems.append(f"{label_of(doc)} container {container.get('name')}: image {image!r} is not pinned "
                                "to a tag")
    report("images: each in imageConfig.yaml with its Dockerfile, every container pinned", problems,
           f"set by kustomize: {', '.join(sorted(set_names))}")


# ------------------------------------------------------------------ selectors and ports


def check_selectors(tree):
    problems = []
    pods = list(workloads(tree))
    for namespace, doc, template in pods:
        labels = template.get("metadata", {}).get("labels", {}) or {}
        selector = doc.get("spec", {}).get("selector")
        if doc.get("kind") != "Job" and not matches(selector, labels):
            problems.append(f"{label_of(doc)}: its selector {selector} does not match its pod labels {labels}")
        for constraint in template.get("spec", {}).get("topologySpreadConstraints") or []:
            if not matches(constraint.get("labelSelector"), labels):
                problems.append(f"{label_of(doc)}: topologySpreadConstraint selector does not match its own pods")
    for namespace, service in tree.all("Service"):
        selector = service.get("spec", {}).get("selector")
        if not selector:
            continue
        if not any(matches(selector, template.get("metadata", {}).get("labels", {}) or {})
                   for ns, _, template in pods if ns == namespace):
            problems.append(f"Service {namespace}/{service['metadata']['name']}: selector {selector} matches no pod "
                            "template")
    for namespace, pdb in tree.all("PodDisruptionBudget"):
        if not any(matches(pdb["spec"].get("selector"), template.get("metadata", {}).get("labels", {}) or {})
                   for ns, _, template in pods if ns == namespace):
            problems.append(f"PodDisruptionBudget {namespace}/{pdb['metadata']['name']} selects no pods")
    for namespace, monitor in tree.all("ServiceMonitor"):
        services = monitored_services(tree, namespace, monitor)
        if not services:
            problems.append(f"ServiceMonitor {namespace}/{monitor['metadata']['name']} selects no Service")
        for endpoint in monitor["spec"].get("endpoints", []):
            for service in services:
                names = {port.get("name") for port in service["spec"].get("ports", [])}
                if endpoint.get("port") and endpoint["port"] not in names:
                    problems.append(f"ServiceMonitor {monitor['metadata']['name']} scrapes port {endpoint['port']!r}, "
                                    f"which Service {service['metadata']['name']} does not have")
    report("selectors: Services, PodDisruptionBudgets and ServiceMonitors select what exists", problems)


def monitored_services(tree, namespace, monitor):
    selector = monitor["spec"].get("selector", {})
    namespaces = (monitor["spec"].get("namespaceSelector") or {}).get("matchNames") or [namespace]
    return [
        service
        for ns, service in tree.all("Service")
        if ns in namespaces and matches(selector, service.get("metadata", {}).get("labels", {}) or {})
    ]


def selected_pods(tree, namespace, selector):
    return [
        (doc, template)
        for ns, doc, template in workloads(tree)
        if ns == namespace and matches(selector, template.get("metadata", {}).get("labels", {}) or {})
    ]


def check_ports(tree):
    problems = []
    for namespace, service in tree.all("Service"):
        selector = service.get("spec", {}).get("selector")
        if not selector:
            continue
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port.get("port"))
            for doc, template in selected_pods(tree, namespace, selector):
                ports = [p for c in containers(template) for p in c.get("ports", []) or []]
                if isinstance(target, str):
                    ok = any(p.get("name") == target for p in ports)
                else:
                    ok = any(p.get("containerPort") == target for p in ports)
                if not ok:
                    problems.append(f"Service {service['metadata']['name']} port {port.get('name')} targets "
                                    f"{target!r}, which no container of {label_of(doc)} has")
    for namespace, doc, template in workloads(tree):
        for container in containers(template):
            names = {p.get("name") for p in container.get("ports", []) or []}
            for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(probe_name) or {}
                for handler in ("httpGet", "tcpSocket", "grpc"):
                    port = (probe.get(handler) or {}).get("port")
                    if isinstance(port, str) and port not in names:
                        problems.append(f"{label_of(doc)} container {container.get('name')}: {probe_name} uses port "
                                        f"{port!r}, which it does not name")
    for namespace, ingress in tree.all("Ingress"):
        for rule in ingress["spec"].get("rules", []):
            for path in (rule.get("http") or {}).get("paths", []):
                backend = path["backend"].get("service", {})
                service = tree.get(namespace, "Service", backend.get("name"))
                if not service:
                    problems.append(f"Ingress {ingress['metadata']['name']} routes to Service {backend.get('name')}, "
                                    "which does not exist")
                    continue
                port = backend.get("port", {})
                ports = service["spec"].get("ports", [])
                if "name" in port and not any(p.get("name") == port["name"] for p in ports):
                    problems.append(f"Ingress {ingress['metadata']['name']} routes to port {port['name']!r} of "
                                    f"{backend['name']}, which has no such port")
                if "number" in port and not any(p.get("port") == port["number"] for p in ports):
                    problems.append(f"Ingress {ingress['metadata']['name']} routes to port {port['number']} of "
                                    f"{backend['name']}, which has no such port")
                routed = [p for p in ports if p.get("name") == port.get("name") or p.get("port") == port.get("number")]
                if any(p.get("name") == "metrics" or p.get("targetPort") == "metrics" for p in routed):
                    problems.append(f"Ingress {ingress['metadata']['name']} routes the metrics port of {backend['name']}")
    report("ports: every targetPort, probe port and Ingress backend names a port that exists", problems)


# ------------------------------------------------------------------ references


SERVICE_URL = re.compile(
    r"[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::(\d+))?"
)


def check_references(tree):
    problems = []

    def need(namespace, kind, name, what):
        if not tree.get(namespace, kind, name):
            problems.append(f"{what} names {kind} {namespace}/{name}, which does not exist")
            return False
        return True

    for namespace, doc, template in workloads(tree):
        spec = template.get("spec", {})
        what = label_of(doc)
        if spec.get("serviceAccountName"):
            need(namespace, "ServiceAccount", spec["serviceAccountName"], what)
        for volume in spec.get("volumes", []) or []:
            if "configMap" in volume:
                need(namespace, "ConfigMap", volume["configMap"]["name"], f"{what} volume {volume['name']}")
            if "secret" in volume:
                need(namespace, "Secret", volume["secret"]["secretName"], f"{what} volume {volume['name']}")
        for container in containers(template):
            where = f"{what} container {container.get('name')}"
            for source in container.get("envFrom", []) or []:
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    ref = source.get(key)
                    if ref and not ref.get("optional"):
                        need(namespace, kind, ref["name"], where)
            for variable in container.get("env", []) or []:
                value_from = variable.get("valueFrom") or {}
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    ref = value_from.get(key)
                    if not ref or ref.get("optional"):
                        continue
                    if need(namespace, kind, ref["name"], f"{where} env {variable['name']}"):
                        keys = (tree.secret_keys.get((namespace, ref["name"]), set()) if kind == "Secret"
                                else set(tree.get(namespace, kind, ref["name"]).get("data", {}) or {}))
                        if ref["key"] not in keys:
                            problems.append(f"{where} env {variable['name']} reads key {ref['key']!r} of {kind} "
                                            f"{ref['name']}, which has only {sorted(keys)}")
    for namespace, rollout in tree.all("Rollout"):
        canary = rollout["spec"].get("strategy", {}).get("canary", {})
        for key in ("canaryService", "stableService"):
            if canary.get(key):
                need(namespace, "Service", canary[key], f"Rollout {rollout['metadata']['name']} {key}")
        analyses = [canary.get("analysis")] + [step.get("analysis") for step in canary.get("steps", [])]
        for analysis in filter(None, analyses):
            passed = {arg["name"] for arg in analysis.get("args", [])}
            for ref in analysis.get("templates", []):
                kind = "ClusterAnalysisTemplate" if ref.get("clusterScope") else "AnalysisTemplate"
                template = tree.get(namespace, kind, ref.get("templateName"))
                if not template:
                    problems.append(f"Rollout {rollout['metadata']['name']} names {kind} {ref.get('templateName')}, "
                                    "which does not exist")
                    continue
                declared = {arg["name"]: arg for arg in template["spec"].get("args", [])}
                for name in sorted(passed - set(declared)):
                    problems.append(f"Rollout {rollout['metadata']['name']} passes argument {name!r}, which "
                                    f"{ref['templateName']} does not declare")
                for name, arg in sorted(declared.items()):
                    if name not in passed and "value" not in arg and "valueFrom" not in arg:
                        problems.append(f"{ref['templateName']} needs argument {name!r}, which the Rollout does not pass")
    for namespace, template in tree.all("AnalysisTemplate"):
        declared = {arg["name"] for arg in template["spec"].get("args", [])}
        for metric in template["spec"].get("metrics", []):
            text = json.dumps(metric)
            for name in re.findall(r"\{\{\s*args\.([\w-]+)\s*\}\}", text):
                if name not in declared:
                    problems.append(f"AnalysisTemplate {template['metadata']['name']} metric {metric['name']} uses "
                                    f"args.{name}, which it does not declare")
    for namespace, hpa in tree.all("HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        target = tree.get(namespace, ref["kind"], ref["name"])
        if not target or target.get("apiVersion") != ref.get("apiVersion"):
            problems.append(f"HorizontalPodAutoscaler {hpa['metadata']['name']} scales {ref.get('apiVersion')} "
                            f"{ref['kind']} {ref['name']}, which does not exist")
        elif "replicas" in target.get("spec", {}):
            problems.append(f"{ref['kind']} {ref['name']} sets spec.replicas, which its HPA owns (Argo CD would undo "
                            "every scale)")
    for namespace, binding in tree.all("RoleBinding"):
        role = binding["roleRef"]
        need(namespace, role["kind"], role["name"], f"RoleBinding {binding['metadata']['name']}")
        for subject in binding.get("subjects", []):
            if subject["kind"] == "ServiceAccount":
                need(subject.get("namespace", namespace), "ServiceAccount", subject["name"],
                     f"RoleBinding {binding['metadata']['name']}")
    # The training runner's settings name objects it looks up at run time.
    for namespace, config in tree.all("ConfigMap"):
        data = config.get("data", {}) or {}
        if "ICANTKUBE_JOB_CONFIGMAP" not in data and "ICANTKUBE_JOB_IMAGE" not in data:
            continue
        job_namespace = data.get("ICANTKUBE_JOB_NAMESPACE", namespace)
        what = f"ConfigMap {config['metadata']['name']}"
        need(job_namespace, "ConfigMap", data.get("ICANTKUBE_JOB_CONFIGMAP", "icantkube"), f"{what} ICANTKUBE_JOB_CONFIGMAP")
        need(job_namespace, "Secret", data.get("ICANTKUBE_JOB_SECRET", "icantkube"), f"{what} ICANTKUBE_JOB_SECRET")
        if "ICANTKUBE_JOB_SERVICE_ACCOUNT" in data:
            account = tree.get(job_namespace, "ServiceAccount", data["ICANTKUBE_JOB_SERVICE_ACCOUNT"])
            if need(job_namespace, "ServiceAccount", data["ICANTKUBE_JOB_SERVICE_ACCOUNT"],
                    f"{what} ICANTKUBE_JOB_SERVICE_ACCOUNT") and account.get("automountServiceAccountToken") is not False:
                problems.append(f"ServiceAccount {data['ICANTKUBE_JOB_SERVICE_ACCOUNT']} of the training Jobs mounts "
                                "its token; they never call the API")
        servers = [
            (doc, container)
            for ns, doc, template in workloads(tree)
            if ns == namespace
            for container in containers(template)
            if (container.get("args") or [None])[0] == "serve"
            and any((source.get("configMapRef") or {}).get("name") == config["metadata"]["name"]
                    for source in container.get("envFrom", []) or [])
        ]
        for doc, container in servers:
            if data.get("ICANTKUBE_JOB_IMAGE") != container.get("image"):
                problems.append(f"{what} ICANTKUBE_JOB_IMAGE is {data.get('ICANTKUBE_JOB_IMAGE')!r}, the app's "
                                f"image ({label_of(doc)}) is {container.get('image')!r}")
        if not servers:
            problems.append(f"{what} holds training settings but no `serve` container reads it")
    # URLs of in-cluster Services (MLFLOW_TRACKING_URI, the simulator's target, Prometheus'
    # address of the analysis, MLflow's stores) name a Service and port that exist.
    for namespace, doc in tree.all():
        if doc.get("kind") in ("Application", "SealedSecret"):
            continue
        for service_name, service_namespace, port in SERVICE_URL.findall(json.dumps(doc)):
            service = tree.get(service_namespace, "Service", service_name)
            if service_name.endswith("-prometheus"):
                service = prometheus_service(tree, service_namespace, service_name)
            if not service:
                problems.append(f"{label_of(doc)} names http(s) service {service_name}.{service_namespace}.svc, which "
                                "does not exist")
            elif port and "spec" in service and not any(
                    p.get("port") == int(port) for p in service["spec"].get("ports", [])):
                problems.append(f"{label_of(doc)} names port {port} of {service_name}.{service_namespace}.svc, which it "
                                "does not have")
            elif not port and "spec" in service and not any(p.get("port") == 80 for p in service["spec"].get("ports", [])):
                problems.append(f"{label_of(doc)} names {service_name}.{service_namespace}.svc without a port; it has "
                                "no port 80")
    # Ingress classes are served by the tunnel controller's class.
    classes = set()
    for app in tree.applications:
        for source in sources(app):
            values = (source.get("helm") or {}).get("valuesObject") or {}
            if source.get("chart") == "cloudflare-tunnel-ingress-controller":
                classes.add((values.get("ingressClass") or {}).get("name", "cloudflare-tunnel"))
    for namespace, ingress in tree.all("Ingress"):
        if ingress["spec"].get("ingressClassName") not in classes:
            problems.append(f"Ingress {ingress['metadata']['name']} has class {ingress['spec'].get('ingressClassName')!r}; "
                            f"the controllers deployed serve {sorted(classes)}")
    # Applications deploy this repository's folders.
    roots = [app for app in tree.applications if any(s.get("path") == "kubernetes/argocd" for s in sources(app))]
    if len(roots) != 1:
        problems.append(f"{len(roots)} Applications deploy kubernetes/argocd; the app-of-apps needs exactly one")
    repo = sources(roots[0])[0]["repoURL"] if roots else None
    for app in tree.applications:
        for source in sources(app):
            if source.get("path") and source.get("repoURL") != repo:
                problems.append(f"Application {app['metadata']['name']} deploys {source['path']} from "
                                f"{source.get('repoURL')}, not {repo}")
            if source.get("chart") and not re.fullmatch(r"\d+\.\d+\.\d+", str(source.get("targetRevision"))):
                problems.append(f"Application {app['metadata']['name']}: chart {source['chart']} is not pinned to a "
                                f"version ({source.get('targetRevision')!r})")
    report("references: every object, key, Service and Application named exists", problems)


def prometheus_service(tree, namespace, name):
    """kube-prometheus-stack's Prometheus Service, from its Application (release name)."""
    for app in tree.applications:
        if app["spec"]["destination"].get("namespace") != namespace:
            continue
        for source in sources(app):
            if source.get("chart") == "kube-prometheus-stack":
                release = (source.get("helm") or {}).get("releaseName") or app["metadata"]["name"]
                if name == f"{release}-prometheus":
                    return {"kind": "Service", "spec": {"ports": [{"port": 9090}]}}
    return None


# ------------------------------------------------------------------ the binary


def binary_env(help_dir):
    names, flags = set(), {}
    for path in sorted(Path(help_dir).glob("*.txt")):
        text = path.read_text()
        names |= set(re.findall(r"\[env: ([A-Z][A-Z0-9_]*)", text))
        flags[path.stem] = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", text))
    return names, flags


def app_images(tree):
    """Repositories of the binary's image (what `images:` turns `icantkube` into)."""
    repositories = set()
    for folder in kustomization_dirs(tree):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text()) or {}
        for image in kustomization.get("images") or []:
            if image.get("name") == "icantkube":
                repositories.add(image.get("newName", "icantkube"))
    return repositories


def check_environment(tree, help_dir):
    names, flags = binary_env(help_dir)
    problems = []
    if not names:
        problems.append(f"no `[env: NAME` found in {help_dir}")
    repositories = app_images(tree)
    containers_checked = 0
    for namespace, doc, template in workloads(tree):
        for container in containers(template):
            if container.get("image", "").rsplit(":", 1)[0] not in repositories:
                continue
            containers_checked += 1
            where = f"{label_of(doc)} container {container.get('name')}"
            variables = {variable["name"]: "env" for variable in container.get("env", []) or []}
            for source in container.get("envFrom", []) or []:
                if source.get("configMapRef"):
                    config = tree.get(namespace, "ConfigMap", source["configMapRef"]["name"]) or {}
                    variables.update({key: f"ConfigMap {source['configMapRef']['name']}"
                                      for key in config.get("data", {}) or {}})
                if source.get("secretRef"):
                    variables.update({key: f"Secret {source['secretRef']['name']}"
                                      for key in tree.secret_keys.get((namespace, source["secretRef"]["name"]), set())})
            for variable, origin in sorted(variables.items()):
                if variable not in names:
                    problems.append(f"{where}: {variable} (from {origin}) is not a variable the binary reads")
            args = container.get("args") or []
            command = args[0] if args else "serve"
            if command not in flags:
                problems.append(f"{where}: `{command}` is not a command of the binary ({sorted(flags)})")
                continue
            for arg in args[1:]:
                if arg.startswith("--") and arg[2:].split("=", 1)[0] not in flags[command]:
                    problems.append(f"{where}: `{command}` has no flag {arg.split('=', 1)[0]}")
    if not containers_checked:
        problems.append(f"no container runs the binary's image ({sorted(repositories)})")
    report("environment: every variable given to the binary is one it reads (--help), every flag exists", problems,
           f"{containers_checked} containers, {len(names)} variables known")


# ------------------------------------------------------------------ analysis queries


def parse_metrics(text):
    families, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            families[parts[2]] = parts[3] if len(parts) > 3 else "untyped"
        elif line and not line.startswith("#"):
            name = re.split(r"[{ ]", line, maxsplit=1)[0]
            labels = dict(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', line.split("}")[0])) if "{" in line else {}
            samples.setdefault(name, []).append(labels)
    return families, samples


def exported(name, families, samples):
    """Whether a name in a query is a series the app exports: a sample's name, a family's, or
    a family's name with the suffix of its type (histogram: _bucket, _sum, _count; summary:
    _sum, _count; a counter family named without _total: _total)."""
    if name in samples or name in families:
        return True
    for suffix, types in (("_bucket", {"histogram"}), ("_sum", {"histogram", "summary"}),
                          ("_count", {"histogram", "summary"}), ("_total", {"counter"})):
        if name.endswith(suffix) and families.get(name[: -len(suffix)]) in types:
            return True
    return False


METRIC = re.compile(r"\b(icantkube_[a-z0-9_]+)\s*(\{[^}]*\})?")
MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "endpoint", "container"}


def check_queries(tree, metrics_file, promtool, work):
    problems = []
    families, samples = parse_metrics(Path(metrics_file).read_text())
    extra_labels = set()
    for _, monitor in tree.all("ServiceMonitor"):
        for endpoint in monitor["spec"].get("endpoints", []):
            for relabeling in endpoint.get("relabelings", []) or []:
                if relabeling.get("targetLabel"):
                    extra_labels.add(relabeling["targetLabel"])
    queries = []
    for _, template in tree.all("AnalysisTemplate"):
        for metric in template["spec"].get("metrics", []):
            query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query")
            if query:
                queries.append((f"{template['metadata']['name']}/{metric['name']}", query))
    if not queries:
        problems.append("no Prometheus query in any AnalysisTemplate")
    for where, query in queries:
        expr = re.sub(r"\{\{\s*args\.[\w-]+\s*\}\}", "placeholder", query)
        # promtool parses the query as a recording rule's expression.
        rules = Path(work) / f"query-{re.sub(r'[^a-zA-Z0-9]', '_', where)}.yaml"
        rules.write_text(yaml.safe_dump({"groups": [{"name": "analysis", "rules": [
            {"record": "analysis:" + re.sub(r"[^a-zA-Z0-9_]", "_", where), "expr": expr}]}]}))
        if promtool:
            result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
            if result.returncode != 0:
                problems.append(f"{where}: promtool cannot parse the query: "
                                f"{(result.stdout + result.stderr).strip().splitlines()[-1]}")
        names = METRIC.findall(expr)
        if not names:
            problems.append(f"{where}: names no icantkube_* metric")
        for name, selector in names:
            if not exported(name, families, samples):
                problems.append(f"{where}: {name} is not exported by the app")
                continue
            series = samples.get(name, [])
            if not series:
                problems.append(f"{where}: {name} had no sample to check its labels against")
                continue
            known = set().union(*(labels.keys() for labels in series)) | TARGET_LABELS | extra_labels | {"le"}
            for label, operator, value in MATCHER.findall(selector or ""):
                if label not in known:
                    problems.append(f"{where}: {name} has no label {label!r} (it has {sorted(known)})")
                    continue
                alternatives = value.split("|")
                if value != "placeholder" and all(re.fullmatch(r"[\w/-]+", a) for a in alternatives):
                    values = {labels.get(label) for labels in series}
                    if label in set().union(*(labels.keys() for labels in series)):
                        for alternative in alternatives:
                            if alternative not in values:
                                problems.append(f"{where}: {name}{{{label}}} never takes the value {alternative!r} "
                                                f"(seen: {sorted(v for v in values if v)})")
        for grouping in GROUPING.findall(expr):
            for label in filter(None, (part.strip() for part in grouping.split(","))):
                series_labels = set().union(*(labels.keys() for n, _ in names for labels in samples.get(n, [])))
                if label not in series_labels | TARGET_LABELS | extra_labels | {"le"}:
                    problems.append(f"{where}: groups by {label!r}, which no series of the query has")
    report("analysis queries parse (promtool) and name only metrics and labels the app exports", problems,
           f"{len(queries)} queries")


# ------------------------------------------------------------------ RBAC


def required_access(root):
    source = Path(root) / "server/src/training/kubernetes.rs"
    text = source.read_text()
    block = re.search(r"const REQUIRED_ACCESS\b[^=]*=\s*\[(.*?)\];", text, re.S)
    if not block:
        return None
    access = []
    for group, resource, verbs in re.findall(r'\(\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*&\[([^\]]*)\]\s*,?\s*\)',
                                             block.group(1)):
        access.append((group, resource, tuple(sorted(re.findall(r'"([^"]*)"', verbs)))))
    return sorted(access)


def check_rbac(tree):
    problems = []
    try:
        required = required_access(tree.root)
    except OSError as error:
        required = None
        problems.append(f"cannot read REQUIRED_ACCESS: {error}")
    if required is None and not problems:
        problems.append("no REQUIRED_ACCESS constant in server/src/training/kubernetes.rs")
    role_file = tree.kubernetes / "app/role.yaml"
    roles = [doc for doc in yaml.safe_load_all(role_file.read_text()) if doc]
    if len(roles) != 1 or roles[0].get("kind") != "Role":
        problems.append(f"{rel(tree, role_file)} must hold exactly one Role")
    elif required:
        role = roles[0]
        granted = []
        for rule in role.get("rules", []):
            if rule.get("resourceNames") or rule.get("nonResourceURLs"):
                problems.append(f"Role {role['metadata']['name']}: a rule with resourceNames or nonResourceURLs")
            for group in rule.get("apiGroups", []):
                for resource in rule.get("resources", []):
                    granted.append((group, resource, tuple(sorted(rule.get("verbs", [])))))
        if sorted(granted) != required:
            problems.append(f"Role {role['metadata']['name']} grants {sorted(granted)}, REQUIRED_ACCESS is {required}")
        # Bound to the ServiceAccount the app runs as, which mounts its token.
        bound = {
            subject["name"]
            for _, binding in tree.all("RoleBinding")
            if binding["roleRef"]["name"] == role["metadata"]["name"]
            for subject in binding.get("subjects", [])
        }
        for namespace, rollout in tree.all("Rollout"):
            spec = rollout["spec"]["template"]["spec"]
            account = spec.get("serviceAccountName", "default")
            if account not in bound:
                problems.append(f"Rollout {rollout['metadata']['name']} runs as {account}, which the Role is not "
                                f"bound to ({sorted(bound)})")
            if spec.get("automountServiceAccountToken") is False:
                problems.append(f"Rollout {rollout['metadata']['name']} does not mount its token; it creates Jobs")
    report("RBAC: role.yaml grants exactly REQUIRED_ACCESS, to the app's ServiceAccount", problems)


# ------------------------------------------------------------------ pod security


def seconds(duration):
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?", duration or "0s"):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}[unit]
    return total


def check_pod_security(tree):
    problems = []
    count = 0
    for namespace, doc, template in workloads(tree):
        count += 1
        spec = template.get("spec", {})
        pod = spec.get("securityContext", {}) or {}
        what = label_of(doc)
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(key):
                problems.append(f"{what}: {key}")
        if any("hostPath" in volume for volume in spec.get("volumes", []) or []):
            problems.append(f"{what}: a hostPath volume")
        if "automountServiceAccountToken" not in spec:
            problems.append(f"{what}: automountServiceAccountToken is not set (say whether it calls the API)")
        for container in containers(template):
            where = f"{what} container {container.get('name')}"
            context = container.get("securityContext", {}) or {}
            if not (context.get("runAsNonRoot", pod.get("runAsNonRoot"))):
                problems.append(f"{where}: runAsNonRoot is not true")
            if context.get("runAsUser", pod.get("runAsUser")) == 0:
                problems.append(f"{where}: runs as root")
            seccomp = (context.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{where}: seccompProfile is not RuntimeDefault")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if context.get("privileged"):
                problems.append(f"{where}: privileged")
            if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{where}: capabilities do not drop ALL")
            if set((context.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}:
                problems.append(f"{where}: adds capabilities")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root file system is not read-only")
            resources = container.get("resources", {}) or {}
            if not (resources.get("limits") or {}).get("memory"):
                problems.append(f"{where}: no memory limit")
            if not (resources.get("requests") or {}).get("memory") or not (resources.get("requests") or {}).get("cpu"):
                problems.append(f"{where}: no cpu and memory requests")
        # The binary's stop (ICANTKUBE_SHUTDOWN_DELAY, then up to _DRAIN) fits in the grace period.
        for container in containers(template):
            if (container.get("args") or [None])[0] != "serve":
                continue
            settings = {}
            for source in container.get("envFrom", []) or []:
                if source.get("configMapRef"):
                    settings.update((tree.get(namespace, "ConfigMap", source["configMapRef"]["name"]) or {}).get("data")
                                    or {})
            settings.update({v["name"]: v.get("value") for v in container.get("env", []) or [] if "value" in v})
            stop = seconds(settings.get("ICANTKUBE_SHUTDOWN_DELAY", "0s")) + seconds(
                settings.get("ICANTKUBE_SHUTDOWN_DRAIN", "20s"))
            grace = spec.get("terminationGracePeriodSeconds", 30)
            if grace <= stop:
                problems.append(f"{what}: terminationGracePeriodSeconds {grace} is not longer than "
                                f"ICANTKUBE_SHUTDOWN_DELAY + ICANTKUBE_SHUTDOWN_DRAIN ({stop:g}s)")
            if container.get("lifecycle", {}).get("preStop"):
                problems.append(f"{what}: a preStop hook; the binary's shutdown delay does that (and has no shell)")
    report("pods: Pod Security restricted, read-only root, requests and limits, grace period", problems,
           f"{count} pod templates")


# ------------------------------------------------------------------ main


def main(argv):
    if argv[:1] == ["to-json"]:
        to_json(argv[1], argv[2])
        return
    if argv[:1] == ["serve-env"]:
        for docs in renders(argv[1]).values():
            configs = {doc["metadata"]["name"]: doc.get("data", {}) or {} for doc in docs if doc.get("kind") == "ConfigMap"}
            for doc in docs:
                for container in containers(pod_template(doc) or {}):
                    if (container.get("args") or [None])[0] != "serve":
                        continue
                    for source in container.get("envFrom", []) or []:
                        name = (source.get("configMapRef") or {}).get("name")
                        for key, value in configs.get(name, {}).items():
                            print(f"{key}={value}")
                    for variable in container.get("env", []) or []:
                        if "value" in variable:
                            print(f"{variable['name']}={variable['value']}")
        return
    if argv[:1] == ["native"]:
        native(argv[1], argv[2])
        done()
        return
    if argv[:1] != ["cross"]:
        print(__doc__)
        sys.exit(2)
    options = {}
    rest = argv[1:]
    while rest:
        key, value, *rest = rest
        options[key.lstrip("-")] = value
    tree = Tree(options["kubernetes"], options["source-root"], options["rendered"])
    checks = [
        lambda: check_kustomizations(tree),
        lambda: check_comments(tree),
        lambda: check_images(tree, options["images-root"]),
        lambda: check_selectors(tree),
        lambda: check_ports(tree),
        lambda: check_references(tree),
        lambda: check_rbac(tree),
        lambda: check_pod_security(tree),
    ]
    if options.get("help-dir"):
        checks.append(lambda: check_environment(tree, options["help-dir"]))
    else:
        print("SKIPPED environment (no binary: set ICANTKUBE_BIN)")
    if options.get("metrics"):
        checks.append(lambda: check_queries(tree, options["metrics"], options.get("promtool"), options["work"]))
    else:
        print("SKIPPED analysis queries (no binary: set ICANTKUBE_BIN)")
    for check in checks:
        try:
            check()
        except Exception as error:  # a malformed manifest must fail the check, not crash the rest
            FAILURES.append(str(error))
            print(f"FAIL {check.__code__.co_names[0] if check.__code__.co_names else 'check'}: "
                  f"crashed on {type(error).__name__}: {error}", flush=True)
    done()


if __name__ == "__main__":
    main(sys.argv[1:])
