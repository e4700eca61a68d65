// Validates the custom resources of the rendered manifests (Rollout, AnalysisTemplate,
// Application, ServiceMonitor, PrometheusRule, SealedSecret, ...) against the schemas of the
// @kubernetes-models packages in package.json, for tests/kubernetes/check.sh.
//
//   node validate_custom.mjs DOCUMENTS.json
//
// DOCUMENTS.json is a list of {"source": "app", "doc": {...}} (check_manifests.py to-json
// writes it from the rendered YAML). Objects of Kubernetes' own API groups (no dot in the
// group, or one ending in .k8s.io) are skipped: kubernetes-validate checks those. Every other
// object must have a model in one of the packages, or it fails: nothing is left unchecked.
//
// Beware: the compiled validators of these packages do NOT reject unknown fields (a
// misspelt optional field such as `canarySevice` passes `validate()`). Two things make up for
// it. Here, every field name of a custom resource must be a property some validator of its
// package (or of apimachinery's shared types) knows: a name found nowhere in those schemas is
// a typo. That is coarse (a known name in the wrong place passes), so check_manifests.py's
// cross-reference checks cover the fields the deployment relies on (the Services a Rollout
// names, its analysis template and arguments, the ServiceMonitor's selector and port, the
// queries' metrics, ...), and the Rollout's pod template is validated strictly by
// kubernetes-validate as a core PodTemplate. Free-form maps (labels, annotations, Helm
// values, sealed data) and the pod template are not searched.
//
// One line per object: `PASS kind/name (source)` or `FAIL kind/name (source): errors`; exits
// 1 when one failed.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const modules = join(dirname(fileURLToPath(import.meta.url)), "node_modules");

// The packages that hold models, by API group; a group may be in several (argoproj.io).
const PACKAGES = {
  "argoproj.io": ["@kubernetes-models/argo-rollouts", "@kubernetes-models/argo-cd"],
  "monitoring.coreos.com": ["@kubernetes-models/prometheus-operator"],
  "bitnami.com": ["@kubernetes-models/sealed-secrets"],
};

function builtin(group) {
  return group === "" || !group.includes(".") || group.endsWith(".k8s.io");
}

async function model(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  for (const pkg of PACKAGES[group] ?? []) {
    try {
      const module = await import(`${pkg}/${group}/${version}/${kind}`);
      if (module[kind]) return module[kind];
    } catch (error) {
      if (error.code !== "ERR_MODULE_NOT_FOUND" && error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") {
        throw error;
      }
    }
  }
  return null;
}

// Property names the compiled validators of these packages test (`data.name`, `data["a-b"]`).
const known = new Map();
function knownProperties(packages) {
  const key = packages.join(" ");
  if (!known.has(key)) {
    const names = new Set();
    for (const pkg of [...packages, "@kubernetes-models/apimachinery"]) {
      const folder = join(modules, pkg, "_schemas");
      for (const file of readdirSync(folder)) {
        if (!file.endsWith(".js")) continue;
        const code = readFileSync(join(folder, file), "utf8");
        for (const match of code.matchAll(/\bdata\.([A-Za-z_$][\w$]*)|\bdata\["([^"]+)"\]/g)) {
          names.add(match[1] ?? match[2]);
        }
      }
    }
    known.set(key, names);
  }
  return known.get(key);
}

// Maps whose keys are the user's own, not the schema's.
const FREE_FORM = new Set(["labels", "annotations", "matchLabels", "encryptedData", "valuesObject", "data",
  "stringData", "nodeSelector"]);

function unknownFields(doc, names) {
  const unknown = [];
  const walk = (value, path) => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}[${index}]`));
      return;
    }
    if (value === null || typeof value !== "object") return;
    for (const [key, child] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (!names.has(key)) unknown.push(here);
      // metadata is ObjectMeta; a Rollout's pod template is checked as a core PodTemplate.
      if (FREE_FORM.has(key) || key === "metadata" || (doc.kind === "Rollout" && here === "spec.template")) continue;
      walk(child, here);
    }
  };
  walk(doc, "");
  return unknown.filter((path) => !["apiVersion", "kind", "metadata", "spec"].includes(path));
}

const documents = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = 0;
let checked = 0;
for (const { source, doc } of documents) {
  const apiVersion = String(doc?.apiVersion ?? "");
  const kind = String(doc?.kind ?? "");
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const name = `${kind}/${doc?.metadata?.name ?? "?"} (${source})`;
  if (!apiVersion || !kind) {
    console.log(`FAIL ${name}: no apiVersion or kind`);
    failed += 1;
    continue;
  }
  if (builtin(group)) continue;
  const Kind = await model(apiVersion, kind);
  if (!Kind) {
    console.log(`FAIL ${name}: no schema for ${apiVersion} ${kind} in ${Object.values(PACKAGES).flat().join(", ")}`);
    failed += 1;
    continue;
  }
  checked += 1;
  const problems = [];
  try {
    new Kind(doc).validate();
  } catch (error) {
    problems.push(error.message);
  }
  const unknown = unknownFields(doc, knownProperties(PACKAGES[group]));
  if (unknown.length) problems.push(`fields no schema of ${PACKAGES[group].join(" or ")} knows: ${unknown.join(", ")}`);
  if (problems.length) {
    console.log(`FAIL ${apiVersion} ${name}: ${problems.join("; ")}`);
    failed += 1;
  } else {
    console.log(`PASS ${apiVersion} ${name}`);
  }
}
console.log(`${checked} custom resources checked, ${failed} failed`);
process.exit(failed ? 1 : 0);
