{{- define "ckw.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ckw.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ckw.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ckw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ckw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ckw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ckw.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "ckw.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "ckw.fullname" .)) -}}
{{- end -}}

{{/* Configuration shared by both roles: the ConfigMap and the Secret as environment variables. */}}
{{- define "ckw.envFrom" -}}
- configMapRef:
    name: {{ include "ckw.fullname" . }}-config
- secretRef:
    name: {{ include "ckw.secretName" . }}
{{- end -}}

{{/* Rolls pods when the configuration changes. */}}
{{- define "ckw.configChecksum" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end -}}

{{/* mTLS to Temporal (when temporal.mtls.secretName is set): the Secret mounted whole, since a subPath mount would never see a renewed certificate. */}}
{{- define "ckw.temporalTlsVolumeMount" -}}
- { name: temporal-tls, mountPath: {{ .Values.temporal.mtls.mountPath }}, readOnly: true }
{{- end -}}

{{- define "ckw.temporalTlsVolume" -}}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.mtls.secretName }}
    defaultMode: 0440
{{- end -}}
