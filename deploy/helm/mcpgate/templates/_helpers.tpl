{{- define "mcpgate.secretName" -}}
{{- if .Values.keys.existingSecret }}{{ .Values.keys.existingSecret }}{{ else }}{{ .Release.Name }}-keys{{ end -}}
{{- end -}}

{{- define "mcpgate.commonEnv" -}}
- name: MCPGATE_DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ include "mcpgate.secretName" . }}, key: database-url } }
{{- with .Values.redis.passwordSecret }}{{ if .name }}
- name: REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .name }}, key: {{ .key }} } }
{{- end }}{{ end }}
- name: MCPGATE_REDIS_URL
  value: {{ include "mcpgate.redisUrl" . | quote }}
- name: MCPGATE_PUBLIC_API_URL
  value: {{ .Values.publicApiUrl | quote }}
- name: MCPGATE_PUBLIC_PROXY_URL
  value: {{ .Values.publicProxyUrl | quote }}
- name: MCPGATE_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
{{- with .Values.otlp }}{{ if .endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | default "mcpgate" | quote }}
{{- end }}{{ end }}
- name: MCPGATE_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ include "mcpgate.secretName" . }}, key: secret-key } }
{{- end -}}


{{/* MCPGATE_REDIS_URL: redisUrl as is, or one node, a cluster's seeds or a Sentinel set. */}}
{{- define "mcpgate.redisUrl" -}}
{{- if .Values.redisUrl -}}
{{ .Values.redisUrl }}
{{- else -}}
{{- $r := .Values.redis -}}
{{- $auth := ternary ":$(REDIS_PASSWORD)@" "" (not (empty $r.passwordSecret.name)) -}}
{{- $scheme := ternary "rediss" "redis" (eq (toString $r.tls) "true") -}}
{{- if eq $r.mode "single" -}}
{{ $scheme }}://{{ $auth }}{{ required "redisUrl or redis.host is required" $r.host }}
{{- else if eq $r.mode "cluster" -}}
{{- if empty $r.nodes }}{{ fail "redis.nodes is required for a cluster" }}{{ end -}}
{{ $scheme }}+cluster://{{ $auth }}{{ join "," $r.nodes }}
{{- else if eq $r.mode "sentinel" -}}
{{- if empty $r.sentinels }}{{ fail "redis.sentinels is required for sentinel" }}{{ end -}}
{{ $scheme }}+sentinel://{{ $auth }}{{ join "," $r.sentinels }}/{{ required "redis.masterName is required" $r.masterName }}
{{- else -}}
{{- fail (printf "redis.mode must be single, cluster or sentinel, not %q" $r.mode) -}}
{{- end -}}
{{- end -}}
{{- end -}}
