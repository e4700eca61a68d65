#!/usr/bin/env bash
# Builds icantkube.Dockerfile with buildah and starts the image's entrypoint, then probes it.
#
#   ICANTKUBE_BIN=... LEPTOS_SITE_ROOT=... tests/image/check.sh
#
# Base images cannot be pulled here, so the build stage and the runtime base come from this
# machine: BINARIES is an image holding the test build's binary (stripped) and site, RUNTIME a
# base made from the libraries `ldd` lists for it, /etc/passwd with the user 65532 and the CA
# certificates: what the distroless base gives in production. The Dockerfile's runtime stage,
# its user, entrypoint, environment and file layout are the ones a cluster runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="${ICANTKUBE_BIN:?set ICANTKUBE_BIN to the built icantkube binary}"
site="${LEPTOS_SITE_ROOT:?set LEPTOS_SITE_ROOT to the built site}"
# shellcheck source=scripts/lib/icantkube.sh
source scripts/lib/icantkube.sh
say() { printf '\033[1m[image]\033[0m %s\n' "$*"; }
failed=0
check() {
  if [ "$1" = ok ]; then echo "PASS $2"; else echo "FAIL $2"; failed=1; fi
}

if ! command -v buildah >/dev/null; then
  say "installing buildah (Debian's package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >/dev/null
fi

work=$(mktemp -d)
server=""
pid=""
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  # Killing buildah would leave the server running: stop the server itself.
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  buildah_ rm --all >/dev/null 2>&1 || true
  # vfs layers are plain folders, some read-only: make them removable.
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
buildah_() {
  buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run" "$@"
}

say "a runtime base from this machine's libraries"
base="$work/base"
mkdir -p "$base/rootfs/etc/ssl/certs" "$base/rootfs/tmp"
chmod 1777 "$base/rootfs/tmp"
for library in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$base/rootfs$(dirname "$library")"
  cp -L "$library" "$base/rootfs$library"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
  >"$base/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$base/rootfs/etc/group"
cp /etc/ssl/certs/ca-certificates.crt "$base/rootfs/etc/ssl/certs/"
printf 'FROM scratch\nCOPY rootfs/ /\n' >"$base/Dockerfile"
buildah_ bud --isolation chroot -q -f "$base/Dockerfile" -t localhost/icantkube-test-base "$base" >/dev/null

say "the test build's binary and site as the build stage's /out"
binaries="$work/binaries"
mkdir -p "$binaries/out/data"
objcopy --strip-all "$bin" "$binaries/out/icantkube"
cp -r "$site" "$binaries/out/site"
printf 'FROM scratch\nCOPY out/ /out/\n' >"$binaries/Dockerfile"
buildah_ bud --isolation chroot -q -f "$binaries/Dockerfile" -t localhost/icantkube-test-binaries \
  "$binaries" >/dev/null

say "buildah bud -f icantkube.Dockerfile"
buildah_ bud --isolation chroot -q \
  --build-arg RUNTIME=localhost/icantkube-test-base \
  --build-arg BINARIES=localhost/icantkube-test-binaries \
  --build-arg BUILDER=localhost/not-pulled \
  -f icantkube.Dockerfile -t localhost/icantkube:test . >/dev/null
size=$(buildah_ images --format '{{.Size}}' localhost/icantkube:test)
say "image size: $size (base $(buildah_ images --format '{{.Size}}' localhost/icantkube-test-base))"

entrypoint=$(buildah_ inspect --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' localhost/icantkube:test)
command=$(buildah_ inspect --format '{{range .OCIv1.Config.Cmd}}{{.}} {{end}}' localhost/icantkube:test)
user=$(buildah_ inspect --format '{{.OCIv1.Config.User}}' localhost/icantkube:test)
if [ "$user" = "65532:65532" ]; then
  check ok "runs as 65532:65532"
else
  check no "runs as $user, not 65532:65532"
fi
read -r http_port metrics_port <<<"$(icantkube_free_ports 2)"
container=$(buildah_ from -q localhost/icantkube:test)
say "buildah run: $entrypoint$command on 127.0.0.1:$http_port"
# The image listens on 0.0.0.0; here on loopback, as the host's network is shared.
# shellcheck disable=SC2086
buildah_ run --isolation chroot \
  --env ICANTKUBE_LISTEN="127.0.0.1:$http_port" \
  --env ICANTKUBE_METRICS_LISTEN="127.0.0.1:$metrics_port" \
  --env ICANTKUBE_ADMIN_PASSWORD=image-test-password \
  "$container" -- $entrypoint $command >"$work/server.log" 2>&1 &
server=$!

ready=no
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null; then ready=ok; break; fi
  sleep 0.2
done
check "$ready" "/readyz answers 200"
if [ "$ready" = ok ]; then
  page=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$http_port/")
  if [ "${page##*$'\n'}" = 200 ] && grep -q 'icantkube' <<<"$page"; then
    check ok "the fleet page renders"
  else
    check no "the fleet page: ${page##*$'\n'}"
  fi
  # The page links the stylesheet by its hashed name, from the hash file in the site root.
  css=$(grep -o '/pkg/icantkube\.[A-Za-z0-9_-]*\.css' <<<"$page" | head -1 || true)
  answer=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: br' "http://127.0.0.1:$http_port${css:-/pkg/none.css}" | tr -d '\r')
  if [ -n "$css" ] && grep -q '^HTTP/[0-9.]* 200' <<<"$answer" &&
    grep -qi '^content-encoding: br$' <<<"$answer" &&
    grep -qi '^cache-control: public, max-age=31536000, immutable$' <<<"$answer"; then
    check ok "the site bundle is served from LEPTOS_SITE_ROOT: $css, precompressed, immutable"
  else
    check no "the page's stylesheet (${css:-none linked}) answered: $(head -1 <<<"$answer")"
  fi
  metrics=$(curl -s "http://127.0.0.1:$metrics_port/metrics")
  if grep -q '^icantkube_http_requests_total' <<<"$metrics"; then
    check ok "metrics on their own port"
  else
    check no "no metrics on port $metrics_port"
  fi
  pid=$(ss -ltnpH "sport = :$http_port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  owner=$(stat -c %u "/proc/$pid")
  if [ "$owner" = 65532 ]; then
    check ok "the server process is not root (uid $owner)"
  else
    check no "the server process runs as uid $owner"
  fi
  kill -TERM "$pid"
  stopped=no
  for _ in $(seq 1 100); do
    if ! kill -0 "$server" 2>/dev/null; then stopped=ok; break; fi
    sleep 0.2
  done
  if [ "$stopped" = ok ] && wait "$server"; then
    check ok "SIGTERM stops it cleanly (exit 0)"
    pid="" server=""
  else
    check no "SIGTERM did not stop it with exit 0"
  fi
else
  tail -20 "$work/server.log"
fi

# The MLflow image cannot be built here (its Python base is not pullable); it must at least
# pin the MLflow the tests run against.
tested=$(sed -n 's/^version=//p' scripts/mlflow-venv.sh)
if grep -q "mlflow==$tested " mlflow.Dockerfile; then
  check ok "mlflow.Dockerfile pins MLflow $tested, as the tests"
else
  check no "mlflow.Dockerfile does not pin mlflow==$tested (scripts/mlflow-venv.sh)"
fi
exit "$failed"
