#!/usr/bin/env sh
# Registers the search attributes CloudKeep Webhooks sets on every delivery (run once per namespace).
# The dev server started by `npm start` registers them itself.
set -eu
NS="${TEMPORAL_NAMESPACE:-default}"
temporal operator search-attribute create --namespace "$NS" \
  --name WebhookId --type Keyword \
  --name EventType --type Keyword \
  --name DeliveryStatus --type Keyword \
  --name VaultId --type Keyword
