{{- define "mcpgate.secretName" -}}
{{- if .Values.keys.existingSecret }}{{ .Values.keys.existingSecret }}{{ else }}{{ .Release.Name }}-keys{{ end -}}
{{- end -}}

{{- define "mcpgate.commonEnv" -}}
- name: MCPGATE_DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ include "mcpgate.secretName" . }}, key: database-url } }
- name: MCPGATE_REDIS_URL
  value: {{ .Values.redisUrl | quote }}
- name: MCPGATE_PUBLIC_API_URL
  value: {{ .Values.publicApiUrl | quote }}
- name: MCPGATE_PUBLIC_PROXY_URL
  value: {{ .Values.publicProxyUrl | quote }}
- name: MCPGATE_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: MCPGATE_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ include "mcpgate.secretName" . }}, key: secret-key } }
{{- end -}}
