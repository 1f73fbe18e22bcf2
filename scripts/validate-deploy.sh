#!/usr/bin/env bash
# Validates what an operator deploys, offline (`.ci/run` calls it):
#  1. the Helm chart: `helm lint` and `helm template` with each CI values file (deploy/helm/ci-values/), and the
#     optional mTLS Secret mounted as certificate rotation needs;
#  2. every rendered manifest against the Kubernetes JSON schemas, strictly (unknown fields are errors),
#     with kubernetes-validate from PyPI, which ships the schemas (no download from GitHub);
#  3. the Dockerfile's runtime stage without a container runtime: dist/ built, production dependencies only
#     (`npm ci --omit=dev`), and both production commands load every module they import.
# helm is built once per user with Go (like the Temporal CLI) under ~/.cache/cloudkeep-webhooks/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cloudkeep-webhooks"
HELM_VERSION=v3.19.0
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_VERSION=1.30.0
CHART=deploy/helm/cloudkeep-webhooks

HELM="$CACHE/helm-$HELM_VERSION/bin/helm"
if [ ! -x "$HELM" ]; then
  echo "Building helm $HELM_VERSION with Go into $CACHE/helm-$HELM_VERSION (once per user; a few minutes on 2 cores)…"
  (cd /tmp && GOBIN="$CACHE/helm-$HELM_VERSION/bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
fi
VENV="$CACHE/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  echo "Installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI, with the Kubernetes JSON schemas) into $VENV…"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== helm lint and template, validated against the Kubernetes $KUBERNETES_VERSION schemas"
for values in deploy/helm/ci-values/*.yaml; do
  name=$(basename "$values" .yaml)
  "$HELM" lint --strict "$CHART" -f "$values"
  "$HELM" template ckw "$CHART" -f "$values" --namespace cloudkeep > "$WORK/$name.yaml"
  kinds=$(grep -E '^kind: ' "$WORK/$name.yaml" | sort | uniq -c | awk '{print $3"×"$1}' | tr '\n' ' ')
  echo "$name: $kinds"
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$KUBERNETES_VERSION" "$WORK/$name.yaml"
done
# mTLS (self-hosted values): the client-certificate Secret mounted whole in both roles, never through subPath
# (a subPath mount never sees a renewed certificate), and the paths the configuration reads pointing into it.
test "$(grep -c 'name: temporal-tls, mountPath: /etc/temporal-tls, readOnly: true' "$WORK/self-hosted.yaml")" = 2
grep -q 'TEMPORAL_TLS_CLIENT_CERT_PATH: "/etc/temporal-tls/tls.crt"' "$WORK/self-hosted.yaml"
grep -q 'TEMPORAL_TLS_CLIENT_KEY_PATH: "/etc/temporal-tls/tls.key"' "$WORK/self-hosted.yaml"
if grep -q 'subPath' "$WORK/self-hosted.yaml"; then echo "a subPath mount in the chart: renewed certificates would not reach the pods" >&2; exit 1; fi
if grep -q 'temporal-tls' "$WORK/temporal-cloud.yaml"; then echo "mTLS rendered without temporal.mtls.secretName" >&2; exit 1; fi
# The chart refuses to render without its required settings, naming them.
if "$HELM" template ckw "$CHART" > "$WORK/missing.yaml" 2> "$WORK/missing.err"; then
  echo "helm template rendered without DATABASE_URL/SECRET_ENCRYPTION_KEY" >&2; exit 1
fi
grep -q 'secrets.values.DATABASE_URL is required' "$WORK/missing.err"

echo "== image runtime stage: dist/ with production dependencies only"
mkdir -p "$WORK/image"
cp package.json package-lock.json "$WORK/image/"
(cd "$WORK/image" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# Built inside the checkout (tsc and the bundler are dev dependencies, as in the Dockerfile's build stage).
npm run --silent build -- "$WORK/build" > /dev/null
mv "$WORK/build" "$WORK/image/dist"
for command in dist/api/server.js dist/worker.js; do
  # NODE_ENV=production without its required settings: every module loads, then configuration refuses.
  set +e
  output=$(cd "$WORK/image" && env -i PATH="$PATH" HOME="$WORK" NODE_ENV=production node "$command" 2>&1)
  status=$?
  set -e
  if [ $status -ne 1 ] || ! grep -q 'required in production' <<< "$output"; then
    echo "node $command did not load cleanly with production dependencies only (exit $status):" >&2
    echo "$output" >&2
    exit 1
  fi
  echo "node $command: loads with production dependencies, refuses an incomplete production configuration"
done
test -f "$WORK/image/dist/workflow-bundle.js"
echo "deploy: OK"
